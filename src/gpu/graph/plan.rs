//! [`GraphPlan`]: a graph model compiled for one batch size. Every pipeline, buffer and bind
//! group is made once; a run writes the inputs (latents, images, class ids), records every
//! dispatch in one command encoder, submits and reads the output back.

use crate::error::{Error, Result};
use crate::gpu::layout::{from_gpu, padded_len, to_gpu};
use crate::gpu::ops::Pass;
use crate::gpu::{Gpu, buffers};
use crate::model::graph::Input;
use crate::model::graph_shape::Kind;
use crate::model::{GraphOp, Inputs, Model, NodeOp, Shape};
use crate::tensor::Tensor;

use super::fuse::{self, Step};
use super::liveness::{self, Event};
use super::lower::{self, Bindings};

pub use crate::limits::MAX_PLAN_BATCH as MAX_BATCH;

/// A graph model compiled for batches of up to `batch` samples.
pub struct GraphPlan {
    batch: usize,
    /// The latent input's size and buffer.
    latent: Option<(usize, wgpu::Buffer)>,
    /// The image input's shape and buffer.
    image: Option<(Shape, wgpu::Buffer)>,
    /// The class input's class count.
    classes: Option<usize>,
    labels: wgpu::Buffer,
    output: wgpu::Buffer,
    output_shape: Shape,
    staging: wgpu::Buffer,
    passes: Vec<Pass>,
    activation_bytes: u64,
    unshared_activation_bytes: u64,
    /// Activation buffers and uploaded constants, kept alive for the bind groups.
    _buffers: Vec<wgpu::Buffer>,
}

impl GraphPlan {
    /// Compiles `model`'s graph for batches of up to `batch`. Fails with the numbers when a
    /// buffer or dispatch exceeds the device's limits.
    pub async fn compile(gpu: &Gpu, model: &Model, batch: usize) -> Result<Self> {
        if batch == 0 || batch > MAX_BATCH {
            return Err(Error::Input(format!("batch size {batch} must be between 1 and {MAX_BATCH}")));
        }
        gpu.check()?;
        let scope = gpu.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let built = Self::build(gpu, model, batch);
        let validation = scope.pop().await;
        let plan = built?;
        if let Some(e) = validation {
            return Err(Error::Gpu(format!("compiling the graph plan failed validation: {e}")));
        }
        gpu.check()?;
        Ok(plan)
    }

    fn build(gpu: &Gpu, model: &Model, batch: usize) -> Result<Self> {
        let g = &model.graph;
        let steps = fuse::schedule(model);
        let bytes_of = |shape: Shape| (batch as u64).saturating_mul(padded_len(shape) as u64).saturating_mul(4);
        let events = events(model, &steps, &bytes_of);
        for event in &events {
            if let Event::Birth { value, bytes, alias_of: None } = *event {
                check_value(gpu, model, value, batch, bytes)?;
            }
        }
        let assignment = liveness::assign(g.values.len(), &events);
        let pool: Vec<wgpu::Buffer> = assignment
            .sizes
            .iter()
            .enumerate()
            .map(|(slot, &bytes)| buffers::activation_bytes(gpu, &format!("graph activations {slot}"), bytes))
            .collect::<Result<_>>()?;
        let mut values: Vec<Option<wgpu::Buffer>> = assignment.slot.iter().map(|s| s.map(|s| pool[s].clone())).collect();
        let mut kept = pool.clone();
        // Constants: uploaded in the activation layout, one sample shared by the batch.
        for step in &steps {
            if let NodeOp::Graph(GraphOp::Constant { tensor }) = &g.graph.nodes[step.node].op {
                let shape = g.values[step.value].shape;
                let t = model.tensor(tensor)?;
                let dims: Vec<usize> = std::iter::once(1).chain(shape.dims()).collect();
                let one = Tensor::new(&dims, t.data.clone())?;
                let buffer = buffers::storage(gpu, &format!("constant {tensor}"), &to_gpu(&one, shape))?;
                values[step.value] = Some(buffer.clone());
                kept.push(buffer);
            }
        }
        let labels = buffers::empty(gpu, "labels", batch as u64 * 4, wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST)?;
        let bindings = Bindings { gpu, model, batch, values: &values, labels: &labels };
        let mut passes = Vec::new();
        for step in &steps {
            passes.extend(lower::passes(&bindings, step)?);
        }
        let mut latent = None;
        let mut image = None;
        let mut classes = None;
        for (i, input) in g.graph.inputs.iter().enumerate() {
            let buffer = || values[i].clone().ok_or_else(|| Error::Gpu(format!("input `{}` has no buffer", input.name())));
            match input {
                Input::Latent { shape, .. } => latent = Some((shape[0], buffer()?)),
                Input::Image { .. } => image = Some((g.values[i].shape, buffer()?)),
                Input::Class { classes: k, .. } => classes = Some(*k),
            }
        }
        let output_shape = g.values[g.output()].shape;
        let output = values[g.output()].clone().ok_or_else(|| Error::Gpu("the output has no buffer".into()))?;
        let staging = buffers::empty(gpu, "readback", bytes_of(output_shape), wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST)?;
        Ok(GraphPlan {
            batch,
            latent,
            image,
            classes,
            labels,
            output,
            output_shape,
            staging,
            passes,
            activation_bytes: assignment.total(),
            unshared_activation_bytes: assignment.unshared,
            _buffers: kept,
        })
    }

    /// Bytes of GPU memory the activations take (graph inputs included; shared by values whose
    /// lifetimes do not overlap).
    pub fn activation_bytes(&self) -> u64 {
        self.activation_bytes
    }

    /// What the activations would take with one buffer per value.
    pub fn unshared_activation_bytes(&self) -> u64 {
        self.unshared_activation_bytes
    }

    /// The batch size the plan was compiled for.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Number of dispatches per run.
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

    /// Runs the plan on `inputs` and reads the output back as `[N, …output_shape]` (NCHW).
    pub async fn run(&self, gpu: &Gpu, inputs: &Inputs) -> Result<Tensor> {
        let n = self.write_inputs(gpu, inputs)?;
        let bytes = n as u64 * padded_len(self.output_shape) as u64 * 4;
        gpu.queue.submit([self.encode(gpu, Some(bytes))]);
        let data = read_back(gpu, &self.staging, bytes).await?;
        Ok(from_gpu(&data, n, self.output_shape))
    }

    /// Writes `inputs` and submits every dispatch; the output stays on the GPU
    /// ([`GraphPlan::output_buffer`], [`GraphPlan::read_output`]). Returns N.
    pub fn submit(&self, gpu: &Gpu, inputs: &Inputs) -> Result<usize> {
        let n = self.write_inputs(gpu, inputs)?;
        gpu.queue.submit([self.encode(gpu, None)]);
        Ok(n)
    }

    /// Reads back the first `n` samples of the last submitted run's output.
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

    /// Uploads the inputs (padded with zeros to the plan's batch). Requests are validated by
    /// their caller ([`Model::check_inputs`]); this checks the plan's own contract: every input
    /// it has is given with one N that fits, and class ids index the tables.
    fn write_inputs(&self, gpu: &Gpu, inputs: &Inputs) -> Result<usize> {
        gpu.check()?;
        let n = inputs.latents.as_ref().or(inputs.images.as_ref()).map(Tensor::batch).or(inputs.classes.as_ref().map(Vec::len)).unwrap_or(0);
        if n == 0 || n > self.batch {
            return Err(Error::Input(format!("{n} samples given; this plan takes 1 to {}", self.batch)));
        }
        let upload = |buffer: &wgpu::Buffer, t: &Tensor, shape: Shape, what: &str| -> Result<()> {
            let want: Vec<usize> = std::iter::once(n).chain(shape.dims()).collect();
            if t.shape != want || t.len() != want.iter().product::<usize>() {
                return Err(Error::Input(format!("{what} must have shape {want:?}, not {:?}", t.shape)));
            }
            let mut padded = to_gpu(t, shape);
            padded.resize(self.batch * padded_len(shape), 0.0);
            gpu.queue.write_buffer(buffer, 0, bytemuck::cast_slice(&padded));
            Ok(())
        };
        match (&self.latent, &inputs.latents) {
            (Some((z, buffer)), Some(t)) => upload(buffer, t, Shape::Flat(*z), "latents")?,
            (Some(_), None) => return Err(Error::Input("this model needs latents".into())),
            (None, Some(_)) => return Err(Error::Input("this model takes no latents".into())),
            (None, None) => {}
        }
        match (&self.image, &inputs.images) {
            (Some((shape, buffer)), Some(t)) => upload(buffer, t, *shape, "images")?,
            (Some(_), None) => return Err(Error::Input("this model needs images".into())),
            (None, Some(_)) => return Err(Error::Input("this model takes no images".into())),
            (None, None) => {}
        }
        match (self.classes, &inputs.classes) {
            (Some(k), Some(ids)) => {
                if ids.len() != n {
                    return Err(Error::Input(format!("{} classes given for {n} samples", ids.len())));
                }
                if let Some(bad) = ids.iter().find(|&&id| id as usize >= k) {
                    return Err(Error::Input(format!("class {bad} is out of range 0..{k}")));
                }
                let mut padded = ids.clone();
                padded.resize(self.batch, 0);
                gpu.queue.write_buffer(&self.labels, 0, bytemuck::cast_slice(&padded));
            }
            (Some(_), None) => return Err(Error::Input("this model is conditional: give one class per sample".into())),
            (None, Some(_)) => return Err(Error::Input("this model is not conditional; pass no class".into())),
            (None, None) => {}
        }
        Ok(n)
    }

    fn encode(&self, gpu: &Gpu, readback: Option<u64>) -> wgpu::CommandBuffer {
        let mut encoder = gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("generate graph") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("generate graph"), timestamp_writes: None });
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

/// The buffer events of a schedule: graph inputs are born first; at each node, the value of
/// the step it heads (if any) is born, then every value whose last reader it is dies.
fn events(model: &Model, steps: &[Step], bytes_of: &dyn Fn(Shape) -> u64) -> Vec<Event> {
    let g = &model.graph;
    let mut events = Vec::new();
    for (i, info) in g.values.iter().enumerate().take(g.graph.inputs.len()) {
        if info.kind == Kind::Batched {
            events.push(Event::Birth { value: i, bytes: bytes_of(info.shape), alias_of: None });
        }
    }
    let nodes = g.graph.nodes.len();
    let mut dying: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    for (v, &last) in g.last_use.iter().enumerate() {
        if last < nodes {
            dying[last].push(v);
        }
    }
    let mut step_at: Vec<Option<&Step>> = vec![None; nodes];
    for step in steps {
        step_at[step.node] = Some(step);
    }
    for k in 0..nodes {
        if let Some(step) = step_at[k].filter(|s| g.values[s.value].kind == Kind::Batched) {
            let alias_of = step.alias.then(|| g.args[k][0]);
            events.push(Event::Birth { value: step.value, bytes: bytes_of(g.values[step.value].shape), alias_of });
        }
        events.extend(dying[k].iter().map(|&value| Event::Death { value }));
    }
    events
}

/// A value's buffer must fit one storage binding, and its elements a u32 index.
fn check_value(gpu: &Gpu, model: &Model, value: usize, batch: usize, bytes: u64) -> Result<()> {
    let g = &model.graph;
    let name = g.graph.inputs.get(value).map_or_else(
        || g.graph.nodes[value - g.graph.inputs.len()].name.clone(),
        |input| input.name().to_string(),
    );
    let what = format!("`{name}` at batch {batch}");
    buffers::check_size(gpu, &what, bytes)?;
    let limit = u32::MAX as u64;
    if bytes / 4 > limit {
        return Err(Error::Limit { what: format!("{what} ({} values, indexed in u32)", bytes / 4), needed: bytes / 4, limit });
    }
    Ok(())
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
        let view = staging.get_mapped_range(0..bytes).map_err(|e| Error::Gpu(format!("reading the output back failed: {e}")))?;
        bytemuck::pod_collect_to_vec::<u8, f32>(&view)
    };
    staging.unmap();
    gpu.check()?;
    Ok(data)
}
