//! CPU reference of the format-2 graph ops against small cases computed by hand or by PyTorch.
//!
//! Values marked "torch" were printed by PyTorch 2.x (CPU, float32 unless it says float64) with
//! the expression quoted next to them, e.g. `F.interpolate(x, scale_factor=2, mode="bilinear")`,
//! and pasted here; "numpy" and "Python" values come from float64 NumPy or `math` with the
//! formula quoted. One module per group of ops, in `tests/cpu_graph_ops/`.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "cpu_graph_ops/elementwise.rs"]
mod elementwise;
#[path = "cpu_graph_ops/norm.rs"]
mod norm;
#[path = "cpu_graph_ops/spatial.rs"]
mod spatial;

use webgan::Tensor;

pub(crate) fn t(shape: &[usize], data: &[f32]) -> Tensor {
    Tensor::new(shape, data.to_vec()).unwrap()
}

/// 0, 1, 2, … in `shape`.
pub(crate) fn range(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    t(shape, &(0..n).map(|v| v as f32).collect::<Vec<_>>())
}
