//! A session: one loaded model and one backend, the one place the front ends (the CLI, the
//! wasm bindings) go through. It picks the backend, validates every request once
//! ([`Model::check_input`]), splits long requests into chunks (GPU plans of at most
//! [`GPU_CHUNK`] images, CPU runs within the memory budget), keeps the compiled plans, reads
//! outputs back and scores images with a discriminator on the same backend.

use std::cell::RefCell;
use std::rc::Rc;

use crate::discriminator::Discriminator;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, GraphPlan, Plan};
use crate::limits::{GPU_CHUNK, MAX_COUNT};
use crate::model::{Inputs, Model, Shape};
use crate::tensor::Tensor;
use crate::{cpu, latent};

/// Compiled plans kept per session: each holds its own activations on the GPU (the weights are
/// uploaded once and shared, see `gpu::weight_cache`).
const PLAN_CACHE: usize = 4;

/// Which backend a session should use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    /// The GPU when an adapter exists and starts, else the CPU (with the reason).
    Auto,
    /// The GPU or an error.
    Gpu,
    /// The CPU reference.
    Cpu,
}

impl BackendChoice {
    /// `"auto"`, `"gpu"` (or `"webgpu"`) or `"cpu"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(BackendChoice::Auto),
            "gpu" | "webgpu" => Ok(BackendChoice::Gpu),
            "cpu" => Ok(BackendChoice::Cpu),
            other => Err(Error::Input(format!("backend is `{other}`; use \"auto\", \"webgpu\" (or \"gpu\") or \"cpu\""))),
        }
    }
}

/// What runs a session's model.
pub enum Backend {
    /// WebGPU or Vulkan, with the plans compiled so far (most recently used last): layer-chain
    /// plans for format-1 models, graph plans for format-2 ones.
    Gpu { gpu: Rc<Gpu>, plans: RefCell<Vec<Rc<Plan>>>, graph_plans: RefCell<Vec<Rc<GraphPlan>>> },
    /// The CPU reference, and why it was chosen.
    Cpu { reason: String },
}

/// A model bound to a backend.
pub struct Session {
    model: Model,
    backend: Backend,
}

impl Session {
    /// A session on the CPU reference; `reason` says why (shown to users).
    pub fn cpu(model: Model, reason: impl Into<String>) -> Self {
        Session { model, backend: Backend::Cpu { reason: reason.into() } }
    }

    /// A session on `gpu` (shared with other sessions, e.g. a discriminator's).
    pub fn gpu(model: Model, gpu: Rc<Gpu>) -> Self {
        Session { model, backend: Backend::Gpu { gpu, plans: RefCell::new(Vec::new()), graph_plans: RefCell::new(Vec::new()) } }
    }

    /// A session on the backend `choice` asks for: `Auto` takes the GPU when an adapter exists
    /// and its device starts, and otherwise the CPU with the reason.
    pub async fn open(model: Model, choice: BackendChoice) -> Result<Self> {
        if choice == BackendChoice::Cpu {
            return Ok(Self::cpu(model, "the CPU backend was requested"));
        }

        if !Gpu::available() {
            let why = Gpu::unavailable_reason();
            return match choice {
                BackendChoice::Gpu => Err(Error::NoAdapter(why.into())),
                _ => Ok(Self::cpu(model, why)),
            };
        }
        match Gpu::new().await {
            Ok(gpu) => Ok(Self::gpu(model, Rc::new(gpu))),
            Err(e) if choice == BackendChoice::Gpu => Err(e),
            Err(Error::NoAdapter(_)) => Ok(Self::cpu(
                model,
                "a GPU API exists but offers no adapter (switched off, or this GPU is blocklisted)",
            )),
            Err(e) => Ok(Self::cpu(model, format!("the GPU could not start: {e}"))),
        }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The GPU, when the session runs on one.
    pub fn gpu_device(&self) -> Option<&Rc<Gpu>> {
        match &self.backend {
            Backend::Gpu { gpu, .. } => Some(gpu),
            Backend::Cpu { .. } => None,
        }
    }

    /// Per-sample output shape.
    pub fn output_shape(&self) -> Shape {
        self.model.output_shape()
    }

    /// `count` images from `latents` (row after row, `count × latent_dim` values): the request
    /// as a checked `[count, latent_dim]` tensor, or an error saying what is wrong with it.
    pub fn latents(&self, latents: Vec<f32>, count: usize, classes: Option<&[u32]>) -> Result<Tensor> {
        let dim = self.model.manifest.latent_dim;
        if count == 0 || count > MAX_COUNT {
            return Err(Error::Input(format!("count is {count}; give 1 to {MAX_COUNT}")));
        }
        if Some(latents.len()) != count.checked_mul(dim) {
            return Err(Error::Input(format!(
                "{} latent values given; {count} images of latent size {dim} need {}",
                latents.len(),
                count * dim
            )));
        }
        let z = Tensor::new(&[count, dim], latents)?;
        self.model.check_input(&z, classes)?;
        Ok(z)
    }

    /// The latents of `seed`: `count` standard-normal rows ([`latent::seeded`]).
    pub fn seed_latents(&self, seed: u64, count: usize) -> Result<Tensor> {
        latent::seeded(seed, count, self.model.manifest.latent_dim)
    }

    /// Generates and reads back `[N, …output_shape]` (NCHW) for any request
    /// [`Model::check_input`] accepts, in chunks: GPU plans of at most [`GPU_CHUNK`] images,
    /// CPU runs that fit [`CPU_MEMORY_BUDGET`](crate::limits::CPU_MEMORY_BUDGET).
    pub async fn generate(&self, latents: &Tensor, classes: Option<&[u32]>) -> Result<Tensor> {
        let n = self.model.check_input(latents, classes)?;
        let chunk = match &self.backend {
            Backend::Gpu { .. } => GPU_CHUNK,
            // A model over the budget even for one sample fails in cpu::forward, with the numbers.
            Backend::Cpu { .. } => cpu::budget_batch(&self.model).max(1),
        };
        if n <= chunk {
            return self.generate_batch(latents, classes).await;
        }
        let mut parts = Vec::with_capacity(n.div_ceil(chunk));
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            let z = latents.samples(&(start..end).collect::<Vec<_>>())?;
            parts.push(self.generate_batch(&z, classes.map(|c| &c[start..end])).await?);
        }
        concat(parts)
    }

    /// Runs any request the model takes ([`Inputs`]: latents, classes, images), in chunks as
    /// [`Session::generate`]. Image-to-image models go through here.
    pub async fn generate_inputs(&self, inputs: &Inputs) -> Result<Tensor> {
        if inputs.images.is_none() {
            if let Some(z) = &inputs.latents {
                return self.generate(z, inputs.classes.as_deref()).await;
            }
        }
        let n = self.model.check_inputs(inputs)?;
        let chunk = match &self.backend {
            Backend::Gpu { .. } => GPU_CHUNK,
            Backend::Cpu { .. } => cpu::budget_batch(&self.model).max(1),
        };
        let mut parts = Vec::with_capacity(n.div_ceil(chunk));
        for start in (0..n).step_by(chunk) {
            let part = if n <= chunk { inputs.clone() } else { inputs.range(start, (start + chunk).min(n))? };
            parts.push(match &self.backend {
                Backend::Gpu { gpu, .. } => self.graph_plan(part.samples()).await?.run(gpu, &part).await?,
                Backend::Cpu { .. } => cpu::run(&self.model, &part)?,
            });
        }
        concat(parts)
    }

    /// One chunk of [`Session::generate`].
    async fn generate_batch(&self, latents: &Tensor, classes: Option<&[u32]>) -> Result<Tensor> {
        match &self.backend {
            Backend::Gpu { gpu, .. } if self.model.is_graph() => {
                let inputs = Inputs::latents(latents.clone(), classes.map(<[u32]>::to_vec));
                self.graph_plan(latents.batch()).await?.run(gpu, &inputs).await
            }
            Backend::Gpu { gpu, .. } => self.plan(latents.batch()).await?.generate(gpu, latents, classes).await,
            Backend::Cpu { .. } => cpu::forward(&self.model, latents, classes),
        }
    }

    /// Runs one batch of at most [`GPU_CHUNK`] images on the GPU and leaves the output there
    /// (for drawing without a readback): the plan holding it, its output valid until the plan's
    /// next run. Errors on the CPU backend.
    pub async fn run_on_gpu(&self, latents: &Tensor, classes: Option<&[u32]>) -> Result<Rc<Plan>> {
        let n = self.model.check_input(latents, classes)?;
        let Backend::Gpu { gpu, .. } = &self.backend else {
            return Err(Error::Input("this session runs on the CPU; use generate".into()));
        };
        if n > GPU_CHUNK {
            return Err(Error::Input(format!("{n} images asked for; the GPU draws at most {GPU_CHUNK} at once")));
        }
        let plan = self.plan(n).await?;
        plan.run(gpu, latents, classes)?;
        Ok(plan)
    }

    /// The plan for batch `n`, compiled on first use; the cache keeps the last few.
    pub async fn plan(&self, n: usize) -> Result<Rc<Plan>> {
        let Backend::Gpu { gpu, plans, .. } = &self.backend else {
            return Err(Error::Input("this session has no GPU".into()));
        };
        let hit = {
            let mut plans = plans.borrow_mut();
            plans.iter().position(|p| p.batch() == n).map(|i| {
                let p = plans.remove(i);
                plans.push(p.clone());
                p
            })
        };
        if let Some(p) = hit {
            return Ok(p);
        }
        // No borrow lives across the await: a second call may compile meanwhile.
        let plan = Rc::new(Plan::compile(gpu, &self.model, n).await?);
        let mut plans = plans.borrow_mut();
        plans.push(plan.clone());
        if plans.len() > PLAN_CACHE {
            plans.remove(0);
        }
        Ok(plan)
    }

    /// The graph plan for batch `n` (format-2 models), compiled on first use; the cache keeps
    /// the last few.
    pub async fn graph_plan(&self, n: usize) -> Result<Rc<GraphPlan>> {
        let Backend::Gpu { gpu, graph_plans, .. } = &self.backend else {
            return Err(Error::Input("this session has no GPU".into()));
        };
        if let Some(p) = graph_plans.borrow().iter().find(|p| p.batch() == n) {
            return Ok(p.clone());
        }
        let plan = Rc::new(GraphPlan::compile(gpu, &self.model, n).await?);
        let mut plans = graph_plans.borrow_mut();
        plans.push(plan.clone());
        if plans.len() > PLAN_CACHE {
            plans.remove(0);
        }
        Ok(plan)
    }

    /// A scorer for this session's images with `discriminator` (checked against the output
    /// shape), on the same backend and device.
    pub fn critic(&self, discriminator: Model) -> Result<Critic> {
        let discriminator = Discriminator::new(discriminator, self.output_shape())?;
        let session = match &self.backend {
            Backend::Gpu { gpu, .. } => Session::gpu(discriminator.model.clone(), gpu.clone()),
            Backend::Cpu { reason } => Session::cpu(discriminator.model.clone(), reason.clone()),
        };
        Ok(Critic { discriminator, session })
    }
}

/// A discriminator paired with a generator session: realness logits on its backend.
pub struct Critic {
    discriminator: Discriminator,
    session: Session,
}

impl Critic {
    /// One logit per image of `images` `[N, C, H, W]` (higher: more real).
    pub async fn realness(&self, images: &Tensor) -> Result<Vec<f32>> {
        let input = self.discriminator.input(images)?;
        Ok(self.session.generate(&input, None).await?.data)
    }
}

/// Batches stacked along N.
fn concat(parts: Vec<Tensor>) -> Result<Tensor> {
    let Some(first) = parts.first() else { return Err(Error::Input("nothing was generated".into())) };
    let mut shape = first.shape.clone();
    shape[0] = parts.iter().map(Tensor::batch).sum();
    Tensor::new(&shape, parts.into_iter().flat_map(|p| p.data).collect())
}
