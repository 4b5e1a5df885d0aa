//! Arithmetic on constant arrays: elementwise unary and broadcast binary ops, Where, MatMul and
//! Gemm. Integer arithmetic refuses the batch marker; comparisons may look at it.

use super::index::{Index, broadcast};
use super::shape_ops::transpose;
use super::{Budget, Input, alloc, need, opt};
use crate::onnx::attr::{self, Msg};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{BATCH, Const, batch_used};

pub(super) fn unary_f32(x: &Const, budget: &mut Budget, f: impl Fn(f32) -> f32) -> Msg<Const> {
    let v = x.to_f32()?;
    budget.take(v.len())?;
    Ok(Const::f32(x.shape.clone(), v.iter().map(|&a| f(a)).collect()))
}

pub(super) fn binary(op: &str, a: &Const, b: &Const, budget: &mut Budget) -> Msg<Const> {
    let shape = broadcast(&a.shape, &b.shape)?;
    let n = alloc(&shape, budget)?;
    let (ia, ib) = (Index::new(&shape, &a.shape), Index::new(&shape, &b.shape));
    let compare = matches!(op, "Equal" | "Less" | "LessOrEqual" | "Greater" | "GreaterOrEqual" | "And" | "Or");
    if a.is_i64() && b.is_i64() && op != "Pow" {
        let (va, vb) = (a.to_i64()?, b.to_i64()?);
        let batch_in = |v: &[i64]| v.contains(&BATCH);
        if !compare && (batch_in(&va) || batch_in(&vb)) {
            return Err(batch_used());
        }
        let f = |x: i64, y: i64| -> Msg<i64> {
            Ok(match op {
                "Add" => x.wrapping_add(y),
                "Sub" => x.wrapping_sub(y),
                "Mul" => x.wrapping_mul(y),
                "Div" => x.checked_div(y).ok_or("divides an integer by zero")?,
                "Max" => x.max(y),
                "Min" => x.min(y),
                "Equal" => i64::from(x == y),
                "Less" => i64::from(x < y),
                "LessOrEqual" => i64::from(x <= y),
                "Greater" => i64::from(x > y),
                "GreaterOrEqual" => i64::from(x >= y),
                "And" => i64::from(x != 0 && y != 0),
                _ => i64::from(x != 0 || y != 0),
            })
        };
        let v: Msg<Vec<i64>> = (0..n).map(|i| f(va[ia.at(i)], vb[ib.at(i)])).collect();
        return Ok(Const::i64(shape, v?));
    }
    let (va, vb) = (a.to_f32()?, b.to_f32()?);
    if compare {
        let f = |x: f32, y: f32| -> i64 {
            i64::from(match op {
                "Equal" => x == y,
                "Less" => x < y,
                "LessOrEqual" => x <= y,
                "Greater" => x > y,
                "GreaterOrEqual" => x >= y,
                "And" => x != 0.0 && y != 0.0,
                _ => x != 0.0 || y != 0.0,
            })
        };
        return Ok(Const::i64(shape, (0..n).map(|i| f(va[ia.at(i)], vb[ib.at(i)])).collect()));
    }
    let f: fn(f32, f32) -> f32 = match op {
        "Add" => |x, y| x + y,
        "Sub" => |x, y| x - y,
        "Mul" => |x, y| x * y,
        "Div" => |x, y| x / y,
        "Pow" => f32::powf,
        "Max" => f32::max,
        _ => f32::min,
    };
    Ok(Const::f32(shape, (0..n).map(|i| f(va[ia.at(i)], vb[ib.at(i)])).collect()))
}

pub(super) fn where_(c: &Const, x: &Const, y: &Const, budget: &mut Budget) -> Msg<Const> {
    let shape = broadcast(&broadcast(&c.shape, &x.shape)?, &y.shape)?;
    let n = alloc(&shape, budget)?;
    let cond = c.to_i64()?;
    let (ic, ix, iy) = (Index::new(&shape, &c.shape), Index::new(&shape, &x.shape), Index::new(&shape, &y.shape));
    let pick = |i: usize| cond[ic.at(i)] != 0;
    if x.is_i64() && y.is_i64() {
        let (vx, vy) = (x.to_i64()?, y.to_i64()?);
        return Ok(Const::i64(shape, (0..n).map(|i| if pick(i) { vx[ix.at(i)] } else { vy[iy.at(i)] }).collect()));
    }
    let (vx, vy) = (x.to_f32()?, y.to_f32()?);
    Ok(Const::f32(shape, (0..n).map(|i| if pick(i) { vx[ix.at(i)] } else { vy[iy.at(i)] }).collect()))
}

/// `a @ b` with NumPy semantics (1-d operands promoted, batch dims broadcast).
pub(super) fn matmul(a: &Const, b: &Const, budget: &mut Budget) -> Msg<Const> {
    if a.shape.is_empty() || b.shape.is_empty() {
        return Err("multiplies a scalar".into());
    }
    let mut sa = a.shape.clone();
    let mut sb = b.shape.clone();
    if sa.len() == 1 {
        sa.insert(0, 1);
    }
    if sb.len() == 1 {
        sb.push(1);
    }
    let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
    let (k2, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
    if k != k2 {
        return Err(format!("multiplies shapes {:?} and {:?}", a.shape, b.shape));
    }
    let batch = broadcast(&sa[..sa.len() - 2], &sb[..sb.len() - 2])?;
    let mut shape = batch.clone();
    shape.extend([m, n]);
    let total = alloc(&shape, budget)?;
    crate::limits::mul("the matrix product", total, k)?;
    let (va, vb) = (a.to_f32()?, b.to_f32()?);
    let (ia, ib) = (Index::new(&batch, &sa[..sa.len() - 2]), Index::new(&batch, &sb[..sb.len() - 2]));
    let batches: usize = batch.iter().product();
    let mut out = vec![0f32; total];
    for bi in 0..batches {
        let (pa, pb) = (ia.at(bi) * m * k, ib.at(bi) * k * n);
        let po = bi * m * n;
        for i in 0..m {
            for p in 0..k {
                let x = va[pa + i * k + p];
                if x == 0.0 {
                    continue;
                }
                let row = &vb[pb + p * n..pb + (p + 1) * n];
                for (o, &y) in out[po + i * n..po + (i + 1) * n].iter_mut().zip(row) {
                    *o += x * y;
                }
            }
        }
    }
    let mut final_shape = batch;
    if a.shape.len() != 1 {
        final_shape.push(m);
    }
    if b.shape.len() != 1 {
        final_shape.push(n);
    }
    Ok(Const::f32(final_shape, out))
}

pub(super) fn gemm(node: &NodeProto, inputs: &[Input], budget: &mut Budget) -> Msg<Const> {
    let mut a = need(inputs, 0)?.clone();
    let mut b = need(inputs, 1)?.clone();
    if a.shape.len() != 2 || b.shape.len() != 2 {
        return Err(format!("multiplies shapes {:?} and {:?}; Gemm needs matrices", a.shape, b.shape));
    }
    if attr::int(node, "transA", 0) != 0 {
        a = transpose(&a, &[1, 0], budget)?;
    }
    if attr::int(node, "transB", 0) != 0 {
        b = transpose(&b, &[1, 0], budget)?;
    }
    let mut y = matmul(&a, &b, budget)?;
    let alpha = attr::float(node, "alpha", 1.0);
    if alpha != 1.0 {
        y = unary_f32(&y, budget, |v| v * alpha)?;
    }
    if let Some(c) = opt(inputs, 2) {
        let beta = attr::float(node, "beta", 1.0);
        let c = if beta != 1.0 { unary_f32(c, budget, |v| v * beta)? } else { c.clone() };
        y = binary("Add", &y, &c, budget)?;
    }
    Ok(y)
}
