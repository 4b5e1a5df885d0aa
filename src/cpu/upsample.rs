//! Nearest-neighbour upsampling by integer factors.

use crate::tensor::Tensor;

/// x `[N, C, H, W]` → `[N, C, H·sh, W·sw]`.
pub fn upsample(x: &Tensor, scale: [usize; 2]) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (oh, ow) = (h * scale[0], w * scale[1]);
    let mut out = Tensor::zeros(&[n, c, oh, ow]);
    for plane in 0..n * c {
        for y in 0..oh {
            for xo in 0..ow {
                out.data[(plane * oh + y) * ow + xo] =
                    x.data[(plane * h + y / scale[0]) * w + xo / scale[1]];
            }
        }
    }
    out
}
