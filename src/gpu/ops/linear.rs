//! Linear layer as a one-phase implicit matrix multiply over a 1×1 "image" of features.

use crate::gpu::ops::gemm::{GemmSpec, Phase, pack_phase};
use crate::tensor::Tensor;

/// weight `[out, in]` → B `[in (padded), out (padded)]`.
pub fn spec(weight: &Tensor) -> GemmSpec {
    let (out_f, in_f) = (weight.shape[0], weight.shape[1]);
    let mut weights = Vec::new();
    let k4 = pack_phase(&mut weights, in_f, out_f, &[(0, 0)], |i, o, _| weight.data[o * in_f + i]);
    GemmSpec {
        phases: vec![Phase { taps_y: 1, taps_x: 1, grid_h: 1, grid_w: 1, k4, ..Default::default() }],
        weights,
        in_step: [1, 1],
        tap_step: [1, 1],
        out_step: [1, 1],
        flat_output: false,
    }
}
