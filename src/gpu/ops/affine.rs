//! Per-channel scale, shift and activation: a batch norm or activation with nothing to fold into.

use bytemuck::{Pod, Zeroable};

use crate::model::Activation;
use crate::error::Result;
use crate::gpu::layout::{pad4, padded_len};
use crate::gpu::ops::{Pass, act_code, groups_1d};
use crate::gpu::{Gpu, buffers};
use crate::model::Shape;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    count4: u32,
    c4: u32,
    act: u32,
    slope: f32,
    groups_x: u32,
    _pad: [u32; 3],
}

/// y = act(x · scale[c] + shift[c]) over a `[batch, shape]` activation.
#[allow(clippy::too_many_arguments)]
pub fn pass(
    gpu: &Gpu,
    label: &str,
    scale: &[f32],
    shift: &[f32],
    act: Activation,
    shape: Shape,
    batch: usize,
    input: &wgpu::Buffer,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let cp = pad4(shape.channels());
    let count4 = batch * padded_len(shape) / 4;
    let (groups, groups_x) = groups_1d(gpu, count4, 64);
    let (act, slope) = act_code(act);
    let params = Params { count4: count4 as u32, c4: (cp / 4) as u32, act, slope, groups_x, _pad: [0; 3] };
    let padded = |v: &[f32], fill: f32| {
        let mut v = v.to_vec();
        v.resize(cp, fill);
        v
    };
    let uniform = buffers::uniform(gpu, &format!("{label} params"), &params);
    let scale = buffers::storage(gpu, &format!("{label} scale"), &padded(scale, 1.0))?;
    let shift = buffers::storage(gpu, &format!("{label} shift"), &padded(shift, 0.0))?;
    Pass::new(gpu, label.to_string(), "affine", &[&uniform, input, &scale, &shift, output], groups)
}
