//! Layout and spatial ops: concat, embedding, pad, bilinear resize, average pooling.

use crate::common::assert_close;
use crate::{range, t};
use webgan::Tensor;
use webgan::cpu::avg_pool::avg_pool2d;
use webgan::cpu::concat::concat;
use webgan::cpu::embedding::embedding;
use webgan::cpu::pad::{PadMode, pad};
use webgan::cpu::resize::bilinear;

// ---------------------------------------------------------------- concat and embedding

#[test]
fn concat_images_on_channels() {
    // [N=2, 1, 1, 2] and [N=2, 2, 1, 2] → [2, 3, 1, 2]: per sample a's channel then b's two.
    let a = t(&[2, 1, 1, 2], &[1.0, 2.0, 3.0, 4.0]);
    let b = t(&[2, 2, 1, 2], &[10.0, 11.0, 12.0, 13.0, 20.0, 21.0, 22.0, 23.0]);
    let y = concat(&[&a, &b], 0);
    assert_eq!(y.shape, vec![2, 3, 1, 2]);
    assert_eq!(y.data, vec![1.0, 2.0, 10.0, 11.0, 12.0, 13.0, 3.0, 4.0, 20.0, 21.0, 22.0, 23.0]);
}

#[test]
fn concat_flat_features_three_parts() {
    let a = t(&[2, 1], &[1.0, 2.0]);
    let b = t(&[2, 2], &[3.0, 4.0, 5.0, 6.0]);
    let y = concat(&[&b, &a, &b], 0);
    assert_eq!(y.shape, vec![2, 5]);
    assert_eq!(y.data, vec![3.0, 4.0, 1.0, 3.0, 4.0, 5.0, 6.0, 2.0, 5.0, 6.0]);
}

#[test]
fn concat_images_on_rows() {
    // Per-sample axis 1 (H): [2, 1, 2, 2] and [2, 1, 1, 2] → [2, 1, 3, 2], per sample a's rows then b's.
    let a = t(&[2, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let b = t(&[2, 1, 1, 2], &[10.0, 11.0, 20.0, 21.0]);
    let y = concat(&[&a, &b], 1);
    assert_eq!(y.shape, vec![2, 1, 3, 2]);
    assert_eq!(y.data, vec![1.0, 2.0, 3.0, 4.0, 10.0, 11.0, 5.0, 6.0, 7.0, 8.0, 20.0, 21.0]);
}

#[test]
fn embedding_rows() {
    let w = t(&[3, 2], &[0.0, 0.5, 1.0, 1.5, 2.0, 2.5]);
    let y = embedding(&[2, 0, 2], &w);
    assert_eq!(y.shape, vec![3, 2]);
    assert_eq!(y.data, vec![2.0, 2.5, 0.0, 0.5, 2.0, 2.5]);
}

// ---------------------------------------------------------------- pad

#[test]
fn reflect_pad_width_dim_minus_one() {
    // [1,1,2,3] = 0..6, pads top 1 bottom 1 (= H − 1) left 2 right 2 (= W − 1);
    // torch: F.pad(q, (2, 2, 1, 1), mode="reflect").
    let q = range(&[1, 1, 2, 3]);
    let y = pad(&q, [1, 1, 2, 2], PadMode::Reflect);
    assert_eq!(y.shape, vec![1, 1, 4, 7]);
    #[rustfmt::skip]
    let expected = vec![
        5.0, 4.0, 3.0, 4.0, 5.0, 4.0, 3.0,
        2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0,
        5.0, 4.0, 3.0, 4.0, 5.0, 4.0, 3.0,
        2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0,
    ];
    assert_eq!(y.data, expected);
}

#[test]
fn replicate_and_zero_pad_asymmetric() {
    let q = range(&[1, 1, 2, 3]);
    // torch: F.pad(q, (1, 0, 0, 2), mode="replicate") = top 0, bottom 2, left 1, right 0.
    let y = pad(&q, [0, 2, 1, 0], PadMode::Replicate);
    assert_eq!(y.shape, vec![1, 1, 4, 4]);
    assert_eq!(y.data, vec![0.0, 0.0, 1.0, 2.0, 3.0, 3.0, 4.0, 5.0, 3.0, 3.0, 4.0, 5.0, 3.0, 3.0, 4.0, 5.0]);
    // torch: F.pad(q, (0, 1, 1, 0)) = top 1, right 1, zeros.
    let y = pad(&q, [1, 0, 0, 1], PadMode::Zero);
    assert_eq!(y.shape, vec![1, 1, 3, 4]);
    assert_eq!(y.data, vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 5.0, 0.0]);
}

#[test]
fn pad_keeps_planes_apart() {
    // Two samples × two channels of 1×2: each plane is padded on its own.
    let x = t(&[2, 2, 1, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    let y = pad(&x, [0, 0, 1, 1], PadMode::Reflect);
    assert_eq!(y.shape, vec![2, 2, 1, 4]);
    assert_eq!(y.data, vec![2.0, 1.0, 2.0, 1.0, 4.0, 3.0, 4.0, 3.0, 6.0, 5.0, 6.0, 5.0, 8.0, 7.0, 8.0, 7.0]);
}

// ---------------------------------------------------------------- bilinear

#[test]
fn bilinear_2x2_both_modes() {
    // torch: F.interpolate([[1, 2], [3, 4]], scale_factor=2, mode="bilinear", align_corners=…).
    let sq = t(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    #[rustfmt::skip]
    let half_pixel = [
        1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0,
    ];
    assert_close("bilinear false", &bilinear(&sq, [2, 2], false), &t(&[1, 1, 4, 4], &half_pixel), 1e-6, 0.0);
    #[rustfmt::skip]
    let corners = [
        1.0, 1.3333333, 1.6666667, 2.0, 1.6666666, 2.0, 2.3333335, 2.6666665,
        2.3333335, 2.6666665, 3.0, 3.3333335, 3.0, 3.3333333, 3.6666667, 4.0,
    ];
    assert_close("bilinear true", &bilinear(&sq, [2, 2], true), &t(&[1, 1, 4, 4], &corners), 1e-6, 0.0);
}

/// [1, 1, 3, 4] with mixed signs for the non-square scale cases.
fn bilinear_input() -> Tensor {
    t(&[1, 1, 3, 4], &[0.5, -1.0, 2.0, 4.0, 3.0, 0.0, 1.0, -2.0, 1.5, 2.5, -0.5, 0.25])
}

#[test]
fn bilinear_scale_2x3_half_pixel() {
    // torch (float32): F.interpolate(x, scale_factor=(2, 3), mode="bilinear", align_corners=False);
    // its rounding noise (e.g. -5.96e-8 for 0) is kept: the reference follows torch's f32 order.
    #[rustfmt::skip]
    let expected = [
        0.5, 0.5, -5.9604645e-08, -0.5, -1.0, 1.1920929e-07,
        1.0000002, 2.0, 2.666667, 3.3333335, 4.0, 4.0,
        1.125, 1.125, 0.49999994, -0.12500001, -0.75, 0.08333343,
        0.91666687, 1.75, 2.0000002, 2.25, 2.5, 2.5,
        2.375, 2.375, 1.4999999, 0.62499994, -0.25, 0.25000006,
        0.7500001, 1.25, 0.6666664, 0.083333135, -0.5, -0.5,
        2.625, 2.625, 1.9583333, 1.2916666, 0.625, 0.625,
        0.625, 0.625, -0.06250033, -0.7500002, -1.4375, -1.4375,
        1.875, 1.875, 1.875, 1.875, 1.875, 1.2083333,
        0.5416665, -0.125, -0.18750003, -0.25, -0.3125, -0.3125,
        1.5, 1.5, 1.8333334, 2.1666667, 2.5, 1.4999999,
        0.4999998, -0.5, -0.24999988, 5.9604645e-08, 0.25, 0.25,
    ];
    let y = bilinear(&bilinear_input(), [2, 3], false);
    assert_close("bilinear 2x3 false", &y, &t(&[1, 1, 6, 12], &expected), 1e-6, 0.0);
}

#[test]
fn bilinear_scale_2x3_align_corners() {
    // torch (float32): F.interpolate(x, scale_factor=(2, 3), mode="bilinear", align_corners=True).
    #[rustfmt::skip]
    let expected = [
        0.5, 0.09090909, -0.31818184, -0.7272728, -0.7272726, 0.09090912,
        0.90909123, 1.727273, 2.3636365, 2.909091, 3.4545455, 4.0,
        1.5, 0.9272728, 0.3545454, -0.21818194, -0.39999995, 0.20000002,
        0.8000003, 1.4000002, 1.5999999, 1.6000001, 1.6, 1.6000001,
        2.5, 1.7636365, 1.0272727, 0.290909, -0.07272721, 0.30909094,
        0.69090927, 1.0727274, 0.83636355, 0.290909, -0.25454563, -0.8000001,
        2.6999998, 2.1000001, 1.5, 0.9, 0.5181819, 0.5727273,
        0.6272727, 0.6818181, 0.2909089, -0.32272735, -0.93636364, -1.55,
        2.1, 1.9363637, 1.7727273, 1.6090909, 1.3727274, 0.9909091,
        0.60909075, 0.22727257, -0.0363637, -0.24090911, -0.44545454, -0.65,
        1.5, 1.7727273, 2.0454545, 2.318182, 2.2272725, 1.4090909,
        0.59090877, -0.22727299, -0.3636363, -0.15909088, 0.04545456, 0.25,
    ];
    let y = bilinear(&bilinear_input(), [2, 3], true);
    assert_close("bilinear 2x3 true", &y, &t(&[1, 1, 6, 12], &expected), 1e-6, 0.0);
}

#[test]
fn bilinear_single_row_or_column() {
    // H = 1, align_corners=True: the row ratio is 0/(2 − 1) = 0, so both output rows are row 0;
    // columns: ratio 2/5 → sources 0, .4, .8, 1.2, 1.6, 2 (torch: [0, 4, 8, 12, 16, 20] twice).
    let row = t(&[1, 1, 1, 3], &[0.0, 10.0, 20.0]);
    let y = bilinear(&row, [2, 2], true);
    assert_eq!(y.shape, vec![1, 1, 2, 6]);
    assert_close(
        "H=1 true",
        &y,
        &t(&[1, 1, 2, 6], &[0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 0.0, 4.0, 8.0, 12.0, 16.0, 20.0]),
        1e-5,
        0.0,
    );
    // Height scale 3, width 1 (copy): torch gives the row three times.
    let y = bilinear(&row, [3, 1], true);
    assert_eq!(y.data, vec![0.0, 10.0, 20.0, 0.0, 10.0, 20.0, 0.0, 10.0, 20.0]);
    // W = 1, align_corners=True (torch: [1, 1, ~0, ~0, -1, -1, -2, -2]).
    let col = t(&[1, 1, 2, 1], &[1.0, -2.0]);
    let y = bilinear(&col, [2, 2], true);
    assert_close("W=1 true", &y, &t(&[1, 1, 4, 2], &[1.0, 1.0, 0.0, 0.0, -1.0, -1.0, -2.0, -2.0]), 1e-6, 0.0);
    // W = 2 × 3, half-pixel: sources clamp at 0 and at the last column (torch: [0, ~0, 1, 2, 3, 3]).
    let y = bilinear(&t(&[1, 1, 1, 2], &[0.0, 3.0]), [1, 3], false);
    assert_close("W=2 s3 false", &y, &t(&[1, 1, 1, 6], &[0.0, 0.0, 1.0, 2.0, 3.0, 3.0]), 1e-6, 0.0);
    // 1×1 at scale 1 is a copy.
    assert_eq!(bilinear(&t(&[1, 1, 1, 1], &[7.0]), [1, 1], true).data, vec![7.0]);
    // 1×1 at scale 2 with align_corners: every output is the one value.
    assert_eq!(bilinear(&t(&[1, 1, 1, 1], &[7.0]), [2, 2], true).data, vec![7.0; 4]);
}

#[test]
fn bilinear_keeps_planes_apart() {
    // N=2, C=1, 1×2 planes, half-pixel ×2 in width: [a, .75a+.25b, .25a+.75b, b] each.
    let x = t(&[2, 1, 1, 2], &[0.0, 4.0, 8.0, -8.0]);
    let y = bilinear(&x, [1, 2], false);
    assert_eq!(y.data, vec![0.0, 1.0, 3.0, 4.0, 8.0, 4.0, -4.0, -8.0]);
}

// ---------------------------------------------------------------- avg_pool2d

/// [1, 1, 4, 4] with values i^1.25 (torch: `torch.arange(16.).reshape(1,1,4,4) ** 1.25`).
fn pool_input() -> Tensor {
    let data: Vec<f32> = (0..16).map(|i| (i as f64).powf(1.25) as f32).collect();
    t(&[1, 1, 4, 4], &data)
}

#[test]
fn avg_pool_no_padding_floor() {
    // 5×5 = 0..25, kernel 2 stride 2: the last row and column are dropped (floor mode);
    // (0+1+5+6)/4 = 3 … (torch: F.avg_pool2d(x, 2, 2) = [3, 5, 13, 15]).
    let y = avg_pool2d(&range(&[1, 1, 5, 5]), [2, 2], [2, 2], [0; 4], true);
    assert_eq!(y.shape, vec![1, 1, 2, 2]);
    assert_eq!(y.data, vec![3.0, 5.0, 13.0, 15.0]);
}

#[test]
fn avg_pool_symmetric_padding_both_counts() {
    // torch: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True / False).
    let inc = avg_pool2d(&pool_input(), [3, 3], [2, 2], [1, 1, 1, 1], true);
    assert_close(
        "avg_pool incl",
        &inc,
        &t(&[1, 1, 2, 2], &[1.5703998, 3.953325, 9.910633, 18.104738]),
        1e-5,
        1e-6,
    );
    let exc = avg_pool2d(&pool_input(), [3, 3], [2, 2], [1, 1, 1, 1], false);
    assert_close(
        "avg_pool excl",
        &exc,
        &t(&[1, 1, 2, 2], &[3.5333996, 5.9299874, 14.865949, 18.104738]),
        1e-5,
        1e-6,
    );
}

#[test]
fn avg_pool_asymmetric_padding() {
    // Kernel 2×3, stride 1×2, padding top 0, bottom 1, left 1, right 0 → [1, 1, 4, 2].
    // torch: o = F.avg_pool2d(F.pad(x, (1, 0, 0, 1)), (2, 3), (1, 2)) (zeros counted), and for the
    // excluded count o · 6 / (the same pool of the padded ones-mask · 6).
    let inc = avg_pool2d(&pool_input(), [2, 3], [1, 2], [0, 1, 1, 0], true);
    let expected = [2.3555996, 5.9299874, 7.0294, 13.60955, 12.677016, 22.448225, 7.8365493, 13.547555];
    assert_close("avg_pool asym incl", &inc, &t(&[1, 1, 4, 2], &expected), 1e-5, 1e-6);
    let exc = avg_pool2d(&pool_input(), [2, 3], [1, 2], [0, 1, 1, 0], false);
    let expected = [3.5333996, 5.9299874, 10.5441, 13.60955, 19.015524, 22.448225, 23.509647, 27.09511];
    assert_close("avg_pool asym excl", &exc, &t(&[1, 1, 4, 2], &expected), 1e-5, 1e-6);
}
