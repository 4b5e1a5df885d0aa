//! 2-D convolution (cross-correlation, as PyTorch and Keras define it).

use crate::tensor::Tensor;

/// x `[N, C_in, H, W]`, weight `[C_out, C_in, kh, kw]`, padding `[top, bottom, left, right]`
/// → `[N, C_out, (H + top + bottom − kh) / sh + 1, …]`.
/// out[n, o, y, x] = b[o] + Σ in[n, i, y·sh − top + ky, x·sw − left + kx] · w[o, i, ky, kx]
pub fn conv2d(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: [usize; 2],
    padding: [usize; 4],
) -> Tensor {
    let (n, ci, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (co, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3]);
    let oh = (h + padding[0] + padding[1] - kh) / stride[0] + 1;
    let ow = (w + padding[2] + padding[3] - kw) / stride[1] + 1;
    let mut out = Tensor::zeros(&[n, co, oh, ow]);
    for b in 0..n {
        for o in 0..co {
            let base = bias.map_or(0.0, |t| t.data[o]);
            for y in 0..oh {
                for xo in 0..ow {
                    let mut acc = base;
                    for i in 0..ci {
                        for ky in 0..kh {
                            let iy = (y * stride[0] + ky) as isize - padding[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (xo * stride[1] + kx) as isize - padding[2] as isize;
                                if ix < 0 || ix >= w as isize {
                                    continue;
                                }
                                acc += x.data[((b * ci + i) * h + iy as usize) * w + ix as usize]
                                    * weight.data[((o * ci + i) * kh + ky) * kw + kx];
                            }
                        }
                    }
                    out.data[((b * co + o) * oh + y) * ow + xo] = acc;
                }
            }
        }
    }
    out
}
