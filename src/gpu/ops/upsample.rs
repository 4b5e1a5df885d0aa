//! Nearest-neighbour upsampling on padded NHWC activations.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::layout::{chw, pad4, padded_len};
use crate::gpu::ops::{Pass, groups_1d};
use crate::gpu::{Gpu, buffers};
use crate::model::Shape;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    count4: u32,
    c4: u32,
    in_h: u32,
    in_w: u32,
    out_h: u32,
    out_w: u32,
    sh: u32,
    sw: u32,
    groups_x: u32,
    _pad: [u32; 3],
}

/// `[batch, C, H, W]` → `[batch, C, H·sh, W·sw]`.
#[allow(clippy::too_many_arguments)]
pub fn pass(
    gpu: &Gpu,
    label: &str,
    scale: [usize; 2],
    from: Shape,
    to: Shape,
    batch: usize,
    input: &wgpu::Buffer,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let ((c, ih, iw), (_, oh, ow)) = (chw(from), chw(to));
    let count4 = batch * padded_len(to) / 4;
    let (groups, groups_x) = groups_1d(gpu, count4, 64);
    let params = Params {
        count4: count4 as u32,
        c4: (pad4(c) / 4) as u32,
        in_h: ih as u32,
        in_w: iw as u32,
        out_h: oh as u32,
        out_w: ow as u32,
        sh: scale[0] as u32,
        sw: scale[1] as u32,
        groups_x,
        _pad: [0; 3],
    };
    let uniform = buffers::uniform(gpu, &format!("{label} params"), &params);
    Pass::new(gpu, label.to_string(), "upsample", &[&uniform, input, output], groups)
}
