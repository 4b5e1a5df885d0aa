//! Spatial passes on images: pad (zero, reflect, replicate), bilinear resize and avg_pool2d.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::Gpu;
use crate::gpu::layout::{chw, pad4, padded_len};
use crate::gpu::ops::Pass;
use crate::model::Shape;
use crate::model::graph_op::PadMode;

use super::{groups, launch};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PadParams {
    count4: u32,
    c4: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    top: u32,
    left: u32,
    mode: u32,
    groups_x: u32,
    _pad: [u32; 2],
}

/// `[batch, C, H, W]` → padded by `pads` = [top, bottom, left, right].
#[allow(clippy::too_many_arguments)]
pub fn pad(gpu: &Gpu, label: &str, pads: [usize; 4], mode: PadMode, from: Shape, to: Shape, batch: usize, input: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Pass> {
    let ((c, ih, iw), (_, oh, ow)) = (chw(from), chw(to));
    let count4 = batch * padded_len(to) / 4;
    let (groups, groups_x) = groups(gpu, count4);
    let params = PadParams {
        count4: count4 as u32,
        c4: (pad4(c) / 4) as u32,
        in_h: ih as u32,
        in_w: iw as u32,
        out_h: oh as u32,
        out_w: ow as u32,
        top: pads[0] as u32,
        left: pads[2] as u32,
        mode: match mode {
            PadMode::Zero => 0,
            PadMode::Reflect => 1,
            PadMode::Replicate => 2,
        },
        groups_x,
        _pad: [0; 2],
    };
    launch(gpu, label, "pad", "main", &params, &[input, output], groups)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ResizeParams {
    count4: u32,
    c4: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    align: u32,
    groups_x: u32,
    ratio_h: f32,
    ratio_w: f32,
    _pad: [u32; 2],
}

/// The source-coordinate ratio of one axis, in f32 exactly as the CPU reference computes it.
fn ratio(input: usize, output: usize, scale: usize, align_corners: bool) -> f32 {
    if align_corners {
        if output > 1 { (input - 1) as f32 / (output - 1) as f32 } else { 0.0 }
    } else {
        (1.0 / scale as f64) as f32
    }
}

/// Bilinear upsampling of `[batch, C, H, W]` by `scale`.
#[allow(clippy::too_many_arguments)]
pub fn resize(gpu: &Gpu, label: &str, scale: [usize; 2], align_corners: bool, from: Shape, to: Shape, batch: usize, input: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Pass> {
    let ((c, ih, iw), (_, oh, ow)) = (chw(from), chw(to));
    let count4 = batch * padded_len(to) / 4;
    let (groups, groups_x) = groups(gpu, count4);
    let params = ResizeParams {
        count4: count4 as u32,
        c4: (pad4(c) / 4) as u32,
        in_h: ih as u32,
        in_w: iw as u32,
        out_h: oh as u32,
        out_w: ow as u32,
        align: align_corners as u32,
        groups_x,
        ratio_h: ratio(ih, oh, scale[0], align_corners),
        ratio_w: ratio(iw, ow, scale[1], align_corners),
        _pad: [0; 2],
    };
    launch(gpu, label, "resize", "main", &params, &[input, output], groups)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PoolParams {
    count4: u32,
    c4: u32,
    channels: u32,
    include_pad: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    kh: u32,
    kw: u32,
    sh: u32,
    sw: u32,
    top: u32,
    left: u32,
    groups_x: u32,
    _pad: u32,
}

/// Average pooling of `[batch, C, H, W]`; `padding` is [top, bottom, left, right].
#[allow(clippy::too_many_arguments)]
pub fn avg_pool2d(
    gpu: &Gpu,
    label: &str,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
    count_include_pad: bool,
    (from, to): (Shape, Shape),
    batch: usize,
    input: &wgpu::Buffer,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let ((c, ih, iw), (_, oh, ow)) = (chw(from), chw(to));
    let count4 = batch * padded_len(to) / 4;
    let (groups, groups_x) = groups(gpu, count4);
    let params = PoolParams {
        count4: count4 as u32,
        c4: (pad4(c) / 4) as u32,
        channels: c as u32,
        include_pad: count_include_pad as u32,
        in_h: ih as u32,
        in_w: iw as u32,
        out_h: oh as u32,
        out_w: ow as u32,
        kh: kernel[0] as u32,
        kw: kernel[1] as u32,
        sh: stride[0] as u32,
        sw: stride[1] as u32,
        top: padding[0] as u32,
        left: padding[2] as u32,
        groups_x,
        _pad: 0,
    };
    launch(gpu, label, "avg_pool2d", "main", &params, &[input, output], groups)
}
