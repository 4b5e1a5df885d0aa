//! The browser face of webgan: one opaque [`Generator`] handle for JavaScript. The model, its
//! compiled plans and every output stay in Rust (on the GPU where there is one); JS passes
//! latents in and gets small results back. WebGPU when `navigator.gpu` gives an adapter, else
//! the CPU reference ([`crate::cpu::forward`]) drawing through a 2D canvas, with the reason.

mod draw;
mod realness;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use crate::discriminator::Discriminator;
use crate::error::{Error, Result};
use crate::gpu::layout::{from_gpu, padded_len};
use crate::gpu::{Gpu, Plan};
use crate::image::{GridLayout, Rgba, grid, grid_columns};
use crate::model::{Model, Shape};
use crate::tensor::Tensor;
use crate::{cpu, latent};
use realness::Realness;

pub use draw::grid_size;

/// Largest batch one `generate` call takes (the page offers 1–64).
pub const MAX_COUNT: usize = 256;
/// Compiled plans kept per generator: each holds its own activations on the GPU (the weights
/// are uploaded once and shared, see `gpu::weight_cache`).
const PLAN_CACHE: usize = 4;

fn js_error(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

/// A model ready to generate in this page, on WebGPU or on the CPU.
#[wasm_bindgen]
pub struct Generator {
    model: Model,
    canvas: HtmlCanvasElement,
    scale: Cell<u32>,
    backend: Backend,
    /// Images in the grid on the canvas now (0 before the first draw).
    drawn: Cell<usize>,
    busy: Cell<bool>,
    /// The discriminator that scores the images on the canvas, once one is set.
    realness: RefCell<Option<Rc<Realness>>>,
}

enum Backend {
    WebGpu(WebGpu),
    Cpu { reason: String, context: CanvasRenderingContext2d, last: RefCell<Option<Tensor>> },
}

struct WebGpu {
    gpu: Gpu,
    /// Vendor and architecture from `GPUAdapter.info` (wgpu does not map them on the web).
    facts: String,
    renderer: draw::CanvasRenderer,
    /// Most recently used last.
    plans: RefCell<Vec<Rc<Compiled>>>,
    /// The plan whose output is on the canvas.
    last: RefCell<Option<Rc<Compiled>>>,
}

/// A plan for one batch size and the bind group that draws its output.
struct Compiled {
    plan: Plan,
    draw: wgpu::BindGroup,
}

/// Clears the busy flag however a call ends.
struct BusyGuard<'a>(&'a Cell<bool>);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

fn navigator_has_gpu() -> bool {
    web_sys::window()
        .map(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("gpu")).map(|g| !g.is_undefined() && !g.is_null()))
        .and_then(|r| r.ok())
        .unwrap_or(false)
}

/// "vendor …, architecture …, fallback adapter" from the browser's own `GPUAdapterInfo`.
async fn adapter_facts() -> String {
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let Some(window) = web_sys::window() else { return String::new() };
    let gpu = get(&window.navigator(), "gpu");
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<js_sys::Function>() else { return String::new() };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"powerPreference".into(), &"high-performance".into());
    let Ok(promise) = request.call1(&gpu, &options).and_then(|p| p.dyn_into::<js_sys::Promise>()) else {
        return String::new();
    };
    let Ok(adapter) = wasm_bindgen_futures::JsFuture::from(promise).await else { return String::new() };
    if adapter.is_null() || adapter.is_undefined() {
        return String::new();
    }
    let info = get(&adapter, "info");
    let mut parts = Vec::new();
    for key in ["vendor", "architecture"] {
        if let Some(v) = get(&info, key).as_string().filter(|v| !v.is_empty()) {
            parts.push(format!("{key} {v}"));
        }
    }
    if get(&info, "isFallbackAdapter").as_bool() == Some(true) {
        parts.push("fallback adapter".into());
    }
    parts.join(", ")
}

fn option_string(options: &JsValue, key: &str) -> Option<String> {
    if options.is_undefined() || options.is_null() {
        return None;
    }
    js_sys::Reflect::get(options, &JsValue::from_str(key)).ok().and_then(|v| v.as_string())
}

fn context_2d(canvas: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or_else(|| Error::Input("the canvas has no 2D context (it was used for WebGPU before); pass a fresh <canvas>".into()))
}

/// `image` scaled up `scale` times, nearest neighbour.
fn upscale(image: &Rgba, scale: usize) -> Rgba {
    if scale == 1 {
        return image.clone();
    }
    let (width, height) = (image.width * scale, image.height * scale);
    let mut pixels = vec![0u8; width * height * 4];
    for y in 0..height {
        let src = (y / scale) * image.width;
        for x in 0..width {
            let from = (src + x / scale) * 4;
            pixels[(y * width + x) * 4..][..4].copy_from_slice(&image.pixels[from..from + 4]);
        }
    }
    Rgba { width, height, pixels }
}

#[wasm_bindgen]
impl Generator {
    /// Loads a model from the text of `model.json` and the bytes of its weights (both checked:
    /// size, SHA-256, every tensor's shape), and picks the backend for `canvas`.
    /// `options.backend`: `"auto"` (default: WebGPU if it has an adapter, else the CPU),
    /// `"webgpu"` (fail without WebGPU) or `"cpu"` (with `options.reason` to show why). The canvas must be fresh: it gets a `webgpu`
    /// or a `2d` context for good.
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
        let choice = option_string(&options, "backend").unwrap_or_else(|| "auto".into());
        let cpu_reason = match choice.as_str() {
            "cpu" => Some(option_string(&options, "reason").unwrap_or_else(|| "the CPU backend was requested".into())),
            "auto" | "webgpu" => None,
            other => return Err(JsError::new(&format!("options.backend is `{other}`; use \"auto\", \"webgpu\" or \"cpu\""))),
        };
        let backend = match cpu_reason {
            Some(reason) => Self::cpu_backend(&canvas, reason)?,
            None if !navigator_has_gpu() => {
                if choice == "webgpu" {
                    return Err(JsError::new("this browser has no WebGPU (navigator.gpu is missing)"));
                }
                Self::cpu_backend(&canvas, "this browser has no WebGPU (navigator.gpu is missing)".into())?
            }
            None => match Gpu::new().await {
                Ok(gpu) => {
                    let renderer = draw::CanvasRenderer::new(&gpu, canvas.clone()).map_err(js_error)?;
                    gpu.check().map_err(js_error)?;
                    let facts = adapter_facts().await;
                    Backend::WebGpu(WebGpu { gpu, facts, renderer, plans: RefCell::new(Vec::new()), last: RefCell::new(None) })
                }
                Err(e) if choice == "webgpu" => return Err(js_error(e)),
                Err(Error::NoAdapter(_)) => Self::cpu_backend(
                    &canvas,
                    "navigator.gpu exists but offers no adapter (WebGPU is switched off, or this GPU is blocklisted)".into(),
                )?,
                Err(e) => Self::cpu_backend(&canvas, format!("WebGPU could not start: {e}"))?,
            },
        };
        Ok(Generator {
            model,
            canvas,
            scale: Cell::new(1),
            backend,
            drawn: Cell::new(0),
            busy: Cell::new(false),
            realness: RefCell::new(None),
        })
    }

    fn cpu_backend(canvas: &HtmlCanvasElement, reason: String) -> std::result::Result<Backend, JsError> {
        let context = context_2d(canvas).map_err(js_error)?;
        Ok(Backend::Cpu { reason, context, last: RefCell::new(None) })
    }

    /// `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        match self.backend {
            Backend::WebGpu(_) => "webgpu".into(),
            Backend::Cpu { .. } => "cpu".into(),
        }
    }

    /// What runs the model: the adapter (name, vendor, architecture, kernel tuning) or
    /// `CPU fallback: <why>`.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        match &self.backend {
            Backend::WebGpu(w) => {
                let mut parts: Vec<&str> = Vec::new();
                if !w.gpu.info.name.is_empty() {
                    parts.push(&w.gpu.info.name);
                }
                if !w.facts.is_empty() {
                    parts.push(&w.facts);
                }
                let tuning = match w.gpu.tuning {
                    crate::gpu::Tuning::Gpu => "shared-memory tiled kernels",
                    crate::gpu::Tuning::Emulator => "register-blocked kernels for a CPU emulator",
                };
                let adapter = if parts.is_empty() { "adapter without a name".to_string() } else { parts.join(", ") };
                format!("WebGPU: {adapter} ({tuning})")
            }
            Backend::Cpu { reason, .. } => format!("CPU fallback: {reason}"),
        }
    }

    /// Why the CPU is used, or `undefined` on WebGPU.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        match &self.backend {
            Backend::WebGpu(_) => None,
            Backend::Cpu { reason, .. } => Some(reason.clone()),
        }
    }

    /// The model's name in its manifest.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.model.manifest.name.clone()
    }

    #[wasm_bindgen(getter, js_name = latentDim)]
    pub fn latent_dim(&self) -> usize {
        self.model.manifest.latent_dim
    }

    /// Number of classes of a conditional model; 0 for an unconditional one.
    #[wasm_bindgen(getter, js_name = numClasses)]
    pub fn num_classes(&self) -> usize {
        self.model.manifest.num_classes.unwrap_or(0)
    }

    /// Width of one output image in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        self.image_shape().2
    }

    /// Height of one output image in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> usize {
        self.image_shape().1
    }

    /// Channels of one output image (1 or 3).
    #[wasm_bindgen(getter)]
    pub fn channels(&self) -> usize {
        self.image_shape().0
    }

    /// FLOPs of one image (2 × multiply-adds), for GFLOP/s.
    #[wasm_bindgen(getter, js_name = flopsPerImage)]
    pub fn flops_per_image(&self) -> f64 {
        2.0 * self.model.macs_per_sample() as f64
    }

    /// Largest `count` a call takes.
    #[wasm_bindgen(getter, js_name = maxCount)]
    pub fn max_count(&self) -> usize {
        MAX_COUNT
    }

    /// Canvas pixels per image pixel.
    #[wasm_bindgen(getter)]
    pub fn scale(&self) -> u32 {
        self.scale.get()
    }

    /// Sets the integer scale of the next draw (1–16): canvas size = grid size × scale.
    #[wasm_bindgen(setter)]
    pub fn set_scale(&self, scale: u32) {
        self.scale.set(scale.clamp(1, 16));
    }

    /// Grid width in image pixels for `count` images (canvas width = this × scale).
    #[wasm_bindgen(js_name = gridWidth)]
    pub fn grid_width(&self, count: usize) -> u32 {
        grid_size(self.output_shape(), count).0
    }

    /// Grid height in image pixels for `count` images.
    #[wasm_bindgen(js_name = gridHeight)]
    pub fn grid_height(&self, count: usize) -> u32 {
        grid_size(self.output_shape(), count).1
    }

    /// Images in the grid now on the canvas (0 before the first draw).
    #[wasm_bindgen(getter, js_name = drawnCount)]
    pub fn drawn_count(&self) -> usize {
        self.drawn.get()
    }

    /// The image under canvas pixel (`x`, `y`) of the grid on the canvas, or -1 for a gap.
    #[wasm_bindgen(js_name = imageAt)]
    pub fn image_at(&self, x: f64, y: f64) -> i32 {
        let n = self.drawn.get();
        let scale = self.scale.get() as f64;
        if n == 0 || x < 0.0 || y < 0.0 {
            return -1;
        }
        let (_, h, w) = self.image_shape();
        let (gx, gy) = ((x / scale) as usize, (y / scale) as usize);
        GridLayout::square(n, w, h).tile_at(gx, gy, n).map_or(-1, |i| i as i32)
    }

    /// `[count, dim]` standard-normal latents of `seed` (an integer 0 … 2^53), row after row:
    /// the same numbers as `webgan generate --seed`.
    pub fn latents(seed: f64, count: usize, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
        if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= 9_007_199_254_740_992.0) {
            return Err(JsError::new(&format!("seed {seed} must be a whole number from 0 to 2^53")));
        }
        if count * dim > 1 << 26 {
            return Err(JsError::new(&format!("{count} × {dim} latents is too many")));
        }
        Ok(latent::normal_latents(seed as u64, count, dim).data)
    }

    /// Row-wise spherical interpolation of two `[N, dim]` latent batches at `t` in [0, 1].
    pub fn slerp(a: &[f32], b: &[f32], t: f32, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
        if dim == 0 || a.len() != b.len() || a.len() % dim != 0 {
            return Err(JsError::new(&format!(
                "slerp needs two batches of equal length, a multiple of {dim}; got {} and {}",
                a.len(),
                b.len()
            )));
        }
        Ok(a.chunks(dim).zip(b.chunks(dim)).flat_map(|(x, y)| latent::slerp(x, y, t)).collect())
    }

    /// True once the GPU device was lost: create a new generator (and canvas).
    #[wasm_bindgen(js_name = isLost)]
    pub fn is_lost(&self) -> bool {
        match &self.backend {
            Backend::WebGpu(w) => w.gpu.is_lost(),
            Backend::Cpu { .. } => false,
        }
    }

    /// Destroys the GPU device, as a driver reset would (for tests of the recovery path).
    #[wasm_bindgen(js_name = destroyDevice)]
    pub fn destroy_device(&self) {
        if let Backend::WebGpu(w) = &self.backend {
            w.gpu.device.destroy();
        }
    }

    /// Generates `count` images from `latents` (`[count, latentDim]`, and one class each for
    /// a conditional model) and draws them as a grid on the canvas. On WebGPU the output is
    /// drawn from the GPU buffer; the promise resolves when the GPU has finished.
    pub async fn generate(
        &self,
        latents: Vec<f32>,
        count: usize,
        classes: Option<Vec<u32>>,
    ) -> std::result::Result<(), JsError> {
        let _busy = self.enter()?;
        let z = self.check_latents(latents, count, classes.as_deref()).map_err(js_error)?;
        let scale = self.scale.get();
        match &self.backend {
            Backend::WebGpu(w) => {
                let compiled = self.compiled(w, count).await.map_err(js_error)?;
                compiled.plan.run(&w.gpu, &z, classes.as_deref()).map_err(js_error)?;
                w.renderer
                    .draw(&w.gpu, &compiled.draw, compiled.plan.output_shape(), count, scale)
                    .map_err(js_error)?;
                *w.last.borrow_mut() = Some(compiled);
                work_done(&w.gpu).await;
                w.gpu.check().map_err(js_error)?;
            }
            Backend::Cpu { context, last, .. } => {
                let out = cpu::forward(&self.model, &z, classes.as_deref()).map_err(js_error)?;
                let image = upscale(&grid(&out, grid_columns(count)).map_err(js_error)?, scale as usize);
                self.canvas.set_width(image.width as u32);
                self.canvas.set_height(image.height as u32);
                let data =
                    ImageData::new_with_u8_clamped_array_and_sh(Clamped(&image.pixels), image.width as u32, image.height as u32)
                        .map_err(|e| JsError::new(&format!("could not make the image: {e:?}")))?;
                context.put_image_data(&data, 0.0, 0.0).map_err(|e| JsError::new(&format!("drawing failed: {e:?}")))?;
                *last.borrow_mut() = Some(out);
            }
        }
        self.drawn.set(count);
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
        let _busy = self.enter()?;
        let z = self.check_latents(latents, count, classes.as_deref()).map_err(js_error)?;
        let out = match &self.backend {
            Backend::WebGpu(w) => {
                let compiled = self.compiled(w, count).await.map_err(js_error)?;
                compiled.plan.generate(&w.gpu, &z, classes.as_deref()).await.map_err(js_error)?
            }
            Backend::Cpu { .. } => cpu::forward(&self.model, &z, classes.as_deref()).map_err(js_error)?,
        };
        Ok(out.data)
    }

    /// The grid now on the canvas as RGBA bytes at scale 1 (`gridWidth(drawnCount)` ×
    /// `gridHeight(drawnCount)`), read back from the GPU output: for PNG downloads.
    #[wasm_bindgen(js_name = gridPixels)]
    pub async fn grid_pixels(&self) -> std::result::Result<Clamped<Vec<u8>>, JsError> {
        let out = self.last_output().await.map_err(js_error)?;
        let n = out.batch();
        Ok(Clamped(grid(&out, grid_columns(n)).map_err(js_error)?.pixels))
    }

    /// Image `index` of the grid now on the canvas as RGBA bytes (`width` × `height`).
    #[wasm_bindgen(js_name = imagePixels)]
    pub async fn image_pixels(&self, index: usize) -> std::result::Result<Clamped<Vec<u8>>, JsError> {
        let out = self.last_output().await.map_err(js_error)?;
        let n = out.batch();
        if index >= n {
            return Err(JsError::new(&format!("image {index} is not on the canvas; it shows {n}")));
        }
        let one = out.samples(&[index]).map_err(js_error)?;
        Ok(Clamped(grid(&one, 1).map_err(js_error)?.pixels))
    }
}

#[wasm_bindgen]
impl Generator {
    /// Sets the discriminator that [`realness`](Self::realness) runs, from the text of its
    /// `model.json` and its weights (checked like a generator's). It must take this generator's
    /// images (flattened NCHW) and output one logit.
    #[wasm_bindgen(js_name = setDiscriminator)]
    pub fn set_discriminator(&self, manifest_json: String, weights: Vec<u8>) -> std::result::Result<(), JsError> {
        let model = Model::from_parts(&manifest_json, &weights).map_err(js_error)?;
        let discriminator = Discriminator::new(model, self.output_shape()).map_err(js_error)?;
        *self.realness.borrow_mut() = Some(Rc::new(Realness::new(discriminator)));
        Ok(())
    }

    /// True once a discriminator is set.
    #[wasm_bindgen(getter, js_name = hasDiscriminator)]
    pub fn has_discriminator(&self) -> bool {
        self.realness.borrow().is_some()
    }

    /// The discriminator's logit for each image on the canvas, in grid order (higher: more
    /// real), on the generator's backend. On WebGPU the images make one round trip (read back,
    /// then uploaded as the discriminator's NCHW input: 2.4 MB for 64 emoji), which is small
    /// beside the discriminator's own work.
    pub async fn realness(&self) -> std::result::Result<Vec<f32>, JsError> {
        let _busy = self.enter()?;
        let realness = self.realness.borrow().clone().ok_or_else(|| {
            JsError::new("this model has no discriminator; set one with setDiscriminator first")
        })?;
        let images = self.last_output().await.map_err(js_error)?;
        let gpu = match &self.backend {
            Backend::WebGpu(w) => Some(&w.gpu),
            Backend::Cpu { .. } => None,
        };
        let logits = realness.score(gpu, &images).await.map_err(js_error)?;
        if let Backend::WebGpu(w) = &self.backend {
            w.gpu.check().map_err(js_error)?;
        }
        Ok(logits)
    }
}

impl Generator {
    fn output_shape(&self) -> Shape {
        self.model.output_shape()
    }

    fn image_shape(&self) -> (usize, usize, usize) {
        crate::gpu::layout::chw(self.output_shape())
    }

    fn enter(&self) -> std::result::Result<BusyGuard<'_>, JsError> {
        if self.busy.replace(true) {
            return Err(JsError::new("the generator is busy with another call; await it before the next"));
        }
        Ok(BusyGuard(&self.busy))
    }

    fn check_latents(&self, latents: Vec<f32>, count: usize, classes: Option<&[u32]>) -> Result<Tensor> {
        let dim = self.model.manifest.latent_dim;
        if count == 0 || count > MAX_COUNT {
            return Err(Error::Input(format!("count is {count}; give 1 to {MAX_COUNT}")));
        }
        if latents.len() != count * dim {
            return Err(Error::Input(format!(
                "{} latent values given; {count} images of latent size {dim} need {}",
                latents.len(),
                count * dim
            )));
        }
        let z = Tensor::new(&[count, dim], latents)?;
        cpu::check_input(&self.model, &z, classes)?;
        Ok(z)
    }

    /// The plan for batch `count`, compiled on first use; the cache keeps the last few.
    async fn compiled(&self, w: &WebGpu, count: usize) -> Result<Rc<Compiled>> {
        let hit = {
            let mut plans = w.plans.borrow_mut();
            let at = plans.iter().position(|c| c.plan.batch() == count);
            at.map(|i| {
                let c = plans.remove(i);
                plans.push(c.clone());
                c
            })
        };
        if let Some(c) = hit {
            return Ok(c);
        }
        let plan = Plan::compile(&w.gpu, &self.model, count).await?;
        let draw = w.renderer.bind(&w.gpu, plan.output_buffer());
        let compiled = Rc::new(Compiled { plan, draw });
        let mut plans = w.plans.borrow_mut();
        plans.push(compiled.clone());
        if plans.len() > PLAN_CACHE {
            plans.remove(0);
        }
        Ok(compiled)
    }

    /// The output drawn last, `[N, C, H, W]`, copied back from the GPU buffer the canvas shows.
    async fn last_output(&self) -> Result<Tensor> {
        let n = self.drawn.get();
        if n == 0 {
            return Err(Error::Input("nothing has been drawn yet; call generate first".into()));
        }
        match &self.backend {
            Backend::Cpu { last, .. } => {
                last.borrow().clone().ok_or_else(|| Error::Input("nothing has been drawn yet".into()))
            }
            Backend::WebGpu(w) => {
                let compiled =
                    w.last.borrow().clone().ok_or_else(|| Error::Input("nothing has been drawn yet".into()))?;
                let shape = compiled.plan.output_shape();
                let bytes = (n * padded_len(shape) * 4) as u64;
                let staging = w.gpu.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("grid readback"),
                    size: bytes,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                let mut encoder =
                    w.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("grid readback") });
                encoder.copy_buffer_to_buffer(compiled.plan.output_buffer(), 0, &staging, 0, bytes);
                w.gpu.queue.submit([encoder.finish()]);
                let (sender, receiver) = futures_channel::oneshot::channel();
                staging.map_async(wgpu::MapMode::Read, .., move |r| {
                    let _ = sender.send(r);
                });
                receiver
                    .await
                    .map_err(|_| Error::DeviceLost("the readback was dropped".into()))?
                    .map_err(|e| Error::Gpu(format!("reading the grid back failed: {e}")))?;
                let data = {
                    let view = staging
                        .get_mapped_range(..)
                        .map_err(|e| Error::Gpu(format!("reading the grid back failed: {e}")))?;
                    bytemuck::pod_collect_to_vec::<u8, f32>(&view)
                };
                staging.unmap();
                w.gpu.check()?;
                Ok(from_gpu(&data, n, shape))
            }
        }
    }
}

/// Resolves when the GPU has finished the work submitted so far (so a caller's frame timing
/// and its next call see finished work, and submissions never pile up).
async fn work_done(gpu: &Gpu) {
    let (sender, receiver) = futures_channel::oneshot::channel();
    gpu.queue.on_submitted_work_done(move || {
        let _ = sender.send(());
    });
    let _ = receiver.await;
}
