//! Passes that reduce over part of a value: instance, group and layer norm (`norm.wgsl`),
//! pixel norm and reduce_mean.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::layout::{chw, pad4, padded_len};
use crate::gpu::ops::Pass;
use crate::gpu::{Gpu, buffers};
use crate::model::Shape;

use super::{groups, launch};

/// One normalization: blocks of `cb` channels × `hb` rows × all columns (see norm.wgsl), and
/// the affine (per channel, or per position of the block when `per_element`), already
/// defaulted to ones and zeros.
pub struct Norm {
    pub cb: usize,
    pub hb: usize,
    pub per_element: bool,
    pub eps: f32,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Norm {
    /// instance_norm (`groups` = C) and group_norm: each group of channels over all positions.
    pub fn groups(shape: Shape, groups: usize, eps: f32, weight: Option<&[f32]>, bias: Option<&[f32]>) -> Self {
        let (c, h, _) = chw(shape);
        Norm { cb: c / groups.max(1), hb: h, per_element: false, eps, weight: or(weight, c, 1.0), bias: or(bias, c, 0.0) }
    }

    /// layer_norm over the per-sample dims from `axis` on (`[C, H, W]`: 0, 1, 2; flat: 0).
    pub fn layer(shape: Shape, axis: usize, eps: f32, weight: Option<&[f32]>, bias: Option<&[f32]>) -> Self {
        let (c, h, w) = chw(shape);
        let (cb, hb) = match (shape, axis) {
            (Shape::Flat(_), _) | (_, 0) => (c, h),
            (_, 1) => (1, h),
            _ => (1, 1),
        };
        let features = cb * hb * w;
        Norm { cb, hb, per_element: true, eps, weight: or(weight, features, 1.0), bias: or(bias, features, 0.0) }
    }
}

fn or(values: Option<&[f32]>, n: usize, fill: f32) -> Vec<f32> {
    values.map_or_else(|| vec![fill; n], <[f32]>::to_vec)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct NormParams {
    blocks: u32,
    per_sample: u32,
    h_blocks: u32,
    groups_x: u32,
    cb: u32,
    hb: u32,
    channels: u32,
    cp: u32,
    h: u32,
    w: u32,
    affine: u32,
    eps: f32,
}

/// `[batch, shape]` normalized block by block.
pub fn norm(gpu: &Gpu, label: &str, spec: &Norm, shape: Shape, batch: usize, input: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Pass> {
    let (c, h, w) = chw(shape);
    let h_blocks = h / spec.hb;
    let per_sample = (c / spec.cb) * h_blocks;
    let blocks = batch * per_sample;
    let (groups, groups_x) = groups(gpu, blocks * 64);
    let params = NormParams {
        blocks: blocks as u32,
        per_sample: per_sample as u32,
        h_blocks: h_blocks as u32,
        groups_x,
        cb: spec.cb as u32,
        hb: spec.hb as u32,
        channels: c as u32,
        cp: pad4(c) as u32,
        h: h as u32,
        w: w as u32,
        affine: spec.per_element as u32,
        eps: spec.eps,
    };
    let weight = buffers::storage(gpu, &format!("{label} weight"), &spec.weight)?;
    let bias = buffers::storage(gpu, &format!("{label} bias"), &spec.bias)?;
    launch(gpu, label, "norm", "main", &params, &[input, &weight, &bias, output], groups)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PixelParams {
    pixels: u32,
    c4: u32,
    channels: u32,
    eps: f32,
    groups_x: u32,
    _pad: [u32; 3],
}

/// pixel_norm over the channels (features of a flat value) at every position.
pub fn pixel_norm(gpu: &Gpu, label: &str, eps: f32, shape: Shape, batch: usize, input: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Pass> {
    let (c, h, w) = chw(shape);
    let pixels = batch * h * w;
    let (groups, groups_x) = groups(gpu, pixels);
    let params = PixelParams { pixels: pixels as u32, c4: (pad4(c) / 4) as u32, channels: c as u32, eps, groups_x, _pad: [0; 3] };
    launch(gpu, label, "pixel_norm", "main", &params, &[input, output], groups)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ReduceParams {
    outputs: u32,
    out_c: u32,
    out_cp: u32,
    out_h: u32,
    out_w: u32,
    count: u32,
    groups_x: u32,
    sample: u32,
    r0: u32,
    r1: u32,
    s0: u32,
    s1: u32,
    s2: u32,
    _pad: [u32; 3],
    sel: [u32; 4],
}

/// Reductions at least this long get a workgroup per output instead of a thread.
const WIDE_REDUCTION: usize = 256;

/// reduce_mean of `[batch, from]` over per-sample `axes` into `[batch, to]`.
#[allow(clippy::too_many_arguments)]
pub fn reduce_mean(
    gpu: &Gpu,
    label: &str,
    axes: &[usize],
    keepdims: bool,
    from: Shape,
    to: Shape,
    batch: usize,
    input: &wgpu::Buffer,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let (c, h, w) = chw(from);
    let cp = pad4(c);
    // Logical dims (C, H, W) or (F, 1, 1) and their scalar strides in padded NHWC.
    let (dims, strides) = match from {
        Shape::Image { .. } => ([c, h, w], [1, w * cp, cp]),
        Shape::Flat(f) => ([f, 1, 1], [1, 0, 0]),
    };
    let reduced: Vec<usize> = (0..3).map(|d| if axes.contains(&d) { dims[d] } else { 1 }).collect();
    let count: usize = reduced.iter().product();
    // Which output coordinate (0 channel, 1 row, 2 column, 3 none) indexes each input dim.
    let sel = if keepdims {
        if matches!(from, Shape::Flat(_)) { [0, 3, 3, 3] } else { [0, 1, 2, 3] }
    } else {
        let mut sel = [3u32; 4];
        if let Some(kept) = (0..dims.len()).find(|d| !axes.contains(d) && (*d == 0 || matches!(from, Shape::Image { .. }))) {
            sel[kept] = 0;
        }
        sel
    };
    let (oc, oh, ow) = chw(to);
    let outputs = batch * padded_len(to);
    let wide = count >= WIDE_REDUCTION;
    let (groups, groups_x) = groups(gpu, if wide { outputs * 64 } else { outputs });
    let params = ReduceParams {
        outputs: outputs as u32,
        out_c: oc as u32,
        out_cp: pad4(oc) as u32,
        out_h: oh as u32,
        out_w: ow as u32,
        count: count as u32,
        groups_x,
        sample: padded_len(from) as u32,
        r0: reduced[0] as u32,
        r1: reduced[1] as u32,
        s0: strides[0] as u32,
        s1: strides[1] as u32,
        s2: strides[2] as u32,
        _pad: [0; 3],
        sel,
    };
    let entry = if wide { "wide" } else { "main" };
    launch(gpu, label, "reduce_mean", entry, &params, &[input, output], groups)
}
