//! Shape arithmetic and data movement on constants: Shape, Squeeze/Unsqueeze/Reshape targets,
//! Expand, Gather, Concat, Split, Transpose, Slice, Tile and Range. The batch marker passes
//! through the ops that only move entries.

use std::rc::Rc;

use super::index::{Index, offsets, strides};
use super::{Budget, Input, alloc, need, opt};
use crate::limits::MAX_ELEMENTS;
use crate::onnx::attr::{self, Msg};
use crate::onnx::proto::NodeProto;
use crate::onnx::tensor::{BATCH, Const, Data, batch_used, checked_dims};

/// `Shape` of a tensor whose full shape is `dims` (after the batch marker [`BATCH`] when
/// `batch_first`: the shape of an activation), with opset 15's
/// `start`/`end`.
pub(crate) fn shape_of(dims: &[usize], batch_first: bool, node: &NodeProto) -> Msg<Const> {
    let mut full: Vec<i64> = dims.iter().map(|&d| d as i64).collect();
    if batch_first {
        full.insert(0, BATCH);
    }
    let r = full.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let start = clamp(attr::int(node, "start", 0));
    let end = clamp(attr::int(node, "end", r));
    let part = if start < end { full[start..end].to_vec() } else { vec![] };
    Ok(Const::i64(vec![part.len()], part))
}

/// The `axes` of Squeeze/Unsqueeze/Reduce*: input `index` (opset 13+/18+) or the attribute.
pub(crate) fn axes_of(node: &NodeProto, inputs: &[Input], index: usize) -> Msg<Option<Vec<i64>>> {
    if let Some(a) = opt(inputs, index) {
        return Ok(Some(a.ints()?));
    }
    Ok(attr::ints(node, "axes"))
}

pub(super) fn dims_from(values: &[i64]) -> Msg<Vec<usize>> {
    if values.contains(&BATCH) {
        return Err(batch_used());
    }
    let (dims, _) = checked_dims(values, "the shape")?;
    Ok(dims)
}

pub(crate) fn unsqueeze_shape(shape: &[usize], axes: &[i64]) -> Msg<Vec<usize>> {
    let rank = shape.len() + axes.len();
    let mut norm: Vec<usize> = axes.iter().map(|&a| attr::axis(a, rank)).collect::<Msg<_>>()?;
    norm.sort_unstable();
    if norm.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("repeats an axis in {axes:?}"));
    }
    let mut out = Vec::with_capacity(rank);
    let mut it = shape.iter();
    for i in 0..rank {
        if norm.binary_search(&i).is_ok() {
            out.push(1);
        } else {
            out.push(*it.next().ok_or("bad axes")?);
        }
    }
    Ok(out)
}

pub(crate) fn squeeze_shape(shape: &[usize], axes: Option<&[i64]>) -> Msg<Vec<usize>> {
    match axes {
        None => Ok(shape.iter().copied().filter(|&d| d != 1).collect()),
        Some(axes) => {
            let norm: Vec<usize> = axes.iter().map(|&a| attr::axis(a, shape.len())).collect::<Msg<_>>()?;
            for &a in &norm {
                if shape[a] != 1 {
                    return Err(format!("squeezes axis {a} of size {} (shape {shape:?})", shape[a]));
                }
            }
            Ok(shape.iter().enumerate().filter(|(i, _)| !norm.contains(i)).map(|(_, &d)| d).collect())
        }
    }
}

/// Resolves a Reshape target (`0` copies, `-1` infers) for a constant of shape `shape`.
pub(crate) fn reshape_shape(shape: &[usize], target: &[i64], allowzero: bool) -> Msg<Vec<usize>> {
    if target.contains(&BATCH) {
        return Err(batch_used());
    }
    let count: usize = shape.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            0 if !allowzero => {
                out.push(*shape.get(i).ok_or_else(|| format!("copies dimension {i} of shape {shape:?}"))?)
            }
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            t if t >= 0 => out.push(usize::try_from(t).map_err(|_| "bad shape")?),
            _ => return Err(format!("bad reshape target {target:?}")),
        }
    }
    let known = crate::limits::product("the reshape target", &out)?;
    if let Some(i) = infer {
        if known == 0 || !count.is_multiple_of(known) {
            return Err(format!("cannot reshape {shape:?} to {target:?}"));
        }
        out[i] = count / known;
    } else if known != count {
        return Err(format!("cannot reshape {shape:?} ({count} values) to {target:?}"));
    }
    Ok(out)
}

/// Picks elements of `x` at `offsets` (same data type).
pub(super) fn pick(x: &Const, shape: Vec<usize>, offsets: &[usize]) -> Const {
    match &x.data {
        Data::F32(v) => Const::f32(shape, offsets.iter().map(|&o| v[o]).collect()),
        Data::I64(v) => Const::i64(shape, offsets.iter().map(|&o| v[o]).collect()),
    }
}

pub(super) fn expand(x: &Const, shape: &[usize], budget: &mut Budget) -> Msg<Const> {
    let n = alloc(shape, budget)?;
    let index = Index::new(shape, &x.shape);
    let offs: Vec<usize> = (0..n).map(|i| index.at(i)).collect();
    Ok(pick(x, shape.to_vec(), &offs))
}

pub(super) fn gather(data: &Const, indices: &Const, axis: i64, budget: &mut Budget) -> Msg<Const> {
    if data.shape.is_empty() {
        return Err("gathers from a scalar".into());
    }
    let axis = attr::axis(axis, data.shape.len())?;
    let dim = data.shape[axis] as i64;
    let idx = indices.to_i64()?;
    let mut shape = data.shape[..axis].to_vec();
    shape.extend_from_slice(&indices.shape);
    shape.extend_from_slice(&data.shape[axis + 1..]);
    alloc(&shape, budget)?;
    let outer: usize = data.shape[..axis].iter().product();
    let inner: usize = data.shape[axis + 1..].iter().product();
    let mut offs = Vec::with_capacity(outer * idx.len() * inner);
    for o in 0..outer {
        for &i in idx.iter() {
            let j = if i < 0 { i + dim } else { i };
            if j < 0 || j >= dim {
                return Err(format!("index {i} is out of range for dimension {dim}"));
            }
            let base = (o * dim as usize + j as usize) * inner;
            offs.extend(base..base + inner);
        }
    }
    Ok(pick(data, shape, &offs))
}

pub(super) fn concat(parts: &[&Const], axis: i64, budget: &mut Budget) -> Msg<Const> {
    let first = parts.first().ok_or("has no inputs")?;
    let rank = first.shape.len();
    let axis = attr::axis(axis, rank)?;
    let mut shape = first.shape.clone();
    shape[axis] = 0;
    for p in parts {
        if p.shape.len() != rank || p.shape.iter().enumerate().any(|(i, &d)| i != axis && d != first.shape[i]) {
            return Err(format!("concatenates shapes {:?} and {:?} on axis {axis}", first.shape, p.shape));
        }
        shape[axis] = crate::limits::add("the concatenation", shape[axis], p.shape[axis])?;
    }
    alloc(&shape, budget)?;
    let outer: usize = shape[..axis].iter().product();
    let any_f32 = parts.iter().any(|p| !p.is_i64());
    if any_f32 {
        let vals: Vec<Rc<[f32]>> = parts.iter().map(|p| p.to_f32()).collect::<Msg<_>>()?;
        let mut out = Vec::new();
        for o in 0..outer {
            for (p, v) in parts.iter().zip(&vals) {
                let chunk = p.len() / outer.max(1);
                out.extend_from_slice(&v[o * chunk..(o + 1) * chunk]);
            }
        }
        return Ok(Const::f32(shape, out));
    }
    let vals: Vec<Rc<[i64]>> = parts.iter().map(|p| p.to_i64()).collect::<Msg<_>>()?;
    let mut out = Vec::new();
    for o in 0..outer {
        for (p, v) in parts.iter().zip(&vals) {
            let chunk = p.len() / outer.max(1);
            out.extend_from_slice(&v[o * chunk..(o + 1) * chunk]);
        }
    }
    Ok(Const::i64(shape, out))
}

pub(super) fn split(node: &NodeProto, inputs: &[Input], budget: &mut Budget) -> Msg<Vec<Const>> {
    let x = need(inputs, 0)?;
    let axis = attr::axis(attr::int(node, "axis", 0), x.shape.len())?;
    let dim = x.shape[axis];
    let outputs = node.output.len();
    let sizes: Vec<usize> = match opt(inputs, 1).map(Const::ints).transpose()?.or_else(|| attr::ints(node, "split")) {
        Some(s) => dims_from(&s)?,
        None => {
            let parts =
                usize::try_from(attr::int(node, "num_outputs", outputs as i64)).map_err(|_| "bad num_outputs")?;
            if parts == 0 {
                return Err("splits into 0 parts".into());
            }
            let size = dim.div_ceil(parts);
            (0..parts).map(|i| size.min(dim.saturating_sub(i * size))).collect()
        }
    };
    if sizes.iter().sum::<usize>() != dim {
        return Err(format!("split sizes {sizes:?} do not add up to dimension {dim}"));
    }
    let mut start = 0;
    let mut out = Vec::new();
    for s in sizes {
        let mut shape = x.shape.clone();
        shape[axis] = s;
        out.push(slice_axes(x, &[(axis, start as i64, s, 1)], shape, budget)?);
        start += s;
    }
    Ok(out)
}

pub(super) fn transpose(x: &Const, perm: &[i64], budget: &mut Budget) -> Msg<Const> {
    let rank = x.shape.len();
    let perm: Vec<usize> = perm.iter().map(|&p| attr::axis(p, rank)).collect::<Msg<_>>()?;
    let mut seen = vec![false; rank];
    for &p in &perm {
        if std::mem::replace(&mut seen[p], true) {
            return Err(format!("perm {perm:?} is not a permutation"));
        }
    }
    if perm.len() != rank {
        return Err(format!("perm {perm:?} does not match rank {rank}"));
    }
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
    alloc(&shape, budget)?;
    let src = strides(&x.shape);
    let stride: Vec<usize> = perm.iter().map(|&p| src[p]).collect();
    Ok(pick(x, shape.clone(), &offsets(&shape, &stride)))
}

/// Elements of `x` along `(axis, start, count, step)` for each sliced axis.
pub(super) fn slice_axes(
    x: &Const,
    axes: &[(usize, i64, usize, i64)],
    shape: Vec<usize>,
    budget: &mut Budget,
) -> Msg<Const> {
    alloc(&shape, budget)?;
    let src = strides(&x.shape);
    let mut stride: Vec<i64> = src.iter().map(|&s| s as i64).collect();
    let mut base = 0i64;
    for &(axis, start, _, step) in axes {
        base += start * src[axis] as i64;
        stride[axis] = step * src[axis] as i64;
    }
    let n: usize = shape.iter().product();
    let mut offs = Vec::with_capacity(n);
    let mut counter = vec![0usize; shape.len()];
    for _ in 0..n {
        let o: i64 = base + counter.iter().zip(&stride).map(|(&c, &s)| c as i64 * s).sum::<i64>();
        offs.push(o as usize);
        for k in (0..shape.len()).rev() {
            counter[k] += 1;
            if counter[k] < shape[k] {
                break;
            }
            counter[k] = 0;
        }
    }
    Ok(pick(x, shape, &offs))
}

pub(super) fn slice(inputs: &[Input], budget: &mut Budget) -> Msg<Const> {
    let x = need(inputs, 0)?;
    let starts = need(inputs, 1)?.ints()?;
    let ends = need(inputs, 2)?.ints()?;
    let rank = x.shape.len();
    let axes: Vec<usize> = match opt(inputs, 3) {
        Some(a) => a.ints()?.iter().map(|&a| attr::axis(a, rank)).collect::<Msg<_>>()?,
        None => (0..starts.len()).collect(),
    };
    let steps = match opt(inputs, 4) {
        Some(s) => s.ints()?,
        None => vec![1; starts.len()],
    };
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err("starts, ends, axes and steps differ in length".into());
    }
    let mut shape = x.shape.clone();
    let mut parts = Vec::new();
    for i in 0..starts.len() {
        let (axis, step) = (axes[i], steps[i]);
        if step == 0 {
            return Err("has step 0".into());
        }
        let dim = x.shape[axis] as i64;
        let norm = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
        let (start, end) = if step > 0 {
            (norm(starts[i]).clamp(0, dim), norm(ends[i]).clamp(0, dim))
        } else {
            (norm(starts[i]).clamp(0, dim - 1), norm(ends[i]).clamp(-1, dim - 1))
        };
        let count = if step > 0 {
            if end > start { (end - start + step - 1) / step } else { 0 }
        } else if start > end {
            (start - end + (-step) - 1) / (-step)
        } else {
            0
        };
        shape[axis] = count as usize;
        parts.push((axis, start.max(0), count as usize, step));
    }
    slice_axes(x, &parts, shape, budget)
}

pub(super) fn tile(x: &Const, repeats: &[i64], budget: &mut Budget) -> Msg<Const> {
    let reps = dims_from(repeats)?;
    if reps.len() != x.shape.len() {
        return Err(format!("repeats {repeats:?} do not match rank {}", x.shape.len()));
    }
    let shape: Vec<usize> = x.shape.iter().zip(&reps).map(|(&d, &r)| d * r).collect();
    let n = alloc(&shape, budget)?;
    let src = strides(&x.shape);
    let mut offs = Vec::with_capacity(n);
    let mut counter = vec![0usize; shape.len()];
    for _ in 0..n {
        offs.push(counter.iter().enumerate().map(|(k, &c)| (c % x.shape[k]) * src[k]).sum());
        for k in (0..shape.len()).rev() {
            counter[k] += 1;
            if counter[k] < shape[k] {
                break;
            }
            counter[k] = 0;
        }
    }
    Ok(pick(x, shape, &offs))
}

pub(super) fn range(start: &Const, limit: &Const, delta: &Const, budget: &mut Budget) -> Msg<Const> {
    if start.is_i64() && limit.is_i64() && delta.is_i64() {
        let (s, l, d) = (start.ints()?, limit.ints()?, delta.ints()?);
        let (s, l, d) =
            (*s.first().ok_or("empty start")?, *l.first().ok_or("empty limit")?, *d.first().ok_or("empty delta")?);
        if [s, l, d].contains(&BATCH) {
            return Err(batch_used());
        }
        if d == 0 {
            return Err("has delta 0".into());
        }
        let n = ((l as i128 - s as i128 + d as i128 - d.signum() as i128) / d as i128).max(0);
        if n > MAX_ELEMENTS as i128 {
            return Err(format!("makes {n} values; webgan allows at most {MAX_ELEMENTS}"));
        }
        budget.take(n as usize)?;
        return Ok(Const::i64(vec![n as usize], (0..n as i64).map(|i| s + i * d).collect()));
    }
    let (s, l, d) = (start.scalar_f32()?, limit.scalar_f32()?, delta.scalar_f32()?);
    let n = ((l - s) / d).ceil().max(0.0);
    if !n.is_finite() || n > MAX_ELEMENTS as f32 {
        return Err(format!("makes {n} values; webgan allows at most {MAX_ELEMENTS}"));
    }
    budget.take(n as usize)?;
    Ok(Const::f32(vec![n as usize], (0..n as usize).map(|i| s + i as f32 * d).collect()))
}
