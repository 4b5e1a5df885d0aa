//! Normalizations (instance, group, layer, pixel) and reduce_mean.

use crate::common::assert_close;
use crate::t;
use webgan::Tensor;
use webgan::cpu::norm::{group_norm, instance_norm, layer_norm, pixel_norm};
use webgan::cpu::reduce::reduce_mean;

// ---------------------------------------------------------------- normalizations

/// x [1, 2, 2, 2]: channel 0 = 1..4, channel 1 = [-1, 0, 5, 8].
fn norm_input() -> Tensor {
    t(&[1, 2, 2, 2], &[1.0, 2.0, 3.0, 4.0, -1.0, 0.0, 5.0, 8.0])
}

#[test]
fn instance_norm_per_channel() {
    // By hand, channel 0: mean 2.5, biased var 1.25 → (x − 2.5)/√1.25.
    let y = instance_norm(&norm_input(), None, None, 0.0);
    let s = 1.25f32.sqrt();
    assert_close(
        "instance_norm ch0",
        &t(&[4], &y.data[..4]),
        &t(&[4], &[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]),
        1e-6,
        1e-6,
    );
    // torch: F.instance_norm(x, weight=[2, -1], bias=[0.5, 1], eps=1e-5).
    let expected =
        [-2.1832707, -0.39442348, 1.3944237, 3.183271, 2.0886617, 1.8164963, 0.45566916, -0.3608271];
    let y = instance_norm(&norm_input(), Some(&[2.0, -1.0]), Some(&[0.5, 1.0]), 1e-5);
    assert_close("instance_norm affine", &y, &t(&[1, 2, 2, 2], &expected), 1e-6, 1e-6);
}

#[test]
fn instance_norm_offset_inputs_keep_digits() {
    // numpy (float64): (x − x.mean()) / x.std() for [10000, 10000.5, 10001, 10001.5] is
    // ±1.3416408, ±0.4472136. float32 torch gives [-1.34116, -0.44673, 0.44769, 1.34212]
    // (off by 5e-4); the f64 two-pass reference must not.
    let x = t(&[1, 1, 2, 2], &[10000.0, 10000.5, 10001.0, 10001.5]);
    let expected = t(&[1, 1, 2, 2], &[-1.3416408, -0.4472136, 0.4472136, 1.3416408]);
    assert_close("instance_norm offset", &instance_norm(&x, None, None, 0.0), &expected, 1e-6, 1e-6);
}

#[test]
fn group_norm_groups_equal_channels_and_one() {
    let w: &[f32] = &[2.0, -1.0];
    let b: &[f32] = &[0.5, 1.0];
    // groups = C is instance norm (torch: F.group_norm(x, 2, w, b, 1e-5) = the instance case).
    let per_channel = group_norm(&norm_input(), 2, Some(w), Some(b), 1e-5);
    assert_close(
        "group_norm C",
        &per_channel,
        &instance_norm(&norm_input(), Some(w), Some(b), 1e-5),
        0.0,
        0.0,
    );
    assert!((per_channel.data[0] + 2.1832707).abs() < 1e-6);
    // groups = 1: one mean/var over the whole sample; torch: F.group_norm(x, 1, w, b, eps=1e-5).
    let expected =
        [-0.7833771, -0.05001879, 0.68333954, 1.4166979, 2.375047, 2.0083678, 0.17497197, -0.9250655];
    let y = group_norm(&norm_input(), 1, Some(w), Some(b), 1e-5);
    assert_close("group_norm 1", &y, &t(&[1, 2, 2, 2], &expected), 1e-6, 1e-6);
}

#[test]
fn group_norm_flat_two_samples() {
    // [N=2, C=4], 2 groups of 2 features; torch: F.group_norm(f, 2, [1,2,3,4], [0,0,-1,-1], eps=0.1).
    // Sample 1 is constant within each group: (x − mean) = 0 → the bias alone.
    let f = t(&[2, 4], &[1.0, 3.0, -2.0, 6.0, 0.0, 0.0, 1.0, 1.0]);
    let y = group_norm(&f, 2, Some(&[1.0, 2.0, 3.0, 4.0]), Some(&[0.0, 0.0, -1.0, -1.0]), 0.1);
    let expected = [-0.9534626, 1.9069252, -3.9906688, 2.9875584, 0.0, 0.0, -1.0, -1.0];
    assert_close("group_norm flat", &y, &t(&[2, 4], &expected), 1e-6, 1e-6);
}

/// [1, 2, 2, 3] with values i^1.5 (torch: `torch.arange(12.).reshape(1,2,2,3) ** 1.5`).
fn layer_input() -> Tensor {
    let data: Vec<f32> = (0..12).map(|i| (i as f64).powf(1.5) as f32).collect();
    t(&[1, 2, 2, 3], &data)
}

#[test]
fn layer_norm_last_dim_with_affine() {
    // torch: F.layer_norm(y, (3,), weight=[1,2,3], bias=[0,1,0], eps=1e-5).
    #[rustfmt::skip]
    let expected = [
        -1.0896972, 0.52840436, 3.9764853, -1.1982685, 0.8973293, 3.7488134,
        -1.2098747, 0.94156677, 3.7172732, -1.214401, 0.95913637, 3.7044973,
    ];
    let y = layer_norm(&layer_input(), 2, Some(&[1.0, 2.0, 3.0]), Some(&[0.0, 1.0, 0.0]), 1e-5);
    assert_close("layer_norm last", &y, &t(&[1, 2, 2, 3], &expected), 2e-6, 1e-6);
}

#[test]
fn layer_norm_all_dims() {
    // torch: F.layer_norm(y, (2, 2, 3), eps=1e-5).
    #[rustfmt::skip]
    let expected = [
        -1.2612989, -1.1768159, -1.0223446, -0.8223118, -0.5854341, -0.31674907,
        -0.019655865, 0.3033502, 0.6503356, 1.019745, 1.4102914, 1.8208874,
    ];
    let y = layer_norm(&layer_input(), 0, None, None, 1e-5);
    assert_close("layer_norm all", &y, &t(&[1, 2, 2, 3], &expected), 2e-6, 1e-6);
}

#[test]
fn pixel_norm_over_channels() {
    // [1, C=2, 1, 3]: position 0 has (3, 4): mean x² = 12.5 → 3/√12.5, 4/√12.5;
    // torch: p * torch.rsqrt((p ** 2).mean(dim=1, keepdim=True) + 1e-8).
    let p = t(&[1, 2, 1, 3], &[3.0, 0.0, -1.0, 4.0, 2.0, 1.0]);
    let expected = [0.84852815, 0.0, -1.0, 1.1313709, std::f32::consts::SQRT_2, 1.0];
    assert_close("pixel_norm", &pixel_norm(&p, 1e-8), &t(&[1, 2, 1, 3], &expected), 1e-6, 1e-6);
    // Flat [N=2, F=2]: over the features of each sample.
    let f = t(&[2, 2], &[3.0, 4.0, 1.0, -1.0]);
    let y = pixel_norm(&f, 0.0);
    let r = 12.5f32.sqrt();
    assert_close("pixel_norm flat", &y, &t(&[2, 2], &[3.0 / r, 4.0 / r, 1.0, -1.0]), 1e-6, 1e-6);
}

// ---------------------------------------------------------------- reduce_mean

#[test]
fn reduce_mean_axes_and_keepdims() {
    // r = arange(12).reshape(1,2,2,3) ** 2; torch: r.mean(dim=1), r.mean(dim=(2,3)), r.mean(dim=(1,2,3)).
    let data: Vec<f32> = (0..12).map(|i| (i * i) as f32).collect();
    let r = t(&[1, 2, 2, 3], &data);
    let y = reduce_mean(&r, &[0], true);
    assert_eq!(y.shape, vec![1, 1, 2, 3]);
    assert_eq!(y.data, vec![18.0, 25.0, 34.0, 45.0, 58.0, 73.0]);
    let y = reduce_mean(&r, &[0], false);
    assert_eq!(y.shape, vec![1, 2, 3]);
    let y = reduce_mean(&r, &[2, 1], false);
    assert_eq!(y.shape, vec![1, 2]);
    assert_close("reduce_mean hw", &y, &t(&[1, 2], &[9.166667, 75.166664]), 1e-5, 1e-6);
    let y = reduce_mean(&r, &[0, 1, 2], true);
    assert_eq!(y.shape, vec![1, 1, 1, 1]);
    assert_close("reduce_mean all", &y, &t(&[1, 1, 1, 1], &[42.166668]), 1e-5, 1e-6);
    // The middle dim only: (0+9)/2 … by hand: rows (0,1,4 | 9,16,25) → 4.5, 8.5, 14.5 for c = 0.
    let y = reduce_mean(&r, &[1], false);
    assert_eq!(y.shape, vec![1, 2, 3]);
    assert_eq!(y.data, vec![4.5, 8.5, 14.5, 58.5, 74.5, 92.5]);
}

#[test]
fn reduce_mean_flat_per_sample() {
    let f = t(&[2, 4], &[1.0, 2.0, 3.0, 6.0, -1.0, -1.0, 0.0, 10.0]);
    let y = reduce_mean(&f, &[0], true);
    assert_eq!(y.shape, vec![2, 1]);
    assert_eq!(y.data, vec![3.0, 2.0]);
}
