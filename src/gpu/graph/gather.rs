//! Passes that gather values into place: concat (one dispatch per part) and embedding.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::layout::{chw, pad4};
use crate::gpu::ops::Pass;
use crate::gpu::{Gpu, buffers};
use crate::model::Shape;

use super::{groups, launch};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ConcatParams {
    count: u32,
    c_real: u32,
    c_range: u32,
    in_cp: u32,
    h: u32,
    w: u32,
    out_cp: u32,
    out_h: u32,
    out_w: u32,
    off_c: u32,
    off_y: u32,
    off_x: u32,
    groups_x: u32,
    _pad: [u32; 3],
}

/// The passes of a concat of `parts` (buffer, per-sample shape) on per-sample `axis` (0:
/// channels or features, 1: rows, 2: columns) into `[batch, out]`.
pub fn concat(gpu: &Gpu, label: &str, axis: usize, parts: &[(&wgpu::Buffer, Shape)], out: Shape, batch: usize, output: &wgpu::Buffer) -> Result<Vec<Pass>> {
    let (oc, oh, ow) = chw(out);
    let out_cp = pad4(oc);
    let mut offset = 0usize;
    let mut passes = Vec::with_capacity(parts.len());
    for (i, (buffer, shape)) in parts.iter().enumerate() {
        let (c, h, w) = chw(*shape);
        let last = i + 1 == parts.len();
        let (c_real, c_range, along) = match axis {
            // Channels start anywhere; the last part also zeroes the output's padding lanes.
            0 => (c, c + if last { out_cp - oc } else { 0 }, c),
            1 => (pad4(c), pad4(c), h),
            _ => (pad4(c), pad4(c), w),
        };
        let count = batch * h * w * c_range;
        let (groups, groups_x) = groups(gpu, count);
        let at = |a: usize| if axis == a { offset as u32 } else { 0 };
        let params = ConcatParams {
            count: count as u32,
            c_real: c_real as u32,
            c_range: c_range as u32,
            in_cp: pad4(c) as u32,
            h: h as u32,
            w: w as u32,
            out_cp: out_cp as u32,
            out_h: oh as u32,
            out_w: ow as u32,
            off_c: at(0),
            off_y: at(1),
            off_x: at(2),
            groups_x,
            _pad: [0; 3],
        };
        passes.push(launch(gpu, &format!("{label} part {i}"), "concat", "main", &params, &[buffer, output], groups)?);
        offset += along;
    }
    Ok(passes)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct EmbeddingParams {
    count: u32,
    dim: u32,
    dp: u32,
    groups_x: u32,
}

/// One row of `weight` `[classes, dim]` per sample's class id → `[batch, dim]`.
pub fn embedding(gpu: &Gpu, label: &str, weight: &[f32], dim: usize, batch: usize, labels: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Pass> {
    let table = buffers::storage(gpu, &format!("{label} weight"), weight)?;
    let count = batch * pad4(dim);
    let (groups, groups_x) = groups(gpu, count);
    let params = EmbeddingParams { count: count as u32, dim: dim as u32, dp: pad4(dim) as u32, groups_x };
    launch(gpu, label, "embedding", "main", &params, &[labels, &table, output], groups)
}
