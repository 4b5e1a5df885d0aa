//! Row-major strides and NumPy broadcasting: the element offsets that folded ops read through.

use crate::onnx::attr::Msg;

/// Row-major strides of `shape`.
pub(super) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// NumPy broadcast of two shapes.
pub(crate) fn broadcast(a: &[usize], b: &[usize]) -> Msg<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        };
    }
    Ok(out)
}

/// For every element of `out` (row-major), the offset of the element of a tensor of shape `s`
/// broadcast to it.
pub(super) enum Index {
    Same,
    Scalar,
    Map(Vec<usize>),
}

impl Index {
    pub(super) fn new(out: &[usize], s: &[usize]) -> Index {
        if out == s {
            return Index::Same;
        }
        if s.iter().product::<usize>() == 1 {
            return Index::Scalar;
        }
        let rank = out.len();
        let src = strides(s);
        let mut bstride = vec![0; rank];
        for i in 0..s.len() {
            let o = i + rank - s.len();
            bstride[o] = if s[i] == 1 { 0 } else { src[i] };
        }
        Index::Map(offsets(out, &bstride))
    }

    pub(super) fn at(&self, i: usize) -> usize {
        match self {
            Index::Same => i,
            Index::Scalar => 0,
            Index::Map(m) => m[i],
        }
    }
}

/// Offsets `Σ index_k · stride_k` of every element of `shape` in row-major order.
pub(super) fn offsets(shape: &[usize], stride: &[usize]) -> Vec<usize> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut counter = vec![0usize; shape.len()];
    let mut offset = 0usize;
    for _ in 0..n {
        out.push(offset);
        for k in (0..shape.len()).rev() {
            counter[k] += 1;
            offset += stride[k];
            if counter[k] < shape[k] {
                break;
            }
            offset -= stride[k] * shape[k];
            counter[k] = 0;
        }
    }
    out
}
