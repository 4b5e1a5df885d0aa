//! Element-wise passes of graph ops: the unary functions (`unary.wgsl`), prelu, and add, sub,
//! mul, div with NumPy broadcasting (`binary.wgsl`).

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::Gpu;
use crate::gpu::layout::{chw, pad4, padded_len};
use crate::gpu::ops::Pass;
use crate::model::graph_op::GeluApproximate;
use crate::model::{GraphOp, Layer, NodeOp, Shape};

use super::{groups, launch, padded};

/// unary.wgsl's code and parameters for an element-wise op, `None` for other ops.
pub fn unary_code(op: &NodeOp) -> Option<(u32, f32, f32)> {
    Some(match op {
        NodeOp::Graph(GraphOp::Relu) | NodeOp::Layer(Layer::Relu) => (0, 0.0, 0.0),
        NodeOp::Graph(GraphOp::LeakyRelu { slope }) | NodeOp::Layer(Layer::LeakyRelu { slope }) => (1, *slope, 0.0),
        NodeOp::Graph(GraphOp::Elu { alpha }) => (2, *alpha, 0.0),
        NodeOp::Graph(GraphOp::Silu) => (3, 0.0, 0.0),
        NodeOp::Graph(GraphOp::Gelu { approximate: GeluApproximate::None }) => (4, 0.0, 0.0),
        NodeOp::Graph(GraphOp::Gelu { approximate: GeluApproximate::Tanh }) => (5, 0.0, 0.0),
        NodeOp::Graph(GraphOp::Sigmoid) | NodeOp::Layer(Layer::Sigmoid) => (6, 0.0, 0.0),
        NodeOp::Graph(GraphOp::Tanh) | NodeOp::Layer(Layer::Tanh) => (7, 0.0, 0.0),
        NodeOp::Graph(GraphOp::Clamp { min, max }) => (8, *min, *max),
        NodeOp::Graph(GraphOp::Sqrt) => (9, 0.0, 0.0),
        NodeOp::Graph(GraphOp::Reciprocal) => (10, 0.0, 0.0),
        NodeOp::Graph(GraphOp::Pow { exponent }) => (11, *exponent, 0.0),
        _ => return None,
    })
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct UnaryParams {
    count4: u32,
    c4: u32,
    channels: u32,
    op: u32,
    a: f32,
    b: f32,
    groups_x: u32,
    _pad: u32,
}

/// `[batch, shape]` → f(x), `code` from [`unary_code`].
pub fn unary(gpu: &Gpu, label: &str, code: (u32, f32, f32), shape: Shape, batch: usize, input: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Pass> {
    let count4 = batch * padded_len(shape) / 4;
    let (groups, groups_x) = groups(gpu, count4);
    let c = shape.channels();
    let params = UnaryParams {
        count4: count4 as u32,
        c4: (pad4(c) / 4) as u32,
        channels: c as u32,
        op: code.0,
        a: code.1,
        b: code.2,
        groups_x,
        _pad: 0,
    };
    launch(gpu, label, "unary", "main", &params, &[input, output], groups)
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PreluParams {
    count4: u32,
    c4: u32,
    channels: u32,
    groups_x: u32,
}

/// prelu with `slope` per channel, or one shared value (`slope.len() == 1`).
pub fn prelu(gpu: &Gpu, label: &str, slope: &[f32], shape: Shape, batch: usize, input: &wgpu::Buffer, output: &wgpu::Buffer) -> Result<Pass> {
    let c = shape.channels();
    let per_channel = if slope.len() == 1 { vec![slope[0]; c] } else { slope.to_vec() };
    let slope = crate::gpu::buffers::storage(gpu, &format!("{label} slope"), &padded(&per_channel, pad4(c), 0.0))?;
    let count4 = batch * padded_len(shape) / 4;
    let (groups, groups_x) = groups(gpu, count4);
    let params = PreluParams { count4: count4 as u32, c4: (pad4(c) / 4) as u32, channels: c as u32, groups_x };
    launch(gpu, label, "prelu", "main", &params, &[input, &slope, output], groups)
}

/// How binary.wgsl reads one operand (see its header).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Operand {
    pub sample: u32,
    pub sy: u32,
    pub sx: u32,
    pub splat: u32,
}

/// The reading of an operand of per-sample shape `s` (shared by the batch unless `batched`)
/// at the index of the broadcast output shape `out`. NumPy right alignment: a flat operand of
/// an image output lines up with W.
pub fn operand(s: Shape, batched: bool, out: Shape) -> Operand {
    let sample = if batched { padded_len(s) as u32 } else { 0 };
    match (s, out) {
        (Shape::Flat(f), Shape::Flat(_)) => Operand { sample, sy: 0, sx: 0, splat: (f == 1) as u32 },
        (Shape::Flat(f), Shape::Image { .. }) => Operand { sample, sy: 0, sx: (f > 1) as u32, splat: 1 },
        (Shape::Image { c, h, w }, _) => {
            let cp = pad4(c) as u32;
            Operand {
                sample,
                sy: if h > 1 { w as u32 * cp } else { 0 },
                sx: if w > 1 { cp } else { 0 },
                splat: (c == 1) as u32,
            }
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct BinaryParams {
    count4: u32,
    c4: u32,
    channels: u32,
    op: u32,
    out_h: u32,
    out_w: u32,
    groups_x: u32,
    _pad: u32,
    a: Operand,
    b: Operand,
}

/// binary.wgsl's code of add, sub, mul, div.
pub fn binary_code(op: &GraphOp) -> Option<u32> {
    match op {
        GraphOp::Add => Some(0),
        GraphOp::Sub => Some(1),
        GraphOp::Mul => Some(2),
        GraphOp::Div => Some(3),
        _ => None,
    }
}

/// `op(a, b)` → `[batch, out]`; each operand is (buffer, its reading from [`operand`]).
#[allow(clippy::too_many_arguments)]
pub fn binary(
    gpu: &Gpu,
    label: &str,
    op: u32,
    a: (&wgpu::Buffer, Operand),
    b: (&wgpu::Buffer, Operand),
    out: Shape,
    batch: usize,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let (c, h, w) = chw(out);
    let count4 = batch * padded_len(out) / 4;
    let (groups, groups_x) = groups(gpu, count4);
    let params = BinaryParams {
        count4: count4 as u32,
        c4: (pad4(c) / 4) as u32,
        channels: c as u32,
        op,
        out_h: h as u32,
        out_w: w as u32,
        groups_x,
        _pad: 0,
        a: a.1,
        b: b.1,
    };
    launch(gpu, label, "binary", "main", &params, &[a.0, b.0, output], groups)
}
