//! Constant folding: evaluates a node whose inputs are all constants, on N-d f32/i64 arrays with
//! NumPy broadcasting, following the ONNX operator definitions (opsets 13 to 20). Enough for
//! spectral norm left as ops on the weights, equalized-learning-rate scales, and the shape
//! arithmetic of both torch exporters. The batch marker ([`BATCH`]) passes through the ops that
//! move shape entries around (Gather, Concat, Slice, Unsqueeze, …) and stops arithmetic.

use std::rc::Rc;

use crate::onnx::attr::{self, Msg};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{BATCH, Const, Data, batch_used, checked_dims};

mod arith;
mod index;
mod reduce;
mod shape_ops;
#[cfg(test)]
mod tests;

use arith::{binary, gemm, matmul, unary_f32, where_};
pub(crate) use index::broadcast;
use reduce::reduce;
pub(crate) use shape_ops::{axes_of, reshape_shape, shape_of, squeeze_shape, unsqueeze_shape};
use shape_ops::{concat, dims_from, expand, gather, range, slice, split, tile, transpose};

/// Ops [`eval`] evaluates.
pub(crate) const OPS: &[&str] = &[
    "Abs",
    "Add",
    "And",
    "Cast",
    "CastLike",
    "Ceil",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Div",
    "Dropout",
    "Equal",
    "Exp",
    "Expand",
    "Flatten",
    "Floor",
    "Gather",
    "Gemm",
    "Greater",
    "GreaterOrEqual",
    "Identity",
    "Less",
    "LessOrEqual",
    "Log",
    "MatMul",
    "Max",
    "Min",
    "Mul",
    "Neg",
    "Not",
    "Or",
    "Pow",
    "Range",
    "Reciprocal",
    "ReduceL1",
    "ReduceL2",
    "ReduceMax",
    "ReduceMean",
    "ReduceMin",
    "ReduceProd",
    "ReduceSum",
    "ReduceSumSquare",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Sign",
    "Size",
    "Slice",
    "Split",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Tile",
    "Transpose",
    "Unsqueeze",
    "Where",
];

/// The number of values folding may still create.
pub(crate) struct Budget {
    left: usize,
}

impl Budget {
    pub fn new(elements: usize) -> Self {
        Budget { left: elements }
    }

    pub(crate) fn take(&mut self, n: usize) -> Msg<()> {
        self.left = self.left.checked_sub(n).ok_or_else(|| {
            format!(
                "constant folding would create more than {} values in all; this does not look like a generator",
                crate::onnx::MAX_FOLDED_ELEMENTS
            )
        })?;
        Ok(())
    }
}

type Input = Option<Rc<Const>>;

fn need(inputs: &[Input], i: usize) -> Msg<&Const> {
    inputs.get(i).and_then(|x| x.as_deref()).ok_or_else(|| format!("input {i} is missing"))
}

fn opt(inputs: &[Input], i: usize) -> Option<&Const> {
    inputs.get(i).and_then(|x| x.as_deref())
}

/// Checked element count of a shape computed during folding, charged to the budget.
fn alloc(shape: &[usize], budget: &mut Budget) -> Msg<usize> {
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let (_, n) = checked_dims(&dims, "a folded tensor")?;
    budget.take(n)?;
    Ok(n)
}

/// Evaluates `node` (op `op`) on constant inputs; returns its outputs in order.
pub(crate) fn eval(node: &NodeProto, inputs: &[Input], budget: &mut Budget) -> Msg<Vec<Const>> {
    let op = node.op_type();
    let one = |c: Const| Ok(vec![c]);
    match op {
        "Constant" => one(constant(node)?),
        "Identity" => one(need(inputs, 0)?.clone()),
        "Dropout" => {
            let x = need(inputs, 0)?;
            let mask = Const::i64(x.shape.clone(), vec![1; x.len()]);
            Ok(vec![x.clone(), mask])
        }
        "Cast" => one(cast(need(inputs, 0)?, attr::int(node, "to", 1))?),
        "CastLike" => {
            let like = need(inputs, 1)?;
            let x = need(inputs, 0)?;
            one(if like.is_i64() {
                Const { shape: x.shape.clone(), data: Data::I64(x.to_i64()?) }
            } else {
                Const { shape: x.shape.clone(), data: Data::F32(x.to_f32()?) }
            })
        }
        "Shape" => one(shape_of(&need(inputs, 0)?.shape, false, node)?),
        "Size" => one(Const::i64(vec![], vec![need(inputs, 0)?.len() as i64])),
        "Gather" => one(gather(need(inputs, 0)?, need(inputs, 1)?, attr::int(node, "axis", 0), budget)?),
        "Unsqueeze" => {
            let x = need(inputs, 0)?;
            let axes = axes_of(node, inputs, 1)?.ok_or("needs axes")?;
            one(x.reshaped(unsqueeze_shape(&x.shape, &axes)?))
        }
        "Squeeze" => {
            let x = need(inputs, 0)?;
            let axes = axes_of(node, inputs, 1)?;
            one(x.reshaped(squeeze_shape(&x.shape, axes.as_deref())?))
        }
        "Flatten" => {
            let x = need(inputs, 0)?;
            let axis = attr::axis(attr::int(node, "axis", 1), x.shape.len() + 1)?;
            let outer: usize = x.shape[..axis].iter().product();
            one(x.reshaped(vec![outer, x.len() / outer.max(1)]))
        }
        "Reshape" => {
            let x = need(inputs, 0)?;
            let target = need(inputs, 1)?.ints()?;
            one(x.reshaped(reshape_shape(&x.shape, &target, attr::int(node, "allowzero", 0) != 0)?))
        }
        "Concat" => {
            let parts: Vec<&Const> = inputs.iter().flatten().map(|c| &**c).collect();
            one(concat(&parts, attr::int(node, "axis", 0), budget)?)
        }
        "Split" => split(node, inputs, budget),
        "Transpose" => {
            let x = need(inputs, 0)?;
            let perm = attr::ints(node, "perm").unwrap_or_else(|| (0..x.shape.len() as i64).rev().collect());
            one(transpose(x, &perm, budget)?)
        }
        "Slice" => one(slice(inputs, budget)?),
        "Tile" => one(tile(need(inputs, 0)?, &need(inputs, 1)?.ints()?, budget)?),
        "Expand" => {
            let x = need(inputs, 0)?;
            let target = dims_from(&need(inputs, 1)?.ints()?)?;
            let shape = broadcast(&x.shape, &target)?;
            one(expand(x, &shape, budget)?)
        }
        "ConstantOfShape" => {
            let dims = match opt(inputs, 0) {
                Some(s) => dims_from(&s.ints()?)?,
                None => vec![],
            };
            let n = alloc(&dims, budget)?;
            let value = match attr::tensor(node, "value") {
                Some(t) => one_value(t)?,
                None => Const::f32(vec![1], vec![0.0]),
            };
            one(match value.data {
                Data::F32(v) => Const::f32(dims, vec![v[0]; n]),
                Data::I64(v) => Const::i64(dims, vec![v[0]; n]),
            })
        }
        "Range" => one(range(need(inputs, 0)?, need(inputs, 1)?, need(inputs, 2)?, budget)?),
        "MatMul" => one(matmul(need(inputs, 0)?, need(inputs, 1)?, budget)?),
        "Gemm" => one(gemm(node, inputs, budget)?),
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Max" | "Min" | "Equal" | "Less" | "LessOrEqual" | "Greater"
        | "GreaterOrEqual" | "And" | "Or" => {
            let mut acc = need(inputs, 0)?.clone();
            for next in inputs.iter().skip(1).flatten() {
                acc = binary(op, &acc, next, budget)?;
            }
            one(acc)
        }
        "Where" => one(where_(need(inputs, 0)?, need(inputs, 1)?, need(inputs, 2)?, budget)?),
        "Clip" => {
            let x = need(inputs, 0)?;
            let lo = opt(inputs, 1).map(Const::scalar_f32).transpose()?.unwrap_or(f32::NEG_INFINITY);
            let hi = opt(inputs, 2).map(Const::scalar_f32).transpose()?.unwrap_or(f32::INFINITY);
            one(unary_f32(x, budget, |v| v.max(lo).min(hi))?)
        }
        "Neg" | "Abs" | "Sign" if need(inputs, 0)?.is_i64() => {
            let x = need(inputs, 0)?;
            let v = x.to_i64()?;
            if v.contains(&BATCH) {
                return Err(batch_used());
            }
            budget.take(v.len())?;
            let f: fn(i64) -> i64 = match op {
                "Neg" => |a: i64| a.wrapping_neg(),
                "Abs" => |a: i64| a.wrapping_abs(),
                _ => i64::signum,
            };
            one(Const::i64(x.shape.clone(), v.iter().map(|&a| f(a)).collect()))
        }
        "Not" => {
            let x = need(inputs, 0)?;
            budget.take(x.len())?;
            one(Const::i64(x.shape.clone(), x.to_i64()?.iter().map(|&a| i64::from(a == 0)).collect()))
        }
        "Neg" | "Abs" | "Sign" | "Sqrt" | "Reciprocal" | "Exp" | "Log" | "Floor" | "Ceil" | "Relu" | "Sigmoid"
        | "Tanh" => {
            let f: fn(f32) -> f32 = match op {
                "Neg" => |a: f32| -a,
                "Abs" => f32::abs,
                "Sign" => |a: f32| {
                    if a > 0.0 {
                        1.0
                    } else if a < 0.0 {
                        -1.0
                    } else {
                        0.0
                    }
                },
                "Sqrt" => f32::sqrt,
                "Reciprocal" => f32::recip,
                "Exp" => f32::exp,
                "Log" => f32::ln,
                "Floor" => f32::floor,
                "Ceil" => f32::ceil,
                "Relu" => |a: f32| a.max(0.0),
                "Sigmoid" => |a: f32| 1.0 / (1.0 + (-a).exp()),
                _ => f32::tanh,
            };
            one(unary_f32(need(inputs, 0)?, budget, f)?)
        }
        "ReduceSum" | "ReduceMean" | "ReduceL2" | "ReduceL1" | "ReduceMax" | "ReduceMin" | "ReduceProd"
        | "ReduceSumSquare" => one(reduce(node, inputs, budget)?),
        _ => Err(format!("cannot be evaluated on constants; webgan folds {}", OPS.join(", "))),
    }
}

fn constant(node: &NodeProto) -> Msg<Const> {
    if let Some(t) = attr::tensor(node, "value") {
        let mut none = |_: &str| -> crate::error::Result<Vec<u8>> {
            Err(crate::error::Error::Input("a Constant's value cannot use external data".into()))
        };
        let mut files = crate::onnx::tensor::ExternalFiles::new(&mut none);
        return crate::onnx::tensor::read(t, &mut files).map_err(|e| e.to_string());
    }
    if attr::has(node, "value_float") {
        return Ok(Const::f32(vec![], vec![attr::float(node, "value_float", 0.0)]));
    }
    if let Some(v) = attr::floats(node, "value_floats") {
        return Ok(Const::f32(vec![v.len()], v));
    }
    if attr::has(node, "value_int") {
        return Ok(Const::i64(vec![], vec![attr::int(node, "value_int", 0)]));
    }
    if let Some(v) = attr::ints(node, "value_ints") {
        return Ok(Const::i64(vec![v.len()], v));
    }
    Err("has no value, value_float(s) or value_int(s); sparse and string constants are not supported".into())
}

/// A one-element tensor attribute (ConstantOfShape's value).
fn one_value(t: &crate::onnx::proto::TensorProto) -> Msg<Const> {
    let mut none = |_: &str| -> crate::error::Result<Vec<u8>> {
        Err(crate::error::Error::Input("an attribute cannot use external data".into()))
    };
    let mut files = crate::onnx::tensor::ExternalFiles::new(&mut none);
    let c = crate::onnx::tensor::read(t, &mut files).map_err(|e| e.to_string())?;
    if c.len() != 1 {
        return Err(format!("value must hold one element, not shape {:?}", c.shape));
    }
    Ok(c)
}

fn cast(x: &Const, to: i64) -> Msg<Const> {
    match to {
        1 | 11 => Ok(Const { shape: x.shape.clone(), data: Data::F32(x.to_f32()?) }),
        10 => Ok(Const::f32(x.shape.clone(), x.to_f32()?.iter().map(|&v| half::f16::from_f32(v).to_f32()).collect())),
        16 => Ok(Const::f32(x.shape.clone(), x.to_f32()?.iter().map(|&v| half::bf16::from_f32(v).to_f32()).collect())),
        9 => Ok(Const::i64(
            x.shape.clone(),
            match &x.data {
                Data::F32(v) => v.iter().map(|&a| i64::from(a != 0.0)).collect(),
                Data::I64(v) => v.iter().map(|&a| i64::from(a != 0)).collect(),
            },
        )),
        2..=7 | 12 | 13 => Ok(Const { shape: x.shape.clone(), data: Data::I64(x.to_i64()?) }),
        _ => Err(format!("casts to {}, which webgan does not fold", crate::onnx::tensor::dtype_name(to as i32))),
    }
}
