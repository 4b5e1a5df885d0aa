//! Fully connected layer.

use crate::tensor::Tensor;

/// x `[N, in]`, weight `[out, in]`, bias `[out]` → `[N, out]`.
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
    let (n, k) = (x.shape[0], x.shape[1]);
    let m = weight.shape[0];
    let mut out = Tensor::zeros(&[n, m]);
    for i in 0..n {
        let row = &x.data[i * k..(i + 1) * k];
        for o in 0..m {
            let w = &weight.data[o * k..(o + 1) * k];
            let dot: f32 = row.iter().zip(w).map(|(a, b)| a * b).sum();
            out.data[i * m + o] = dot + bias.map_or(0.0, |b| b.data[o]);
        }
    }
    out
}
