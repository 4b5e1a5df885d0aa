//! Element-wise `add`/`sub`/`mul`/`div` with NumPy broadcasting of the per-sample dims.

use crate::tensor::Tensor;

/// The binary operators of format 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
}

impl Binary {
    /// Applies the operator to one pair (IEEE f32: `x / 0` is ±inf, `0 / 0` NaN, as PyTorch).
    pub fn eval(self, a: f32, b: f32) -> f32 {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
        }
    }
}

/// The broadcast of two per-sample shapes (NumPy rules: right-aligned, each pair of dims equal
/// or one of them 1; the shorter shape is padded with 1s on the left), or `None` when they do
/// not broadcast. `[1]` broadcasts against anything.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| if i + s.len() < rank { 1 } else { s[i + s.len() - rank] };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// `op(a, b)` for every sample. A batched operand is `[N, …per-sample]`; an unbatched one (a
/// `constant` node) has only the per-sample dims and is shared by all `n` samples. Output
/// `[n, …broadcast_shape(per-sample a, per-sample b)]`.
///
/// # Panics
/// When the per-sample shapes do not broadcast or a batched operand's batch is not `n`; the
/// loader's shape inference rules both out before anything runs.
pub fn binary(op: Binary, a: &Tensor, a_batched: bool, b: &Tensor, b_batched: bool, n: usize) -> Tensor {
    let a_dims = per_sample(a, a_batched, n);
    let b_dims = per_sample(b, b_batched, n);
    let Some(dims) = broadcast_shape(a_dims, b_dims) else {
        panic!("binary {op:?}: per-sample shapes {a_dims:?} and {b_dims:?} do not broadcast");
    };
    let per: usize = dims.iter().product();
    let mut shape = Vec::with_capacity(dims.len() + 1);
    shape.push(n);
    shape.extend_from_slice(&dims);
    let mut data = Vec::with_capacity(n * per);
    let a_step = if a_batched { a_dims.iter().product() } else { 0 };
    let b_step = if b_batched { b_dims.iter().product() } else { 0 };

    if a_dims == dims.as_slice() && b_dims == dims.as_slice() {
        // Same shapes (the common case): a plain zip per sample.
        for s in 0..n {
            let xa = &a.data[s * a_step..s * a_step + per];
            let xb = &b.data[s * b_step..s * b_step + per];
            data.extend(xa.iter().zip(xb).map(|(&x, &y)| op.eval(x, y)));
        }
        return Tensor { shape, data };
    }

    let sa = strides(a_dims, &dims);
    let sb = strides(b_dims, &dims);
    let mut index = vec![0usize; dims.len()];
    for s in 0..n {
        let (base_a, base_b) = (s * a_step, s * b_step);
        let (mut ia, mut ib) = (0usize, 0usize);
        index.iter_mut().for_each(|i| *i = 0);
        for _ in 0..per {
            data.push(op.eval(a.data[base_a + ia], b.data[base_b + ib]));
            // Odometer over the output index; operand offsets follow with stride 0 on
            // broadcast dims.
            for d in (0..dims.len()).rev() {
                index[d] += 1;
                ia += sa[d];
                ib += sb[d];
                if index[d] < dims[d] {
                    break;
                }
                ia -= sa[d] * dims[d];
                ib -= sb[d] * dims[d];
                index[d] = 0;
            }
        }
    }
    Tensor { shape, data }
}

/// The per-sample dims of an operand.
fn per_sample(t: &Tensor, batched: bool, n: usize) -> &[usize] {
    if batched {
        assert_eq!(t.batch(), n, "a batched operand of shape {:?} has not the batch {n}", t.shape);
        &t.shape[1..]
    } else {
        &t.shape
    }
}

/// Strides of an operand of per-sample shape `dims` read at the index of the broadcast shape
/// `out` (right-aligned; 0 where the operand's dim is 1 or absent).
fn strides(dims: &[usize], out: &[usize]) -> Vec<usize> {
    let offset = out.len() - dims.len();
    let mut strides = vec![0usize; out.len()];
    let mut step = 1usize;
    for d in (0..dims.len()).rev() {
        if dims[d] != 1 {
            strides[offset + d] = step;
        }
        step *= dims[d];
    }
    strides
}
