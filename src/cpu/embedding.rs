//! `embedding`: one learned row per class id.

use crate::tensor::Tensor;

/// `classes` (one id per sample, each < K, checked before the run) and weight `[K, D]` →
/// `[N, D]`, sample i being row `classes[i]` (`torch.nn.Embedding`).
pub fn embedding(classes: &[u32], weight: &Tensor) -> Tensor {
    let dim = weight.shape[1];
    let mut data = Vec::with_capacity(classes.len() * dim);
    for &id in classes {
        let row = id as usize * dim;
        data.extend_from_slice(&weight.data[row..row + dim]);
    }
    Tensor { shape: vec![classes.len(), dim], data }
}
