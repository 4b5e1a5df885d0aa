//! The activation layout on the GPU: NHWC with channels padded to a multiple of 4.
//!
//! Why NHWC: every heavy op is an implicit matrix multiply whose reduction runs over
//! (tap, input channel); with channels innermost a thread's loads along K are contiguous and
//! come four at a time as one vec4, and outputs are stored as vec4 along output channels.
//! Padding channels to 4 keeps every such access vec4-aligned; the padded weight rows are zero,
//! so whatever the pad lanes hold never reaches a real output. Flat vectors are `[N, F]` with F
//! padded the same way, which is an image with H = W = 1.

use crate::model::Shape;
use crate::tensor::Tensor;

/// `n` rounded up to a multiple of 4.
pub fn pad4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// (channels, height, width) of a shape as the GPU sees it (flat = 1×1 image).
pub fn chw(shape: Shape) -> (usize, usize, usize) {
    match shape {
        Shape::Flat(f) => (f, 1, 1),
        Shape::Image { c, h, w } => (c, h, w),
    }
}

/// f32 elements per sample in the padded layout.
pub fn padded_len(shape: Shape) -> usize {
    let (c, h, w) = chw(shape);
    pad4(c) * h * w
}

/// `[N, …]` (NCHW or `[N, F]`) → padded NHWC floats.
pub fn to_gpu(t: &Tensor, shape: Shape) -> Vec<f32> {
    let (c, h, w) = chw(shape);
    let cp = pad4(c);
    let n = t.batch();
    let mut out = vec![0.0; n * padded_len(shape)];
    for b in 0..n {
        for ch in 0..c {
            for p in 0..h * w {
                out[(b * h * w + p) * cp + ch] = t.data[(b * c + ch) * h * w + p];
            }
        }
    }
    out
}

/// Padded NHWC floats → `[N, …shape]` (NCHW, or `[N, F]`).
pub fn from_gpu(data: &[f32], n: usize, shape: Shape) -> Tensor {
    let (c, h, w) = chw(shape);
    let cp = pad4(c);
    let mut out = vec![0.0; n * c * h * w];
    for b in 0..n {
        for ch in 0..c {
            for p in 0..h * w {
                out[(b * c + ch) * h * w + p] = data[(b * h * w + p) * cp + ch];
            }
        }
    }
    let mut dims = vec![n];
    dims.extend(shape.dims());
    Tensor { shape: dims, data: out }
}
