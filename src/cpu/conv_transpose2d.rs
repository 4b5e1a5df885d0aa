//! 2-D transposed convolution (the gradient of conv2d), as PyTorch's ConvTranspose2d.

use crate::tensor::Tensor;

/// x `[N, C_in, H, W]`, weight `[C_in, C_out, kh, kw]`, padding `[top, bottom, left, right]`
/// → `[N, C_out, (H−1)·sh + kh − top − bottom + oph, …]`.
///
/// Every input pixel scatters its kernel: out[n, o, y·sh − top + ky, x·sw − left + kx] +=
/// in[n, i, y, x] · w[i, o, ky, kx]; positions that fall outside the output are dropped.
/// Keras' 'same' padding is the asymmetric case (for k=5, s=2: top 1, bottom 2).
pub fn conv_transpose2d(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    stride: [usize; 2],
    padding: [usize; 4],
    output_padding: [usize; 2],
) -> Tensor {
    let (n, ci, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let (co, kh, kw) = (weight.shape[1], weight.shape[2], weight.shape[3]);
    let oh = (h - 1) * stride[0] + kh + output_padding[0] - padding[0] - padding[1];
    let ow = (w - 1) * stride[1] + kw + output_padding[1] - padding[2] - padding[3];
    let mut out = Tensor::zeros(&[n, co, oh, ow]);
    for b in 0..n {
        for o in 0..co {
            let plane = &mut out.data[(b * co + o) * oh * ow..(b * co + o + 1) * oh * ow];
            plane.fill(bias.map_or(0.0, |t| t.data[o]));
            for i in 0..ci {
                let input = &x.data[(b * ci + i) * h * w..(b * ci + i + 1) * h * w];
                for ky in 0..kh {
                    for kx in 0..kw {
                        let wv = weight.data[((i * co + o) * kh + ky) * kw + kx];
                        for y in 0..h {
                            let oy = (y * stride[0] + ky) as isize - padding[0] as isize;
                            if oy < 0 || oy >= oh as isize {
                                continue;
                            }
                            let row = &mut plane[oy as usize * ow..(oy as usize + 1) * ow];
                            for xi in 0..w {
                                let ox = (xi * stride[1] + kx) as isize - padding[2] as isize;
                                if ox >= 0 && ox < ow as isize {
                                    row[ox as usize] += input[y * w + xi] * wv;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}
