//! Appends one-hot class vectors to flat latents on the GPU.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::layout::pad4;
use crate::gpu::ops::{Pass, groups_1d};
use crate::gpu::{Gpu, buffers};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    count: u32,
    features: u32,
    classes: u32,
    in_fp: u32,
    out_fp: u32,
    groups_x: u32,
    _pad: [u32; 2],
}

/// `[batch, features]` + labels `[batch]` → `[batch, features + classes]`.
#[allow(clippy::too_many_arguments)]
pub fn pass(
    gpu: &Gpu,
    label: &str,
    features: usize,
    classes: usize,
    batch: usize,
    input: &wgpu::Buffer,
    labels: &wgpu::Buffer,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let out_fp = pad4(features + classes);
    let count = batch * out_fp;
    let (groups, groups_x) = groups_1d(gpu, count, 64);
    let params = Params {
        count: count as u32,
        features: features as u32,
        classes: classes as u32,
        in_fp: pad4(features) as u32,
        out_fp: out_fp as u32,
        groups_x,
        _pad: [0; 2],
    };
    let uniform = buffers::uniform(gpu, &format!("{label} params"), &params);
    Pass::new(gpu, label.to_string(), "concat_one_hot", &[&uniform, input, labels, output], groups)
}
