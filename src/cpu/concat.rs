//! `concat` on the channel (image) or feature (flat) axis.

use crate::tensor::Tensor;

/// Parts `[N, …]` that agree on every dim but per-sample `axis` (0: channels or features) →
/// their concatenation on that axis. Each part contributes, per sample and per index of the
/// dims before `axis`, one contiguous block, so the output is those blocks in order.
///
/// # Panics
/// When `parts` is empty; the loader requires at least two inputs.
pub fn concat(parts: &[&Tensor], axis: usize) -> Tensor {
    let Some(first) = parts.first() else { panic!("concat needs at least one part") };
    let dim = axis + 1;
    debug_assert!(parts.iter().all(|p| p.shape.len() == first.shape.len()));
    let mut shape = first.shape.clone();
    shape[dim] = parts.iter().map(|p| p.shape[dim]).sum();
    // Rows: everything before the axis (batch included); blocks: the axis and what follows.
    let rows: usize = first.shape[..dim].iter().product();
    let blocks: Vec<usize> = parts.iter().map(|p| p.shape[dim..].iter().product()).collect();
    let mut data = Vec::with_capacity(rows * blocks.iter().sum::<usize>());
    for r in 0..rows {
        for (part, &block) in parts.iter().zip(&blocks) {
            data.extend_from_slice(&part.data[r * block..(r + 1) * block]);
        }
    }
    Tensor { shape, data }
}
