//! Graph models (format 2) on the GPU: [`GraphPlan`] runs a checked graph node by node in
//! padded NHWC (see [`crate::gpu::layout`]), linear and convolutions through the shared GEMM
//! kernels (a following batch norm folded into the weights, an activation into the epilogue),
//! the format-1 passes where they fit, and the kernels of `shaders/graph/` for the rest.
//! Activation buffers are shared by values whose lifetimes do not overlap ([`liveness`]).
//!
//! Every graph kernel writes 0 into the padding lanes of the channels it writes, so a padding
//! lane never holds an inf or NaN that a later GEMM would multiply by a zero weight.

mod elementwise;
mod fuse;
mod gather;
mod lower;
pub mod liveness;
mod norm;
mod plan;
mod spatial;

pub use plan::GraphPlan;

use bytemuck::Pod;

use crate::error::Result;
use crate::gpu::ops::{Pass, groups_1d};
use crate::gpu::{Gpu, buffers};

/// Workgroups of 64 threads for `threads` threads (2-D beyond the per-dimension limit) and the
/// x count the kernels use to rebuild the linear index.
fn groups(gpu: &Gpu, threads: usize) -> ([u32; 3], u32) {
    groups_1d(gpu, threads, 64)
}

/// A dispatch of `kernel`'s `entry` with `params` as binding 0 and `buffers` as bindings 1…
fn launch<P: Pod>(
    gpu: &Gpu,
    label: &str,
    kernel: &'static str,
    entry: &'static str,
    params: &P,
    buffers: &[&wgpu::Buffer],
    groups: [u32; 3],
) -> Result<Pass> {
    let uniform = buffers::uniform(gpu, &format!("{label} params"), params);
    let mut all: Vec<&wgpu::Buffer> = Vec::with_capacity(buffers.len() + 1);
    all.push(&uniform);
    all.extend_from_slice(buffers);
    Pass::with_entry(gpu, label.to_string(), kernel, entry, &all, groups)
}

/// `values` padded with `fill` to `len` (per-channel tables are read as vec4 over padded
/// channels).
fn padded(values: &[f32], len: usize, fill: f32) -> Vec<f32> {
    let mut v = values.to_vec();
    v.resize(len.max(values.len()), fill);
    v
}
