//! Spatial padding of images: zeros, reflection or edge replication.

use crate::tensor::Tensor;

/// How the padded border is filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    /// Zeros (`torch.nn.ZeroPad2d`, ONNX `constant` 0).
    Zero,
    /// Mirror without repeating the edge (`torch.nn.ReflectionPad2d`, ONNX `reflect`):
    /// `[a b c]` padded by 2 on the left is `[c b a b c]`.
    Reflect,
    /// Repeat the edge (`torch.nn.ReplicationPad2d`, ONNX `edge`).
    Replicate,
}

/// x `[N, C, H, W]` → `[N, C, top + H + bottom, left + W + right]`, `pads` being
/// `[top, bottom, left, right]`. Reflect needs each pad < its dim (checked by the loader).
pub fn pad(x: &Tensor, pads: [usize; 4], mode: PadMode) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let [top, bottom, left, right] = pads;
    let (oh, ow) = (top + h + bottom, left + w + right);
    // Source row/column of each output row/column, or None for a zero.
    let rows: Vec<Option<usize>> = (0..oh).map(|o| source(o as isize - top as isize, h, mode)).collect();
    let cols: Vec<Option<usize>> = (0..ow).map(|o| source(o as isize - left as isize, w, mode)).collect();
    let mut data = Vec::with_capacity(n * c * oh * ow);
    for plane in x.data.chunks((h * w).max(1)).take(n * c) {
        for row in &rows {
            for col in &cols {
                data.push(match (row, col) {
                    (Some(y), Some(xi)) => plane[y * w + xi],
                    _ => 0.0,
                });
            }
        }
    }
    Tensor { shape: vec![n, c, oh, ow], data }
}

/// The index of `i` (which may lie outside `0..len`) in an axis of `len` values.
fn source(i: isize, len: usize, mode: PadMode) -> Option<usize> {
    let last = len as isize - 1;
    if (0..=last).contains(&i) {
        return Some(i as usize);
    }
    match mode {
        PadMode::Zero => None,
        PadMode::Replicate => Some(i.clamp(0, last.max(0)) as usize),
        PadMode::Reflect => {
            // Reflection is periodic with period 2·(len − 1); for pads < len (the only case
            // the loader admits, as PyTorch) this is the single mirror −i or 2·last − i, and
            // it never indexes out of bounds otherwise.
            if last <= 0 {
                return Some(0);
            }
            let m = i.rem_euclid(2 * last);
            Some(if m <= last { m } else { 2 * last - m } as usize)
        }
    }
}
