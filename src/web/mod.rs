//! The browser face of webgan: one opaque [`Generator`] handle for JavaScript, a thin layer over
//! a [`Session`] (which validates, chunks, picks the backend and reads back). The model, its
//! compiled plans and every output stay in Rust (on the GPU where there is one); JS passes
//! latents in and gets small results back. What is here is only what a page adds: the canvas
//! (drawn straight from the GPU buffer on WebGPU, through a 2D context on the CPU), the grid
//! scale, and calls queued in order.

mod adapter;
mod canvas;
mod draw;
mod engine;
mod info;
mod output;
mod queue;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::error::{Error, Result};
use crate::gpu::Plan;
use crate::image::{grid, grid_columns, upscale};
use crate::model::{Model, Shape};
use crate::session::{self, Backend, BackendChoice, Session};
use crate::tensor::Tensor;
use queue::Queue;

pub use draw::grid_size;
pub use engine::{Critic, Engine};
pub use output::Output;

fn js_error(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

fn option_string(options: &JsValue, key: &str) -> Option<String> {
    if options.is_undefined() || options.is_null() {
        return None;
    }
    js_sys::Reflect::get(options, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

/// A model ready to generate in this page, on WebGPU or on the CPU.
#[wasm_bindgen]
pub struct Generator {
    session: Session,
    canvas: HtmlCanvasElement,
    surface: Surface,
    scale: Cell<u32>,
    /// What the canvas shows now.
    shown: RefCell<Option<Shown>>,
    /// The discriminator that scores the images on the canvas, once one is set.
    critic: RefCell<Option<Rc<session::Critic>>>,
    queue: Queue,
}

/// How the canvas is drawn.
enum Surface {
    /// From the plan's output buffer; `binds` keeps each recent plan's draw bind group.
    WebGpu { facts: String, renderer: draw::CanvasRenderer, binds: RefCell<Vec<(Rc<Plan>, wgpu::BindGroup)>> },
    /// Pixels put through a 2D context.
    Cpu { context: CanvasRenderingContext2d },
}

/// The images on the canvas: still in a plan's output buffer, or on the CPU.
enum Shown {
    Gpu { plan: Rc<Plan>, count: usize },
    Cpu(Tensor),
}

impl Shown {
    fn count(&self) -> usize {
        match self {
            Shown::Gpu { count, .. } => *count,
            Shown::Cpu(t) => t.batch(),
        }
    }
}

fn context_2d(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or_else(|| Error::Input("the canvas has no 2D context (it was used for WebGPU before); pass a fresh <canvas>".into()))
}

#[wasm_bindgen]
impl Generator {
    /// Loads a model from the text of `model.json` and the bytes of its weights (both checked:
    /// size, SHA-256, every tensor's shape), and picks the backend for `canvas`.
    /// `options.backend`: `"auto"` (default: WebGPU if it has an adapter, else the CPU),
    /// `"webgpu"` (fail without WebGPU) or `"cpu"` (with `options.reason` to show why). The
    /// canvas must be fresh: it gets a `webgpu` or a `2d` context for good.
    pub async fn create(
        manifest_json: String,
        weights: Vec<u8>,
        canvas: HtmlCanvasElement,
        options: JsValue,
    ) -> std::result::Result<Generator, JsError> {
        // (Setting a panic hook panics while a panic is pending, as after a failed wasm test.)
        if !std::thread::panicking() {
            console_error_panic_hook::set_once();
        }
        let model = Model::from_parts(&manifest_json, &weights).map_err(js_error)?;
        drop(weights);
        let choice = BackendChoice::parse(&option_string(&options, "backend").unwrap_or_else(|| "auto".into()))
            .map_err(|e| JsError::new(&format!("options.{e}")))?;
        let session = match (choice, option_string(&options, "reason")) {
            (BackendChoice::Cpu, Some(reason)) => Session::cpu(model, reason),
            _ => Session::open(model, choice).await.map_err(js_error)?,
        };
        let surface = match session.backend() {
            Backend::Gpu { gpu, .. } => {
                let renderer = draw::CanvasRenderer::new(gpu, wgpu::SurfaceTarget::Canvas(canvas.clone())).map_err(js_error)?;
                gpu.check().map_err(js_error)?;
                Surface::WebGpu { facts: adapter::facts().await, renderer, binds: RefCell::new(Vec::new()) }
            }
            Backend::Cpu { .. } => Surface::Cpu { context: context_2d(&canvas).map_err(js_error)? },
        };
        Ok(Generator {
            session,
            canvas,
            surface,
            scale: Cell::new(1),
            shown: RefCell::new(None),
            critic: RefCell::new(None),
            queue: Queue::default(),
        })
    }

    /// True once the GPU device was lost: create a new generator (and canvas).
    #[wasm_bindgen(js_name = isLost)]
    pub fn is_lost(&self) -> bool {
        self.session.gpu_device().is_some_and(|g| g.is_lost())
    }

    /// Destroys the GPU device, as a driver reset would (for tests of the recovery path).
    #[wasm_bindgen(js_name = destroyDevice)]
    pub fn destroy_device(&self) {
        if let Some(gpu) = self.session.gpu_device() {
            gpu.device.destroy();
        }
    }

    /// Generates `count` images from `latents` (`[count, latentDim]`, and one class each for
    /// a conditional model) and draws them as a grid on the canvas. On WebGPU the output is
    /// drawn from the GPU buffer; the promise resolves when the GPU has finished. Calls run one
    /// at a time, in order.
    pub async fn generate(
        &self,
        latents: Vec<f32>,
        count: usize,
        classes: Option<Vec<u32>>,
    ) -> std::result::Result<(), JsError> {
        let _turn = self.queue.turn().await;
        let z = self.session.latents(latents, count, classes.as_deref()).map_err(js_error)?;
        let scale = self.scale.get();
        let shown = match (&self.surface, self.session.gpu_device()) {
            (Surface::WebGpu { renderer, binds, .. }, Some(gpu)) => {
                let plan = self.session.run_on_gpu(&z, classes.as_deref()).await.map_err(js_error)?;
                let bind = bind_group(renderer, binds, gpu, &plan);
                renderer.draw(gpu, &bind, plan.output_shape(), count, grid_columns(count), scale).map_err(js_error)?;
                draw::work_done(gpu).await;
                gpu.check().map_err(js_error)?;
                Shown::Gpu { plan, count }
            }
            (Surface::Cpu { context }, _) => {
                let out = self.session.generate(&z, classes.as_deref()).await.map_err(js_error)?;
                let image = upscale(&grid(&out, grid_columns(count)).map_err(js_error)?, scale as usize);
                self.canvas.set_width(image.width as u32);
                self.canvas.set_height(image.height as u32);
                let data =
                    ImageData::new_with_u8_clamped_array_and_sh(Clamped(&image.pixels), image.width as u32, image.height as u32)
                        .map_err(|e| JsError::new(&format!("could not make the image: {e:?}")))?;
                context.put_image_data(&data, 0.0, 0.0).map_err(|e| JsError::new(&format!("drawing failed: {e:?}")))?;
                Shown::Cpu(out)
            }
            _ => return Err(JsError::new("the canvas and the backend disagree; create the generator again")),
        };
        *self.shown.borrow_mut() = Some(shown);
        Ok(())
    }

    /// Generates and reads the output back, `[count, C, H, W]` floats in [-1, 1] (NCHW), without
    /// drawing: for tests, downloads and benchmarks.
    #[wasm_bindgen(js_name = generateFloats)]
    pub async fn generate_floats(
        &self,
        latents: Vec<f32>,
        count: usize,
        classes: Option<Vec<u32>>,
    ) -> std::result::Result<Vec<f32>, JsError> {
        let _turn = self.queue.turn().await;
        let z = self.session.latents(latents, count, classes.as_deref()).map_err(js_error)?;
        Ok(self.session.generate(&z, classes.as_deref()).await.map_err(js_error)?.data)
    }

    /// The grid now on the canvas as RGBA bytes at scale 1 (`gridWidth(drawnCount)` ×
    /// `gridHeight(drawnCount)`), read back from the GPU output: for PNG downloads.
    #[wasm_bindgen(js_name = gridPixels)]
    pub async fn grid_pixels(&self) -> std::result::Result<Clamped<Vec<u8>>, JsError> {
        let _turn = self.queue.turn().await;
        let out = self.shown_output().await.map_err(js_error)?;
        Ok(Clamped(grid(&out, grid_columns(out.batch())).map_err(js_error)?.pixels))
    }

    /// Image `index` of the grid now on the canvas as RGBA bytes (`width` × `height`).
    #[wasm_bindgen(js_name = imagePixels)]
    pub async fn image_pixels(&self, index: usize) -> std::result::Result<Clamped<Vec<u8>>, JsError> {
        let _turn = self.queue.turn().await;
        let out = self.shown_output().await.map_err(js_error)?;
        let one = out.samples(&[index]).map_err(|_| {
            JsError::new(&format!("image {index} is not on the canvas; it shows {}", out.batch()))
        })?;
        Ok(Clamped(grid(&one, 1).map_err(js_error)?.pixels))
    }

    /// Sets the discriminator that [`realness`](Self::realness) runs, from the text of its
    /// `model.json` and its weights (checked like a generator's). It must take this generator's
    /// images (flattened NCHW) and output one logit.
    #[wasm_bindgen(js_name = setDiscriminator)]
    pub fn set_discriminator(&self, manifest_json: String, weights: Vec<u8>) -> std::result::Result<(), JsError> {
        let model = Model::from_parts(&manifest_json, &weights).map_err(js_error)?;
        *self.critic.borrow_mut() = Some(Rc::new(self.session.critic(model).map_err(js_error)?));
        Ok(())
    }

    /// True once a discriminator is set.
    #[wasm_bindgen(getter, js_name = hasDiscriminator)]
    pub fn has_discriminator(&self) -> bool {
        self.critic.borrow().is_some()
    }

    /// The discriminator's logit for each image on the canvas, in grid order (higher: more
    /// real), on the generator's backend. On WebGPU the images make one round trip (read back,
    /// then uploaded as the discriminator's NCHW input: 2.4 MB for 64 emoji), which is small
    /// beside the discriminator's own work.
    pub async fn realness(&self) -> std::result::Result<Vec<f32>, JsError> {
        let _turn = self.queue.turn().await;
        let critic = self.critic.borrow().clone().ok_or_else(|| {
            JsError::new("this model has no discriminator; set one with setDiscriminator first")
        })?;
        let images = self.shown_output().await.map_err(js_error)?;
        critic.realness(&images).await.map_err(js_error)
    }
}

impl Generator {
    fn model(&self) -> &Model {
        self.session.model()
    }

    fn output_shape(&self) -> Shape {
        self.session.output_shape()
    }

    fn drawn(&self) -> usize {
        self.shown.borrow().as_ref().map_or(0, Shown::count)
    }

    /// The images on the canvas, `[N, C, H, W]` (read back from the GPU buffer it shows).
    async fn shown_output(&self) -> Result<Tensor> {
        let nothing = || Error::Input("nothing has been drawn yet; call generate first".into());
        let gpu_plan = match self.shown.borrow().as_ref().ok_or_else(nothing)? {
            Shown::Cpu(t) => return Ok(t.clone()),
            Shown::Gpu { plan, count } => (plan.clone(), *count),
        };
        let gpu = self.session.gpu_device().ok_or_else(nothing)?;
        gpu_plan.0.read_output(gpu, gpu_plan.1).await
    }
}

/// The draw bind group of `plan`'s output, made once per plan (the last few are kept).
fn bind_group(
    renderer: &draw::CanvasRenderer,
    binds: &RefCell<Vec<(Rc<Plan>, wgpu::BindGroup)>>,
    gpu: &crate::gpu::Gpu,
    plan: &Rc<Plan>,
) -> wgpu::BindGroup {
    let mut binds = binds.borrow_mut();
    if let Some((_, b)) = binds.iter().find(|(p, _)| Rc::ptr_eq(p, plan)) {
        return b.clone();
    }
    let bind = renderer.bind(gpu, plan.output_buffer());
    binds.push((plan.clone(), bind.clone()));
    if binds.len() > 4 {
        binds.remove(0);
    }
    bind
}
