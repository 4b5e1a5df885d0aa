//! One compute pass per fused step. Each op file turns a step into a [`Pass`]: pipeline, bind
//! group and workgroup counts, all created once when a plan is compiled.

pub mod affine;
pub mod concat_one_hot;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod gemm;
pub mod linear;
pub mod reshape;
pub mod upsample;

use crate::model::Activation;
use crate::error::{Error, Result};
use crate::gpu::Gpu;

/// A recorded dispatch: what the plan replays on every generate call.
pub struct Pass {
    pub label: String,
    pub pipeline: wgpu::ComputePipeline,
    pub bind_group: wgpu::BindGroup,
    pub groups: [u32; 3],
    /// Model constants this pass reads, shared with other plans of the same model.
    pub shared: Option<std::sync::Arc<gemm::GemmWeights>>,
}

impl Pass {
    /// Builds the bind group of `kernel`'s entry point `main` from `buffers` (binding i = buffers[i]).
    pub fn new(gpu: &Gpu, label: String, kernel: &'static str, buffers: &[&wgpu::Buffer], groups: [u32; 3]) -> Result<Self> {
        Self::with_entry(gpu, label, kernel, "main", buffers, groups)
    }

    /// As [`Pass::new`] for another entry point of the kernel.
    pub fn with_entry(
        gpu: &Gpu,
        label: String,
        kernel: &'static str,
        entry: &'static str,
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) -> Result<Self> {
        let max = gpu.limits.max_compute_workgroups_per_dimension;
        if let Some(&g) = groups.iter().find(|&&g| g > max) {
            return Err(Error::Limit {
                what: format!("{label}: workgroups in one dispatch dimension"),
                needed: g as u64,
                limit: max as u64,
            });
        }
        let pipeline = gpu.pipelines.get(&gpu.device, kernel, entry)?;
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
            .collect();
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&label),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        Ok(Pass { label, pipeline, bind_group, groups, shared: None })
    }
}

impl Pass {
    /// Records this dispatch into a compute pass.
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.groups[0], self.groups[1], self.groups[2]);
    }
}

/// The shader's activation code and slope.
pub fn act_code(act: Activation) -> (u32, f32) {
    match act {
        Activation::Identity => (0, 0.0),
        Activation::Relu => (1, 0.0),
        Activation::LeakyRelu(slope) => (2, slope),
        Activation::Tanh => (3, 0.0),
        Activation::Sigmoid => (4, 0.0),
    }
}

/// Workgroups for `threads` threads in groups of `size`, spread over x and y so that neither
/// exceeds the device's per-dimension limit. Returns ([x, y, 1], x).
pub fn groups_1d(gpu: &Gpu, threads: usize, size: usize) -> ([u32; 3], u32) {
    let total = threads.div_ceil(size).max(1) as u64;
    let max = gpu.limits.max_compute_workgroups_per_dimension.max(1) as u64;
    let x = total.min(max);
    let y = total.div_ceil(x);
    ([x as u32, y as u32, 1], x as u32)
}
