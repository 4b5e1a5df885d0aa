//! Inference batch normalization: y = (x − mean) / √(var + eps) · γ + β, per channel.

use crate::tensor::Tensor;

/// x `[N, C, H, W]` or `[N, C]` → same shape. γ defaults to 1 and β to 0 when absent.
pub fn batch_norm(
    x: &Tensor,
    gamma: Option<&Tensor>,
    beta: Option<&Tensor>,
    mean: &Tensor,
    var: &Tensor,
    eps: f32,
) -> Tensor {
    let c = x.shape[1];
    let spatial: usize = x.shape[2..].iter().product();
    let mut out = x.clone();
    for (i, chunk) in out.data.chunks_mut(spatial).enumerate() {
        let ch = i % c;
        let g = gamma.map_or(1.0, |t| t.data[ch]);
        let b = beta.map_or(0.0, |t| t.data[ch]);
        let inv = 1.0 / (var.data[ch] + eps).sqrt();
        for v in chunk {
            *v = (*v - mean.data[ch]) * inv * g + b;
        }
    }
    out
}
