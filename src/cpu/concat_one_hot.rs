//! Appends a one-hot class vector to each flat latent (conditional generators).

use crate::tensor::Tensor;

/// x `[N, F]`, one label per sample → `[N, F + classes]`. Labels are checked by the caller.
pub fn concat_one_hot(x: &Tensor, labels: &[u32], classes: usize) -> Tensor {
    let (n, f) = (x.shape[0], x.shape[1]);
    let mut out = Tensor::zeros(&[n, f + classes]);
    for (i, row) in out.data.chunks_mut(f + classes).enumerate() {
        row[..f].copy_from_slice(&x.data[i * f..(i + 1) * f]);
        row[f + labels[i] as usize] = 1.0;
    }
    out
}
