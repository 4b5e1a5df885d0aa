//! conv2d as one implicit matrix multiply: rows are output pixels, K runs over taps × channels.

use crate::gpu::ops::gemm::{GemmSpec, Phase, pack_phase};
use crate::tensor::Tensor;

/// weight `[C_out, C_in, kh, kw]` → B rows (ky, kx, ci), columns co; output grid `[oh, ow]`.
pub fn spec(weight: &Tensor, stride: [usize; 2], padding: [usize; 4], [oh, ow]: [usize; 2]) -> GemmSpec {
    let (co, ci, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3]);
    let taps: Vec<(usize, usize)> = (0..kh).flat_map(|y| (0..kw).map(move |x| (y, x))).collect();
    let mut weights = Vec::new();
    let k4 = pack_phase(&mut weights, ci, co, &taps, |i, o, (ky, kx)| {
        weight.data[((o * ci + i) * kh + ky) * kw + kx]
    });
    GemmSpec {
        phases: vec![Phase {
            taps_y: kh as u32,
            taps_x: kw as u32,
            off_y: -(padding[0] as i32),
            off_x: -(padding[2] as i32),
            grid_h: oh as u32,
            grid_w: ow as u32,
            k4,
            ..Default::default()
        }],
        weights,
        in_step: [stride[0] as u32, stride[1] as u32],
        tap_step: [1, 1],
        out_step: [1, 1],
        flat_output: false,
    }
}
