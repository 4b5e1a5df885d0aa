//! The engine behind the npm package: a [`Session`] for JavaScript that needs no canvas (pages,
//! workers and Node alike). `generate` returns an [`Output`] that stays valid after later
//! calls: on WebGPU its images stay in the plan's output buffer (drawn from there, read back on
//! demand) until the plan runs again, and just before it does they are read back into the
//! `Output`, so no image is ever lost or mixed up with a later batch.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;

use super::{adapter, js_error};
use super::draw::CanvasRenderer;
use super::output::{Images, Output};
use super::queue::Queue;
use crate::error::Result;
use crate::gpu::Plan;
use crate::latent;
use crate::limits::GPU_CHUNK;
use crate::model::Model;
use crate::session::{self, Backend, BackendChoice, Session};

/// What an engine and its outputs share.
pub(super) struct Core {
    pub session: Session,
    pub queue: Queue,
    /// Outputs whose images are still only in a plan's buffer.
    on_gpu: RefCell<Vec<Weak<Images>>>,
    /// A renderer per canvas drawn on (the canvas's JS object, its renderer).
    pub renderers: RefCell<Vec<(JsValue, Rc<CanvasRenderer>)>>,
    facts: String,
}

impl Core {
    /// Reads back every live output still held by `plan`, before `plan` runs again.
    async fn settle(&self, plan: &Rc<Plan>) -> Result<()> {
        let held: Vec<Rc<Images>> = {
            let mut on_gpu = self.on_gpu.borrow_mut();
            on_gpu.retain(|w| w.strong_count() > 0);
            on_gpu.iter().filter_map(Weak::upgrade).filter(|i| i.is_on(plan)).collect()
        };
        for images in held {
            images.settle(self).await?;
        }
        Ok(())
    }
}

/// A model loaded for generating, on WebGPU or the CPU.
#[wasm_bindgen]
pub struct Engine {
    core: Rc<Core>,
}

#[wasm_bindgen]
impl Engine {
    /// Loads a model from the text of `model.json` and its weights (checked: size, SHA-256,
    /// every tensor) on `backend`: `"auto"` (WebGPU where it starts, else the CPU), `"webgpu"`
    /// or `"cpu"`.
    pub async fn create(manifest_json: String, weights: Vec<u8>, backend: String) -> std::result::Result<Engine, JsError> {
        if !std::thread::panicking() {
            console_error_panic_hook::set_once();
        }
        let model = Model::from_parts(&manifest_json, &weights).map_err(js_error)?;
        drop(weights);
        let choice = BackendChoice::parse(&backend).map_err(js_error)?;
        let session = Session::open(model, choice).await.map_err(js_error)?;
        let facts = if session.gpu_device().is_some() { adapter::facts().await } else { String::new() };
        let core = Core { session, queue: Queue::default(), on_gpu: RefCell::default(), renderers: RefCell::default(), facts };
        Ok(Engine { core: Rc::new(core) })
    }

    /// `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        if self.core.session.gpu_device().is_some() { "webgpu".into() } else { "cpu".into() }
    }

    /// What runs the model: the adapter, or `CPU fallback: <why>`.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        match self.core.session.backend() {
            Backend::Gpu { gpu, .. } => adapter::describe(gpu, &self.core.facts),
            Backend::Cpu { reason } => format!("CPU fallback: {reason}"),
        }
    }

    /// Why the CPU is used, or `undefined` on WebGPU.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        match self.core.session.backend() {
            Backend::Gpu { .. } => None,
            Backend::Cpu { reason } => Some(reason.clone()),
        }
    }

    /// The model's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.core.session.model().manifest.name.clone()
    }

    #[wasm_bindgen(getter, js_name = latentDim)]
    pub fn latent_dim(&self) -> usize {
        self.core.session.model().manifest.latent_dim
    }

    /// Classes of a conditional model; 0 for an unconditional one.
    #[wasm_bindgen(getter, js_name = numClasses)]
    pub fn num_classes(&self) -> usize {
        self.core.session.model().manifest.num_classes.unwrap_or(0)
    }

    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        crate::gpu::layout::chw(self.core.session.output_shape()).2
    }

    #[wasm_bindgen(getter)]
    pub fn height(&self) -> usize {
        crate::gpu::layout::chw(self.core.session.output_shape()).1
    }

    #[wasm_bindgen(getter)]
    pub fn channels(&self) -> usize {
        crate::gpu::layout::chw(self.core.session.output_shape()).0
    }

    /// FLOPs of one image (2 × multiply-adds).
    #[wasm_bindgen(getter, js_name = flopsPerImage)]
    pub fn flops_per_image(&self) -> f64 {
        2.0 * self.core.session.model().macs_per_sample() as f64
    }

    /// The most images one `generate` call takes.
    #[wasm_bindgen(getter, js_name = maxCount)]
    pub fn max_count(&self) -> usize {
        crate::limits::MAX_COUNT
    }

    /// `count` images from `latents` (`count × latentDim` values, and one class each for a
    /// conditional model). Calls run one at a time, in order; the promise resolves when the
    /// images are computed.
    pub async fn generate(&self, latents: Vec<f32>, count: usize, classes: Option<Vec<u32>>) -> std::result::Result<Output, JsError> {
        let core = &self.core;
        let _turn = core.queue.turn().await;
        let session = &core.session;
        let z = session.latents(latents, count, classes.as_deref()).map_err(js_error)?;
        let images = match session.gpu_device() {
            // Graph models are read back and drawn from memory (their plans do not draw yet).
            Some(gpu) if count <= GPU_CHUNK && !session.model().is_graph() => {
                let plan = session.plan(count).await.map_err(js_error)?;
                core.settle(&plan).await.map_err(js_error)?;
                let plan = session.run_on_gpu(&z, classes.as_deref()).await.map_err(js_error)?;
                super::draw::work_done(gpu).await;
                gpu.check().map_err(js_error)?;
                let images = Rc::new(Images::on_gpu(plan, count, session.output_shape()));
                core.on_gpu.borrow_mut().push(Rc::downgrade(&images));
                images
            }
            _ => {
                let out = session.generate(&z, classes.as_deref()).await.map_err(js_error)?;
                Rc::new(Images::on_cpu(out, session.output_shape()))
            }
        };
        Ok(Output::new(images, core.clone()))
    }

    /// A discriminator (its `model.json` text and weights) paired with this generator's images,
    /// on the same backend.
    pub fn critic(&self, manifest_json: String, weights: Vec<u8>) -> std::result::Result<Critic, JsError> {
        let model = Model::from_parts(&manifest_json, &weights).map_err(js_error)?;
        let critic = self.core.session.critic(model).map_err(js_error)?;
        Ok(Critic { critic: Rc::new(critic), core: self.core.clone() })
    }

    /// `[count, dim]` standard-normal latents of `seed` (an integer 0 … 2^53), row after row:
    /// the same numbers as `webgan generate --seed`.
    pub fn latents(seed: f64, count: usize, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
        seeded_latents(seed, count, dim)
    }

    /// Row-wise spherical interpolation of two `[N, dim]` latent batches at `t` in [0, 1].
    pub fn slerp(a: &[f32], b: &[f32], t: f32, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
        slerp_rows(a, b, t, dim)
    }

    /// True once the GPU device was lost: load the model again.
    #[wasm_bindgen(js_name = isLost)]
    pub fn is_lost(&self) -> bool {
        self.core.session.gpu_device().is_some_and(|g| g.is_lost())
    }

    /// Destroys the GPU device, as a driver reset would (for tests of the recovery path).
    #[wasm_bindgen(js_name = destroyDevice)]
    pub fn destroy_device(&self) {
        if let Some(gpu) = self.core.session.gpu_device() {
            gpu.device.destroy();
        }
    }
}

/// A discriminator paired with an engine's images.
#[wasm_bindgen]
pub struct Critic {
    critic: Rc<session::Critic>,
    core: Rc<Core>,
}

#[wasm_bindgen]
impl Critic {
    /// One realness logit per image of `output` (higher: more real), a `Float32Array`.
    pub fn realness(&self, output: &Output) -> js_sys::Promise {
        let (critic, core, images) = (self.critic.clone(), self.core.clone(), output.images());
        wasm_bindgen_futures::future_to_promise(async move {
            let _turn = core.queue.turn().await;
            let tensor = images.tensor(&core).await.map_err(|e| JsValue::from(js_error(e)))?;
            let logits = critic.realness(&tensor).await.map_err(|e| JsValue::from(js_error(e)))?;
            Ok(js_sys::Float32Array::from(&logits[..]).into())
        })
    }
}

/// `[count, dim]` latents of `seed` for JavaScript, whose numbers are f64: the seed must be a
/// whole number 0 … 2^53.
fn seeded_latents(seed: f64, count: usize, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
    if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= 9_007_199_254_740_992.0) {
        return Err(JsError::new(&format!("seed {seed} must be a whole number from 0 to 2^53")));
    }
    Ok(latent::seeded(seed as u64, count, dim).map_err(|e| JsError::new(&e.to_string()))?.data)
}

/// Row-wise [`latent::slerp`] of two `[N, dim]` batches.
fn slerp_rows(a: &[f32], b: &[f32], t: f32, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
    if dim == 0 || a.len() != b.len() || a.len() % dim != 0 {
        return Err(JsError::new(&format!(
            "slerp needs two batches of equal length, a multiple of {dim}; got {} and {}",
            a.len(),
            b.len()
        )));
    }
    Ok(a.chunks(dim).zip(b.chunks(dim)).flat_map(|(x, y)| latent::slerp(x, y, t)).collect())
}
