//! Bilinear upsampling by integer factors, as PyTorch's `F.interpolate(mode="bilinear")`.

use crate::tensor::Tensor;

/// x `[N, C, H, W]` → `[N, C, H·sh, W·sw]`, `scale` = `[sh, sw]` (≥ 1). Coordinates, indices
/// and weights are computed in f32 in PyTorch's order (`upsample_bilinear2d` with
/// `scale_factor`), so the result matches it to an ulp or two (PyTorch's own CPU result moves by
/// an ulp with its vectorization and FMA contraction, so bit-exactness is not on offer):
/// - `align_corners: false` (half-pixel): `src = max((dst + 0.5)/s − 0.5, 0)`;
/// - `align_corners: true`: `src = dst·(H − 1)/(H·s − 1)` (0 when the output has one row);
///
/// then `i0 = min(⌊src⌋, H − 1)`, `i1 = min(i0 + 1, H − 1)`, `λ = src − i0`, and the value is
/// `(1−λh)·((1−λw)·x00 + λw·x01) + λh·((1−λw)·x10 + λw·x11)`.
pub fn bilinear(x: &Tensor, scale: [usize; 2], align_corners: bool) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (oh, ow) = (h * scale[0], w * scale[1]);
    let rows = taps(h, oh, scale[0], align_corners);
    let cols = taps(w, ow, scale[1], align_corners);
    let mut data = Vec::with_capacity(n * c * oh * ow);
    for plane in x.data.chunks((h * w).max(1)).take(n * c) {
        for r in &rows {
            let (top, bottom) = (&plane[r.i0 * w..(r.i0 + 1) * w], &plane[r.i1 * w..(r.i1 + 1) * w]);
            for k in &cols {
                let upper = top[k.i0] * k.l0 + top[k.i1] * k.l1;
                let lower = bottom[k.i0] * k.l0 + bottom[k.i1] * k.l1;
                data.push(upper * r.l0 + lower * r.l1);
            }
        }
    }
    Tensor { shape: vec![n, c, oh, ow], data }
}

/// The two source indices of an output index and their weights.
#[derive(Clone, Copy, Debug)]
struct Tap {
    i0: usize,
    i1: usize,
    l0: f32,
    l1: f32,
}

/// The taps of each of the `output` indices of an axis of `input` values scaled by `s`
/// (PyTorch's `area_pixel_compute_scale`, `area_pixel_compute_source_index` and
/// `guard_index_and_lambda`, in f32).
fn taps(input: usize, output: usize, s: usize, align_corners: bool) -> Vec<Tap> {
    if input == output {
        // PyTorch copies when the size does not change (scale 1).
        return (0..output).map(|i| Tap { i0: i, i1: i, l0: 1.0, l1: 0.0 }).collect();
    }
    let ratio: f32 = if align_corners {
        if output > 1 { (input - 1) as f32 / (output - 1) as f32 } else { 0.0 }
    } else {
        (1.0 / s as f64) as f32
    };
    let last = input - 1;
    (0..output)
        .map(|o| {
            let src =
                if align_corners { ratio * o as f32 } else { (ratio * (o as f32 + 0.5) - 0.5).max(0.0) };
            let i0 = (src.floor() as usize).min(last);
            let l1 = (src - i0 as f32).clamp(0.0, 1.0);
            let i1 = if i0 < last { i0 + 1 } else { i0 };
            Tap { i0, i1, l0: 1.0 - l1, l1 }
        })
        .collect()
}
