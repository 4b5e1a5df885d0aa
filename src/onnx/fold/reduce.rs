//! The Reduce* family on constants (Sum, Mean, L1, L2, Max, Min, Prod, SumSquare).

use super::index::{offsets, strides};
use super::{Budget, Input, alloc, axes_of, need};
use crate::onnx::attr::{self, Msg};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::Const;

pub(super) fn reduce(node: &NodeProto, inputs: &[Input], budget: &mut Budget) -> Msg<Const> {
    let x = need(inputs, 0)?;
    let rank = x.shape.len();
    let axes = axes_of(node, inputs, 1)?.unwrap_or_default();
    let keepdims = attr::int(node, "keepdims", 1) != 0;
    if axes.is_empty() && attr::int(node, "noop_with_empty_axes", 0) != 0 {
        return Ok(x.clone());
    }
    let axes: Vec<usize> = if axes.is_empty() {
        (0..rank).collect()
    } else {
        axes.iter().map(|&a| attr::axis(a, rank)).collect::<Msg<_>>()?
    };
    let kept: Vec<usize> = x.shape.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect();
    let n = alloc(&kept, budget)?;
    let count: usize = axes.iter().map(|&a| x.shape[a]).product();
    let ostride = strides(&kept);
    let stride: Vec<usize> = (0..rank).map(|i| if axes.contains(&i) { 0 } else { ostride[i] }).collect();
    let v = x.to_f32()?;
    let op = node.op_type();
    let init = match op {
        "ReduceMax" => f32::NEG_INFINITY,
        "ReduceMin" => f32::INFINITY,
        "ReduceProd" => 1.0,
        _ => 0.0,
    };
    let mut acc = vec![init; n];
    for (&o, &a) in offsets(&x.shape, &stride).iter().zip(v.iter()) {
        let s = &mut acc[o];
        *s = match op {
            "ReduceMax" => s.max(a),
            "ReduceMin" => s.min(a),
            "ReduceProd" => *s * a,
            "ReduceL1" => *s + a.abs(),
            "ReduceL2" | "ReduceSumSquare" => *s + a * a,
            _ => *s + a,
        };
    }
    match op {
        "ReduceMean" => acc.iter_mut().for_each(|s| *s /= count as f32),
        "ReduceL2" => acc.iter_mut().for_each(|s| *s = s.sqrt()),
        _ => {}
    }
    let shape = if keepdims {
        kept
    } else {
        x.shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
    };
    if x.is_i64() && matches!(op, "ReduceSum" | "ReduceProd" | "ReduceMax" | "ReduceMin") {
        return Ok(Const::i64(shape, acc.iter().map(|&s| s as i64).collect()));
    }
    Ok(Const::f32(shape, acc))
}
