//! Element-wise ops: broadcasting binaries, activations and math, prelu.

use crate::common::assert_close;
use crate::{range, t};
use webgan::cpu::broadcast::{Binary, binary, broadcast_shape};
use webgan::cpu::unary::{self, Unary, apply, prelu};
use webgan::model::Activation;

// ---------------------------------------------------------------- broadcast

#[test]
fn broadcast_shapes_follow_numpy() {
    assert_eq!(broadcast_shape(&[3, 1, 1], &[3, 4, 5]), Some(vec![3, 4, 5]));
    assert_eq!(broadcast_shape(&[3, 4, 5], &[1]), Some(vec![3, 4, 5]));
    assert_eq!(broadcast_shape(&[1], &[7]), Some(vec![7]));
    assert_eq!(broadcast_shape(&[5], &[3, 4, 5]), Some(vec![3, 4, 5]));
    assert_eq!(broadcast_shape(&[2, 1, 3], &[1, 2, 1]), Some(vec![2, 2, 3]));
    assert_eq!(broadcast_shape(&[1, 1], &[1]), Some(vec![1, 1]));
    assert_eq!(broadcast_shape(&[], &[3]), Some(vec![3]));
    assert_eq!(broadcast_shape(&[4], &[3, 4, 5]), None);
    assert_eq!(broadcast_shape(&[3, 1, 1], &[4, 4, 5]), None);
    assert_eq!(broadcast_shape(&[2, 3], &[3, 2]), None);
}

#[test]
fn binary_eval() {
    assert_eq!(Binary::Add.eval(1.5, 2.0), 3.5);
    assert_eq!(Binary::Sub.eval(1.5, 2.0), -0.5);
    assert_eq!(Binary::Mul.eval(1.5, -2.0), -3.0);
    assert_eq!(Binary::Div.eval(3.0, 2.0), 1.5);
    assert_eq!(Binary::Div.eval(1.0, 0.0), f32::INFINITY);
    assert!(Binary::Div.eval(0.0, 0.0).is_nan());
}

#[test]
fn binary_same_shapes_both_batched() {
    let a = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let b = t(&[2, 3], &[0.5, -1.0, 2.0, 1.0, 0.0, -3.0]);
    let y = binary(Binary::Sub, &a, true, &b, true, 2);
    assert_eq!(y.shape, vec![2, 3]);
    assert_eq!(y.data, vec![0.5, 3.0, 1.0, 3.0, 5.0, 9.0]);
}

#[test]
fn binary_per_channel_constant_against_image() {
    // x [N=2, C=2, H=1, W=2] = 0..8; a constant [C, 1, 1] = [10, 20] shared by both samples.
    let x = range(&[2, 2, 1, 2]);
    let k = t(&[2, 1, 1], &[10.0, 20.0]);
    let y = binary(Binary::Mul, &x, true, &k, false, 2);
    assert_eq!(y.shape, vec![2, 2, 1, 2]);
    assert_eq!(y.data, vec![0.0, 10.0, 40.0, 60.0, 40.0, 50.0, 120.0, 140.0]);
    // Constant on the left: k − x.
    let y = binary(Binary::Sub, &k, false, &x, true, 2);
    assert_eq!(y.shape, vec![2, 2, 1, 2]);
    assert_eq!(y.data, vec![10.0, 9.0, 18.0, 17.0, 6.0, 5.0, 14.0, 13.0]);
}

#[test]
fn binary_scalar_constant() {
    let x = t(&[2, 1, 2, 2], &[2.0, 4.0, -6.0, 8.0, 1.0, 0.0, 3.0, -1.0]);
    let half = t(&[1], &[2.0]);
    let y = binary(Binary::Div, &x, true, &half, false, 2);
    assert_eq!(y.shape, vec![2, 1, 2, 2]);
    assert_eq!(y.data, vec![1.0, 2.0, -3.0, 4.0, 0.5, 0.0, 1.5, -0.5]);
    // A batched per-sample scalar [N, 1] against flat features [N, 3]: each sample its own.
    let f = t(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let s = t(&[2, 1], &[10.0, 100.0]);
    let y = binary(Binary::Add, &s, true, &f, true, 2);
    assert_eq!(y.shape, vec![2, 3]);
    assert_eq!(y.data, vec![11.0, 12.0, 13.0, 104.0, 105.0, 106.0]);
}

#[test]
fn binary_unbatched_image_constant_and_row_vector() {
    // A [C=1, H=2, W=3] constant plus a batched [W=3] row (right-aligned to W).
    let k = range(&[1, 2, 3]);
    let r = t(&[2, 3], &[100.0, 200.0, 300.0, -1.0, -2.0, -3.0]);
    let y = binary(Binary::Add, &k, false, &r, true, 2);
    assert_eq!(y.shape, vec![2, 1, 2, 3]);
    assert_eq!(y.data, vec![100.0, 201.0, 302.0, 103.0, 204.0, 305.0, -1.0, -1.0, -1.0, 2.0, 2.0, 2.0]);
}

#[test]
fn binary_both_sides_broadcast() {
    // per-sample [2,1,3] − [1,2,1] → [2,2,3]; torch: a = arange(12).reshape(2,2,1,3),
    // b = (arange(4).reshape(2,1,2,1) + 1) * 10, a - b.
    let a = range(&[2, 2, 1, 3]);
    let b = t(&[2, 1, 2, 1], &[10.0, 20.0, 30.0, 40.0]);
    let y = binary(Binary::Sub, &a, true, &b, true, 2);
    assert_eq!(y.shape, vec![2, 2, 2, 3]);
    #[rustfmt::skip]
    let expected = vec![
        -10.0, -9.0, -8.0, -20.0, -19.0, -18.0, -7.0, -6.0, -5.0, -17.0, -16.0, -15.0,
        -24.0, -23.0, -22.0, -34.0, -33.0, -32.0, -21.0, -20.0, -19.0, -31.0, -30.0, -29.0,
    ];
    assert_eq!(y.data, expected);
}

// ---------------------------------------------------------------- unary

/// The inputs of the activation cases (negative ones included on purpose).
const XS: [f32; 7] = [-8.0, -3.0, -1.0, -0.5, 0.0, 0.5, 2.0];

fn unary_close(op: Unary, expected: &[f32], atol: f32, rtol: f32) {
    let x = t(&[1, XS.len()], &XS);
    assert_close(&format!("{op:?}"), &apply(&x, op), &t(&[1, XS.len()], expected), atol, rtol);
}

#[test]
fn relu_and_leaky_relu() {
    let x = t(&[1, XS.len()], &XS);
    assert_eq!(apply(&x, Unary::Relu).data, vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 2.0]);
    assert_eq!(apply(&x, Unary::LeakyRelu(0.25)).data, vec![-2.0, -0.75, -0.25, -0.125, 0.0, 0.5, 2.0]);
}

#[test]
fn elu_negative_inputs() {
    // torch: F.elu(x, alpha=0.5) (float32 and float64 agree).
    let expected = [-0.49983227, -0.47510648, -0.31606028, -0.19673467, 0.0, 0.5, 2.0];
    unary_close(Unary::Elu(0.5), &expected, 1e-7, 1e-6);
    assert_eq!(Unary::Elu(1.0).eval(-1e30), -1.0);
}

#[test]
fn silu_negative_inputs() {
    // torch: F.silu(x.double()).
    let expected = [-0.002682801, -0.14227761, -0.26894143, -0.18877034, 0.0, 0.31122968, 1.7615942];
    unary_close(Unary::Silu, &expected, 1e-7, 1e-6);
    // e^-x overflows: x / inf = −0, not NaN.
    assert_eq!(Unary::Silu.eval(-1000.0), 0.0);
    assert_eq!(Unary::Silu.eval(1000.0), 1000.0);
}

#[test]
fn gelu_exact_and_tanh() {
    // Python: 0.5·x·math.erfc(−x/√2), rounded to f32. torch F.gelu agrees to 2e-7 (float32)
    // but not in the far negative tail, where its 1 + erf cancels: gelu(-8) is 0 in float32
    // and -4.885e-15 in float64, against the true -4.9768e-15.
    let exact = [-4.9767683e-15, -0.004049694, -0.15865526, -0.15426877, 0.0, 0.34573123, 1.9544997];
    unary_close(Unary::Gelu, &exact, 1e-7, 1e-6);
    // The tail keeps its relative accuracy (erfc form, no cancellation).
    assert!((Unary::Gelu.eval(-8.0) / -4.9767683e-15 - 1.0).abs() < 1e-6);
    // torch: F.gelu(x.double(), approximate="tanh").
    let tanh = [-0.0, -0.003637392, -0.15880801, -0.154286, 0.0, 0.345714, 1.9545977];
    unary_close(Unary::GeluTanh, &tanh, 1e-7, 1e-6);
    // The two differ visibly at -3 (0.0040497 vs 0.0036374): the variants are not swapped.
    assert!((Unary::Gelu.eval(-3.0) - Unary::GeluTanh.eval(-3.0)).abs() > 4e-4);
}

#[test]
fn erf_matches_python_math() {
    // Python: math.erf / math.erfc.
    let cases = [
        (0.3, 0.3286267594591274),
        (1.7, 0.9837904585907745),
        (2.5, 0.999593047982555),
        (3.2, 0.9999939742388483),
        (-4.0, -0.9999999845827421),
        (0.0, 0.0),
    ];
    for (x, e) in cases {
        assert!((unary::erf(x) - e).abs() < 1e-14, "erf({x}) = {} not {e}", unary::erf(x));
    }
    for (x, e) in [(3.0, 2.2090496998585438e-05), (6.0, 2.1519736712498916e-17), (-1.0, 1.842700792949715)] {
        assert!((unary::erfc(x) / e - 1.0).abs() < 1e-12, "erfc({x}) = {} not {e}", unary::erfc(x));
    }
}

#[test]
fn sigmoid_and_tanh_are_format_1_activations() {
    for v in [-1e30, -100.0, -3.0, -0.25, 0.0, 0.7, 20.0, 1e30] {
        assert_eq!(Unary::Tanh.eval(v), Activation::Tanh.eval(v));
        assert_eq!(Unary::Sigmoid.eval(v), Activation::Sigmoid.eval(v));
    }
    assert!((Unary::Sigmoid.eval(-1.0) - 0.26894142).abs() < 1e-7);
    assert!((Unary::Tanh.eval(-0.5) + 0.46211716).abs() < 1e-7);
}

#[test]
fn clamp_like_torch() {
    let c = Unary::Clamp(-1.0, 2.0);
    assert_eq!([c.eval(-5.0), c.eval(0.5), c.eval(5.0)], [-1.0, 0.5, 2.0]);
    // torch.clamp keeps NaN, and min > max gives max everywhere (torch: clamp([0, 5], 3, 1)).
    assert!(c.eval(f32::NAN).is_nan());
    let inverted = Unary::Clamp(3.0, 1.0);
    assert_eq!([inverted.eval(0.0), inverted.eval(5.0)], [1.0, 1.0]);
}

#[test]
fn sqrt_reciprocal_pow() {
    assert_eq!(Unary::Sqrt.eval(6.25), 2.5);
    assert!(Unary::Sqrt.eval(-1.0).is_nan());
    assert_eq!(Unary::Reciprocal.eval(-4.0), -0.25);
    assert_eq!(Unary::Reciprocal.eval(0.0), f32::INFINITY);
    // Integer exponents 2 and 3 are products: exact for negative bases (torch: 2.25, -3.375).
    assert_eq!(Unary::Pow(2.0).eval(-1.5), 2.25);
    assert_eq!(Unary::Pow(3.0).eval(-1.5), -3.375);
    assert_eq!(Unary::Pow(3.0).eval(0.1), 0.1f32 * 0.1 * 0.1);
    assert_eq!(Unary::Pow(0.5).eval(2.25), 1.5);
    assert_eq!(Unary::Pow(-1.0).eval(4.0), 0.25);
    // A fractional power of a negative base is NaN (torch: pow(-8, 1/3) = nan).
    assert!(Unary::Pow(1.0 / 3.0).eval(-8.0).is_nan());
}

#[test]
fn prelu_per_channel_and_shared() {
    // torch: F.prelu([[[[-1, 2]], [[-3, 4]]]], [0.25, 0.5]) = [-0.25, 2, -1.5, 4].
    let x = t(&[1, 2, 1, 2], &[-1.0, 2.0, -3.0, 4.0]);
    assert_eq!(prelu(&x, &[0.25, 0.5]).data, vec![-0.25, 2.0, -1.5, 4.0]);
    assert_eq!(prelu(&x, &[0.1]).data, vec![-0.1, 2.0, -0.3, 4.0]);
    // Flat [N=2, F=3]: one slope per feature, same for both samples.
    let f = t(&[2, 3], &[-1.0, -1.0, -1.0, -2.0, 3.0, -4.0]);
    assert_eq!(prelu(&f, &[1.0, 2.0, 3.0]).data, vec![-1.0, -2.0, -3.0, -2.0, 3.0, -12.0]);
}
