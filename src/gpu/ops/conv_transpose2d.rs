//! conv_transpose2d decomposed by output stride phase. For stride s there are s_y × s_x
//! phases; output pixels of one phase (oy ≡ py mod s_y) are reached only by the kernel taps
//! ky ≡ (py + top) mod s_y, so each phase is a dense convolution with ⌈(k − r)/s⌉ taps per axis
//! and no tap is read and thrown away, as a naive gather would.
//!
//! With oy = qy·s + py and ky = r + ty·s (r = (py + top) mod s), the input row is
//! iy = (oy + top − ky) / s = qy + (py + top − r)/s − ty: in_step 1, tap_step −1.

use crate::gpu::layout::pad4;
use crate::gpu::ops::gemm::{GemmSpec, Phase, pack_phase};
use crate::tensor::Tensor;

/// (first tap r, tap count, input offset, grid size) of phase `p` along one axis.
fn axis(p: usize, stride: usize, pad: usize, kernel: usize, out: usize) -> (usize, usize, i32, usize) {
    let r = (p + pad) % stride;
    let taps = if r < kernel { (kernel - r).div_ceil(stride) } else { 0 };
    let off = ((p + pad - r) / stride) as i32;
    let grid = if p < out { (out - p).div_ceil(stride) } else { 0 };
    (r, taps, off, grid)
}

/// weight `[C_in, C_out, kh, kw]` → per phase, B rows (ty, tx, ci), columns co. `top`/`left`
/// are the crop of the full output; the output grid `[oh, ow]` implies the rest.
pub fn spec(
    weight: &Tensor,
    stride: [usize; 2],
    top: usize,
    left: usize,
    [ih, iw]: [usize; 2],
    [oh, ow]: [usize; 2],
) -> GemmSpec {
    if ih == 1 && iw == 1 {
        return spec_1x1_input(weight, top, left, [oh, ow]);
    }
    let (ci, co, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]);
    let mut weights = Vec::new();
    let mut phases = Vec::new();
    for py in 0..stride[0] {
        for px in 0..stride[1] {
            let (ry, ty_n, off_y, gh) = axis(py, stride[0], top, kh, oh);
            let (rx, tx_n, off_x, gw) = axis(px, stride[1], left, kw, ow);
            let taps: Vec<(usize, usize)> = (0..ty_n)
                .flat_map(|ty| (0..tx_n).map(move |tx| (ry + ty * stride[0], rx + tx * stride[1])))
                .collect();
            let w_offset = (weights.len() / 4) as u32;
            let k4 = pack_phase(&mut weights, ci, co, &taps, |i, o, (ky, kx)| {
                weight.data[((i * co + o) * kh + ky) * kw + kx]
            });
            phases.push(Phase {
                taps_y: ty_n as u32,
                taps_x: tx_n as u32,
                off_y,
                off_x,
                out_y0: py as u32,
                out_x0: px as u32,
                grid_h: gh as u32,
                grid_w: gw as u32,
                w_offset,
                k4,
                _pad: [0; 2],
            });
        }
    }
    GemmSpec {
        phases,
        weights,
        in_step: [1, 1],
        tap_step: [-1, -1],
        out_step: [stride[0] as u32, stride[1] as u32],
        flat_output: false,
    }
}

/// On a 1×1 input (a DCGAN's first layer) every output pixel sees exactly one tap, so the
/// phase form would read all taps to keep one. Instead the layer is one matrix multiply:
/// B[ci, (oy, ox, co)] = w[ci, co, oy + top, ox + left], and each sample's output row is its
/// whole NHWC image.
fn spec_1x1_input(weight: &Tensor, top: usize, left: usize, [oh, ow]: [usize; 2]) -> GemmSpec {
    let (ci, co, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]);
    let (cip, cop) = (pad4(ci), pad4(co));
    let mut weights = Vec::with_capacity(cip * oh * ow * cop);
    for i in 0..cip {
        for oy in 0..oh {
            for ox in 0..ow {
                for o in 0..cop {
                    let (ky, kx) = (oy + top, ox + left);
                    let inside = i < ci && o < co && ky < kh && kx < kw;
                    weights.push(if inside { weight.data[((i * co + o) * kh + ky) * kw + kx] } else { 0.0 });
                }
            }
        }
    }
    GemmSpec {
        phases: vec![Phase { taps_y: 1, taps_x: 1, grid_h: 1, grid_w: 1, k4: (cip / 4) as u32, ..Default::default() }],
        weights,
        in_step: [1, 1],
        tap_step: [1, 1],
        out_step: [1, 1],
        flat_output: true,
    }
}
