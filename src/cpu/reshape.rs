//! Reshape between flat vectors and images, in channels-first or channels-last element order.

use crate::model::Order;
use crate::tensor::Tensor;

/// `[N, …]` → `[N, …shape]`. The CPU keeps images as `[C, H, W]`; a channels-last flat vector
/// is ordered `(h, w, c)`, so converting permutes. Image → image reshapes go through flat.
pub fn reshape(x: &Tensor, shape: &[usize], order: Order) -> Tensor {
    let n = x.shape[0];
    let flat = match (x.shape.len(), order) {
        (4, Order::ChannelsLast) => chw_to_hwc(x),
        _ => x.data.clone(),
    };
    let data = match (shape.len(), order) {
        (3, Order::ChannelsLast) => hwc_to_chw(&flat, n, shape[0], shape[1], shape[2]),
        _ => flat,
    };
    let mut full = vec![n];
    full.extend_from_slice(shape);
    Tensor { shape: full, data }
}

fn chw_to_hwc(x: &Tensor) -> Vec<f32> {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let mut out = vec![0.0; x.len()];
    for b in 0..n {
        for ch in 0..c {
            for p in 0..h * w {
                out[(b * h * w + p) * c + ch] = x.data[(b * c + ch) * h * w + p];
            }
        }
    }
    out
}

fn hwc_to_chw(flat: &[f32], n: usize, c: usize, h: usize, w: usize) -> Vec<f32> {
    let mut out = vec![0.0; flat.len()];
    for b in 0..n {
        for ch in 0..c {
            for p in 0..h * w {
                out[(b * c + ch) * h * w + p] = flat[(b * h * w + p) * c + ch];
            }
        }
    }
    out
}
