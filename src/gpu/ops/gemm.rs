//! The implicit matrix multiply shared by linear, conv2d and conv_transpose2d: the op files
//! describe their layer as phases (dense convolutions) with packed weights, and this file turns
//! that description into one dispatch of `gemm_tiled` or `gemm_registers`.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};

use crate::model::Activation;
use crate::error::Result;
use crate::gpu::layout::{chw, pad4};
use crate::gpu::ops::{Pass, act_code};
use crate::gpu::{Gpu, Tuning, buffers};
use crate::model::Shape;

/// Uniform block of both gemm kernels (see the header of `shaders/gemm_tiled.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Params {
    pub rows: u32,
    pub grid_h: u32,
    pub grid_w: u32,
    pub n4: u32,
    pub in_h: u32,
    pub in_w: u32,
    pub in_c4: u32,
    pub out_h: u32,
    pub out_w: u32,
    pub out_step_y: u32,
    pub out_step_x: u32,
    pub in_step_y: u32,
    pub in_step_x: u32,
    pub tap_step_y: i32,
    pub tap_step_x: i32,
    pub act: u32,
    pub slope: f32,
    /// gemm_registers only: column blocks of 4 vec4 and workgroups along x.
    pub col_blocks: u32,
    pub groups_x: u32,
    pub _pad: u32,
}

/// One phase: a dense convolution over part of the output grid.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Phase {
    pub taps_y: u32,
    pub taps_x: u32,
    pub off_y: i32,
    pub off_x: i32,
    pub out_y0: u32,
    pub out_x0: u32,
    pub grid_h: u32,
    pub grid_w: u32,
    /// Offset of this phase's packed weights, in vec4s.
    pub w_offset: u32,
    /// Length of K in vec4s: taps × padded input channels / 4.
    pub k4: u32,
    pub _pad: [u32; 2],
}

/// A layer described as an implicit matrix multiply.
pub struct GemmSpec {
    pub phases: Vec<Phase>,
    /// Row-major `[Σ K, N4·4]`: per phase, rows (ty, tx, ci padded to 4), columns C_out padded.
    pub weights: Vec<f32>,
    pub in_step: [u32; 2],
    pub tap_step: [i32; 2],
    pub out_step: [u32; 2],
    /// The columns are every (y, x, channel) of the output, written as one flat row per
    /// sample: how a layer on a 1×1 input becomes a plain matrix multiply.
    pub flat_output: bool,
}

/// Packs one phase's weights: for each tap in `taps` and each padded input channel a row of
/// padded output channels, from `w(ci, co, tap)`. Returns the phase's K in vec4s.
pub fn pack_phase(
    out: &mut Vec<f32>,
    c_in: usize,
    c_out: usize,
    taps: &[(usize, usize)],
    w: impl Fn(usize, usize, (usize, usize)) -> f32,
) -> u32 {
    let (cip, cop) = (pad4(c_in), pad4(c_out));
    for &tap in taps {
        for ci in 0..cip {
            for co in 0..cop {
                out.push(if ci < c_in && co < c_out { w(ci, co, tap) } else { 0.0 });
            }
        }
    }
    (taps.len() * cip / 4) as u32
}

/// A gemm layer's constant data on the GPU (packed weights, bias, phase table), uploaded once
/// per model and shared by the plans of every batch size.
pub struct GemmWeights {
    /// The layer's geometry; its `weights` are emptied once uploaded.
    pub spec: GemmSpec,
    /// Output columns in vec4s (all of (y, x, channel) for a flat output).
    pub n4: usize,
    pub phases: wgpu::Buffer,
    pub weights: wgpu::Buffer,
    pub bias: wgpu::Buffer,
}

/// Uploads `spec`'s weights and the bias (per output channel of `out_shape`).
pub fn upload(gpu: &Gpu, label: &str, mut spec: GemmSpec, bias: &[f32], out_shape: Shape) -> Result<GemmWeights> {
    let (co, oh, ow) = chw(out_shape);
    let mut bias_padded = bias.to_vec();
    bias_padded.resize(pad4(co), 0.0);
    if spec.flat_output {
        bias_padded = bias_padded.repeat(oh * ow);
    }
    let n4 = bias_padded.len() / 4;
    let phases = buffers::storage(gpu, &format!("{label} phases"), &spec.phases)?;
    let weights = buffers::storage(gpu, &format!("{label} weights"), &spec.weights)?;
    let bias = buffers::storage(gpu, &format!("{label} bias"), &bias_padded)?;
    spec.weights = Vec::new();
    Ok(GemmWeights { spec, n4, phases, weights, bias })
}

/// Builds the dispatch of a gemm layer reading `input` (shape `in_shape`) and writing `output`.
#[allow(clippy::too_many_arguments)]
pub fn pass(
    gpu: &Gpu,
    label: &str,
    layer: &Arc<GemmWeights>,
    act: Activation,
    in_shape: Shape,
    out_shape: Shape,
    batch: usize,
    input: &wgpu::Buffer,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let spec = &layer.spec;
    let (ci, ih, iw) = chw(in_shape);
    let (_, oh, ow) = chw(out_shape);
    let n4 = layer.n4;
    let (oh, ow) = if spec.flat_output { (1, 1) } else { (oh, ow) };
    let grid_h = spec.phases.iter().map(|p| p.grid_h).max().unwrap_or(0);
    let grid_w = spec.phases.iter().map(|p| p.grid_w).max().unwrap_or(0);
    let rows = batch * (grid_h * grid_w) as usize;
    let (act, slope) = act_code(act);
    let mut params = Params {
        rows: rows as u32,
        grid_h,
        grid_w,
        n4: n4 as u32,
        in_h: ih as u32,
        in_w: iw as u32,
        in_c4: (pad4(ci) / 4) as u32,
        out_h: oh as u32,
        out_w: ow as u32,
        out_step_y: spec.out_step[0],
        out_step_x: spec.out_step[1],
        in_step_y: spec.in_step[0],
        in_step_x: spec.in_step[1],
        tap_step_y: spec.tap_step[0],
        tap_step_x: spec.tap_step[1],
        act,
        slope,
        ..Default::default()
    };
    let phases = spec.phases.len() as u32;
    let (kernel, entry, groups) = match gpu.tuning {
        Tuning::Gpu => ("gemm_tiled", "main", [rows.div_ceil(64) as u32, n4.div_ceil(16) as u32, phases]),
        Tuning::Emulator => {
            // Two vec4 columns per thread, or one for a 4-channel output; four rows either way.
            let (entry, per_thread) = if n4 < 2 { ("main_narrow", 1) } else { ("main", 2) };
            params.col_blocks = n4.div_ceil(per_thread) as u32;
            let threads = rows.div_ceil(4) * params.col_blocks as usize;
            let ([x, y, _], gx) = super::groups_1d(gpu, threads, 64);
            params.groups_x = gx;
            ("gemm_registers", entry, [x, y, phases])
        }
    };
    let uniform = buffers::uniform(gpu, &format!("{label} params"), &params);
    let buffers = [&uniform, &layer.phases, input, &layer.weights, &layer.bias, output];
    let mut pass = Pass::with_entry(gpu, label.to_string(), kernel, entry, &buffers, groups)?;
    pass.shared = Some(layer.clone());
    Ok(pass)
}
