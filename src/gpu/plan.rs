//! A model compiled for one batch size: every pipeline, buffer and bind group is created once;
//! a generate call writes the latents, records all dispatches in one command encoder, submits,
//! and reads the output back (or leaves it on the GPU for drawing).

use crate::error::{Error, Result};
use crate::gpu::layout::{chw, from_gpu, pad4, padded_len, to_gpu};
use crate::gpu::ops::{self, Pass};
use crate::gpu::{Gpu, buffers};
use crate::gpu::fold::{GemmKind, Step, fold};
use crate::model::{Model, Shape};
use crate::tensor::Tensor;

pub use crate::limits::MAX_PLAN_BATCH as MAX_BATCH;

/// A compiled model.
pub struct Plan {
    batch: usize,
    latent_dim: usize,
    conditional: bool,
    output_shape: Shape,
    input: wgpu::Buffer,
    labels: wgpu::Buffer,
    output: wgpu::Buffer,
    staging: wgpu::Buffer,
    passes: Vec<Pass>,
    activation_bytes: u64,
    unshared_activation_bytes: u64,
    /// The two activation buffers, kept alive for the bind groups.
    _buffers: Vec<wgpu::Buffer>,
}

impl Plan {
    /// Compiles `model` for batches of up to `batch` samples. Fails with the numbers when a
    /// buffer or dispatch exceeds the device's limits.
    pub async fn compile(gpu: &Gpu, model: &Model, batch: usize) -> Result<Self> {
        if batch == 0 || batch > MAX_BATCH {
            return Err(Error::Input(format!("batch size {batch} must be between 1 and {MAX_BATCH}")));
        }
        gpu.check()?;
        if model.is_graph() {
            return Err(Error::Input("a graph model (format 2) compiles to a GraphPlan, not a layer-chain Plan".into()));
        }
        let steps = fold(model)?;
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let built = Self::build(gpu, model, batch, &steps);
        let validation = scope.pop().await;
        let plan = built?;
        if let Some(e) = validation {
            return Err(Error::Gpu(format!("compiling the plan failed validation: {e}")));
        }
        gpu.check()?;
        Ok(plan)
    }

    fn build(gpu: &Gpu, model: &Model, batch: usize, steps: &[Step]) -> Result<Self> {
        let input_shape = model.input_shape();
        let bytes_of = |shape: Shape| (batch as u64).saturating_mul(padded_len(shape) as u64).saturating_mul(4);
        let input = buffers::activation_bytes(gpu, "latents", bytes_of(input_shape))?;
        let labels = buffers::empty(
            gpu,
            "labels",
            batch as u64 * 4,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        )?;
        // Which steps dispatch (an identity reshape is a no-op on this layout) and the shape
        // each one writes.
        let dispatched: Vec<(usize, &Step, Shape)> = steps
            .iter()
            .enumerate()
            .filter(|(_, step)| !matches!(step, Step::Reshape { from, to, order } if ops::reshape::is_identity(*from, *to, *order)))
            .map(|(i, step)| (i, step, step_output(step)))
            .collect();
        // The graph is a chain: each step reads only the previous step's output, so two buffers
        // written in turn ("ping-pong") hold every activation, each sized for the largest
        // output written to it: the least a chain can take (its largest neighbouring pair).
        // At batch 64 (`webgan bench`): faces64 25.2 MB instead of 35.7 MB with one buffer per
        // step, eyes128 100.7 instead of 146.8, emoji56 115.6 instead of 122.0 (its 28×28×512
        // layer alone is 103 MB).
        let mut sizes = [0u64; 2];
        for (k, (_, _, shape)) in dispatched.iter().enumerate() {
            sizes[k % 2] = sizes[k % 2].max(bytes_of(*shape));
        }
        let pool: Vec<wgpu::Buffer> = sizes
            .iter()
            .enumerate()
            .filter(|(_, bytes)| **bytes > 0)
            .map(|(slot, bytes)| buffers::activation_bytes(gpu, &format!("activations {slot}"), *bytes))
            .collect::<Result<_>>()?;
        let mut passes = Vec::with_capacity(dispatched.len());
        let mut current = &input;
        for (k, (i, step, _)) in dispatched.iter().enumerate() {
            let i = *i;
            let output = &pool[k % 2];
            let label = format!("{i}:{}", step_name(step));
            let pass = match step {
                Step::Gemm(g) => {
                    // The same weights file under the same layer geometry packs to the same buffers.
                    let key = format!("{}#{i}:{:?}:{:?}->{:?}", model.manifest.weights.sha256, g.kind, g.input, g.output);
                    let layer = gpu.weights.get_or_upload(key, || {
                        let (_, ih, iw) = chw(g.input);
                        let (_, oh, ow) = chw(g.output);
                        let spec = match g.kind {
                            GemmKind::Linear => ops::linear::spec(&g.weight),
                            GemmKind::Conv2d { stride, padding } => {
                                ops::conv2d::spec(&g.weight, stride, padding, [oh, ow])
                            }
                            GemmKind::ConvTranspose2d { stride, top, left } => {
                                ops::conv_transpose2d::spec(&g.weight, stride, top, left, [ih, iw], [oh, ow])
                            }
                        };
                        ops::gemm::upload(gpu, &label, spec, &g.bias, g.output)
                    })?;
                    ops::gemm::pass(gpu, &label, &layer, g.act, g.input, g.output, batch, current, output)?
                }
                Step::Affine { scale, shift, act, shape } => {
                    ops::affine::pass(gpu, &label, scale, shift, *act, *shape, batch, current, output)?
                }
                Step::Reshape { from, to, order } => {
                    ops::reshape::pass(gpu, &label, *from, *to, *order, batch, current, output)?
                }
                Step::Upsample { scale, from, to } => {
                    ops::upsample::pass(gpu, &label, *scale, *from, *to, batch, current, output)?
                }
                Step::ConcatOneHot { classes, from, .. } => {
                    ops::concat_one_hot::pass(gpu, &label, from.elements(), *classes, batch, current, &labels, output)?
                }
            };
            passes.push(pass);
            current = output;
        }
        // The last step's shape, also when it is a reshape that dispatched nothing.
        let shape = steps.last().map_or(input_shape, step_output);
        let staging = buffers::empty(
            gpu,
            "readback",
            bytes_of(shape),
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        )?;
        let output = current.clone();
        Ok(Plan {
            batch,
            latent_dim: model.manifest.latent_dim,
            conditional: model.manifest.num_classes.is_some(),
            output_shape: shape,
            input,
            labels,
            output,
            staging,
            passes,
            activation_bytes: sizes.iter().sum(),
            unshared_activation_bytes: dispatched.iter().map(|(_, _, s)| bytes_of(*s)).sum(),
            _buffers: pool,
        })
    }

    /// Bytes of GPU memory the plan's activations take (the two buffers steps write in turn;
    /// latents, labels and the readback buffer not counted).
    pub fn activation_bytes(&self) -> u64 {
        self.activation_bytes
    }

    /// What the activations would take with one buffer per step (the layout before buffers
    /// were reused): the baseline `activation_bytes` is compared with.
    pub fn unshared_activation_bytes(&self) -> u64 {
        self.unshared_activation_bytes
    }

    /// The batch size the plan was compiled for.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Number of dispatches per generate call.
    pub fn dispatches(&self) -> usize {
        self.passes.len()
    }

    /// Per-sample output shape.
    pub fn output_shape(&self) -> Shape {
        self.output_shape
    }

    /// The output activation (padded NHWC), for drawing without a readback.
    pub fn output_buffer(&self) -> &wgpu::Buffer {
        &self.output
    }

    /// Writes latents (and labels) and submits every dispatch; the output stays on the GPU.
    /// Returns the number of samples written.
    pub fn run(&self, gpu: &Gpu, latents: &Tensor, classes: Option<&[u32]>) -> Result<usize> {
        let n = self.write_input(gpu, latents, classes)?;
        gpu.queue.submit([self.encode(gpu, None)]);
        Ok(n)
    }

    /// Runs the plan and reads the output back as `[N, …output_shape]` (NCHW).
    pub async fn generate(&self, gpu: &Gpu, latents: &Tensor, classes: Option<&[u32]>) -> Result<Tensor> {
        let n = self.write_input(gpu, latents, classes)?;
        let bytes = n as u64 * padded_len(self.output_shape) as u64 * 4;
        gpu.queue.submit([self.encode(gpu, Some(bytes))]);
        let data = read_back(gpu, &self.staging, bytes).await?;
        Ok(from_gpu(&data, n, self.output_shape))
    }

    /// Times every dispatch on its own (submit, wait): where a generate call spends its time.
    /// Native only, since it blocks on the device.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn profile(&self, gpu: &Gpu, latents: &Tensor, classes: Option<&[u32]>) -> Result<Vec<(String, f64)>> {
        self.write_input(gpu, latents, classes)?;
        wait_idle(gpu)?;
        let mut times = Vec::with_capacity(self.passes.len());
        for p in &self.passes {
            let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(&p.label) });
            {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(&p.label), timestamp_writes: None });
                p.record(&mut pass);
            }
            let started = std::time::Instant::now();
            gpu.queue.submit([encoder.finish()]);
            wait_idle(gpu)?;
            times.push((p.label.clone(), started.elapsed().as_secs_f64() * 1e3));
        }
        gpu.check()?;
        Ok(times)
    }

    /// Reads back the first `n` samples of the last run's output (`run` leaves it on the GPU).
    pub async fn read_output(&self, gpu: &Gpu, n: usize) -> Result<Tensor> {
        if n == 0 || n > self.batch {
            return Err(Error::Input(format!("{n} outputs asked for; this plan holds 1 to {}", self.batch)));
        }
        let bytes = n as u64 * padded_len(self.output_shape) as u64 * 4;
        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
        encoder.copy_buffer_to_buffer(&self.output, 0, &self.staging, 0, bytes);
        gpu.queue.submit([encoder.finish()]);
        let data = read_back(gpu, &self.staging, bytes).await?;
        Ok(from_gpu(&data, n, self.output_shape))
    }

    /// Uploads latents and labels. Requests are validated by their caller
    /// ([`Model::check_input`](crate::Model::check_input), once, in the session); this checks
    /// only the plan's own contract, that they fit its buffers.
    fn write_input(&self, gpu: &Gpu, latents: &Tensor, classes: Option<&[u32]>) -> Result<usize> {
        gpu.check()?;
        let n = latents.batch();
        if latents.shape.len() != 2 || latents.shape[1] != self.latent_dim || n.checked_mul(self.latent_dim) != Some(latents.len()) {
            return Err(Error::Input(format!("latents must have shape [N, {}], not {:?}", self.latent_dim, latents.shape)));
        }
        if n == 0 || n > self.batch {
            return Err(Error::Input(format!("{n} latents given; this plan takes 1 to {}", self.batch)));
        }
        let mut padded = to_gpu(latents, Shape::Flat(self.latent_dim));
        padded.resize(self.batch * pad4(self.latent_dim), 0.0);
        gpu.queue.write_buffer(&self.input, 0, bytemuck::cast_slice(&padded));
        match (self.conditional, classes) {
            (true, Some(c)) if c.len() == n => {
                let mut labels = c.to_vec();
                labels.resize(self.batch, 0);
                gpu.queue.write_buffer(&self.labels, 0, bytemuck::cast_slice(&labels));
            }
            (true, _) => return Err(Error::Input(format!("a conditional model needs {n} class labels"))),
            (false, Some(_)) => return Err(Error::Input("this model is not conditional; pass no class".into())),
            (false, None) => {}
        }
        Ok(n)
    }

    fn encode(&self, gpu: &Gpu, readback: Option<u64>) -> wgpu::CommandBuffer {
        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("generate") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("generate"), timestamp_writes: None });
            for p in &self.passes {
                p.record(&mut pass);
            }
        }
        if let Some(bytes) = readback {
            encoder.copy_buffer_to_buffer(&self.output, 0, &self.staging, 0, bytes);
        }
        encoder.finish()
    }
}

/// The shape a step writes.
fn step_output(step: &Step) -> Shape {
    match step {
        Step::Gemm(g) => g.output,
        Step::Affine { shape, .. } => *shape,
        Step::Reshape { to, .. } | Step::Upsample { to, .. } | Step::ConcatOneHot { to, .. } => *to,
    }
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Gemm(g) => match g.kind {
            GemmKind::Linear => "linear",
            GemmKind::Conv2d { .. } => "conv2d",
            GemmKind::ConvTranspose2d { .. } => "conv_transpose2d",
        },
        Step::Affine { .. } => "affine",
        Step::Reshape { .. } => "reshape",
        Step::Upsample { .. } => "upsample",
        Step::ConcatOneHot { .. } => "concat_one_hot",
    }
}

/// Blocks until the device has finished all submitted work (native; the browser runs its own).
#[cfg(not(target_arch = "wasm32"))]
fn wait_idle(gpu: &Gpu) -> Result<()> {
    gpu.device
        .poll(wgpu::PollType::Wait { submission_index: None, timeout: None })
        .map(|_| ())
        .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))
}

/// Maps the first `bytes` of `staging` and copies them out as f32.
async fn read_back(gpu: &Gpu, staging: &wgpu::Buffer, bytes: u64) -> Result<Vec<f32>> {
    let (sender, receiver) = futures_channel::oneshot::channel();
    staging.map_async(wgpu::MapMode::Read, 0..bytes, move |result| {
        let _ = sender.send(result);
    });
    #[cfg(not(target_arch = "wasm32"))]
    wait_idle(gpu)?;
    let mapped = receiver.await.map_err(|_| Error::DeviceLost("the readback was dropped".into()))?;
    mapped.map_err(|e| {
        if gpu.is_lost() { Error::DeviceLost(e.to_string()) } else { Error::Gpu(format!("reading the output back failed: {e}")) }
    })?;
    let data = {
        let view = staging
            .get_mapped_range(0..bytes)
            .map_err(|e| Error::Gpu(format!("reading the output back failed: {e}")))?;
        bytemuck::pod_collect_to_vec::<u8, f32>(&view)
    };
    staging.unmap();
    gpu.check()?;
    Ok(data)
}
