//! Normalizations computed from the tensor itself: instance, group, layer and pixel norm.
//!
//! Means and variances are accumulated in f64, two-pass (mean first, then the mean squared
//! deviation), so the reference does not lose digits to cancellation on offset inputs.

use crate::tensor::Tensor;

/// `torch.nn.InstanceNorm2d` / ONNX `InstanceNormalization`: x `[N, C, H, W]`, each sample's
/// channel normalized over its H·W values (biased variance), then `· weight[c] + bias[c]`.
pub fn instance_norm(x: &Tensor, weight: Option<&[f32]>, bias: Option<&[f32]>, eps: f32) -> Tensor {
    // Instance norm is group norm with one channel per group.
    group_norm(x, x.shape[1], weight, bias, eps)
}

/// `torch.nn.GroupNorm`: x `[N, C, H, W]` or `[N, C]`, the C channels split into `groups`
/// consecutive groups, each normalized over its channels and positions (biased variance); the
/// affine is per channel. `groups` divides C (checked by the loader).
pub fn group_norm(
    x: &Tensor,
    groups: usize,
    weight: Option<&[f32]>,
    bias: Option<&[f32]>,
    eps: f32,
) -> Tensor {
    let channels = x.shape[1];
    let inner: usize = x.shape[2..].iter().product();
    let block = channels / groups * inner;
    let mut data = Vec::with_capacity(x.len());
    for (b, values) in x.data.chunks(block.max(1)).enumerate() {
        let (mean, inv_std) = moments(values, eps);
        let first_channel = (b % groups) * (channels / groups);
        data.extend(values.iter().enumerate().map(|(i, &v)| {
            let c = first_channel + i / inner;
            affine((v as f64 - mean) * inv_std, c, weight, bias)
        }));
    }
    Tensor { shape: x.shape.clone(), data }
}

/// `torch.nn.LayerNorm` over the per-sample dims from `axis` on (0 = all of them): each run of
/// `shape[1 + axis..]` values is normalized (biased variance), then `· weight[i] + bias[i]`
/// with the affine laid out like the normalized dims, flattened.
pub fn layer_norm(x: &Tensor, axis: usize, weight: Option<&[f32]>, bias: Option<&[f32]>, eps: f32) -> Tensor {
    let block: usize = x.shape[1 + axis..].iter().product();
    let mut data = Vec::with_capacity(x.len());
    for values in x.data.chunks(block.max(1)) {
        let (mean, inv_std) = moments(values, eps);
        data.extend(
            values.iter().enumerate().map(|(i, &v)| affine((v as f64 - mean) * inv_std, i, weight, bias)),
        );
    }
    Tensor { shape: x.shape.clone(), data }
}

/// Pixel norm (ProGAN/StyleGAN): `x / sqrt(mean over dim 1 of x² + eps)`, dim 1 being the
/// channels of `[N, C, H, W]` (one mean per sample and position) or the features of `[N, F]`.
pub fn pixel_norm(x: &Tensor, eps: f32) -> Tensor {
    let channels = x.shape[1];
    let inner: usize = x.shape[2..].iter().product();
    let mut out = Tensor::zeros(&x.shape);
    for s in 0..x.batch() {
        let base = s * channels * inner;
        for j in 0..inner {
            let at = |c: usize| base + c * inner + j;
            let square_sum: f64 = (0..channels).map(|c| (x.data[at(c)] as f64).powi(2)).sum();
            let inv = 1.0 / (square_sum / channels as f64 + eps as f64).sqrt();
            for c in 0..channels {
                out.data[at(c)] = (x.data[at(c)] as f64 * inv) as f32;
            }
        }
    }
    out
}

/// Mean and `1 / sqrt(biased variance + eps)` of `values`, two-pass in f64.
fn moments(values: &[f32], eps: f32) -> (f64, f64) {
    let count = values.len().max(1) as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / count;
    let var = values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / count;
    (mean, 1.0 / (var + eps as f64).sqrt())
}

/// `normalized · weight[i] + bias[i]` (each optional), rounded to f32.
fn affine(normalized: f64, i: usize, weight: Option<&[f32]>, bias: Option<&[f32]>) -> f32 {
    let scaled = weight.map_or(normalized, |w| normalized * w[i] as f64);
    bias.map_or(scaled, |b| scaled + b[i] as f64) as f32
}
