//! CPU reference ops against small cases computed by hand.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use webgan::cpu::{self, Activation};
use webgan::model::Order;
use webgan::Tensor;

fn t(shape: &[usize], data: &[f32]) -> Tensor {
    Tensor::new(shape, data.to_vec()).unwrap()
}

#[test]
fn linear_with_and_without_bias() {
    let x = t(&[2, 3], &[1.0, 2.0, 3.0, -1.0, 0.0, 1.0]);
    let w = t(&[2, 3], &[1.0, 0.0, -1.0, 0.5, 0.5, 0.5]);
    let b = t(&[2], &[10.0, -1.0]);
    assert_eq!(cpu::linear::linear(&x, &w, None).data, vec![-2.0, 3.0, -2.0, 0.0]);
    assert_eq!(cpu::linear::linear(&x, &w, Some(&b)).data, vec![8.0, 2.0, 8.0, -1.0]);
}

#[test]
fn batch_norm_per_channel() {
    // [1, 2, 1, 2]: channel 0 = [1, 3], channel 1 = [0, 4]
    let x = t(&[1, 2, 1, 2], &[1.0, 3.0, 0.0, 4.0]);
    let gamma = t(&[2], &[2.0, 1.0]);
    let beta = t(&[2], &[0.5, -1.0]);
    let mean = t(&[2], &[1.0, 2.0]);
    let var = t(&[2], &[4.0, 1.0]);
    let y = cpu::batch_norm::batch_norm(&x, Some(&gamma), Some(&beta), &mean, &var, 0.0);
    // ch0: (x-1)/2*2+0.5 → 0.5, 2.5; ch1: (x-2)/1*1-1 → -3, 1
    assert_eq!(y.data, vec![0.5, 2.5, -3.0, 1.0]);
    let y = cpu::batch_norm::batch_norm(&x, None, None, &mean, &var, 0.0);
    assert_eq!(y.data, vec![0.0, 1.0, -2.0, 2.0]);
}

#[test]
fn activations() {
    let x = t(&[1, 4], &[-2.0, -0.5, 0.0, 3.0]);
    assert_eq!(cpu::activation::apply(&x, Activation::Relu).data, vec![0.0, 0.0, 0.0, 3.0]);
    assert_eq!(cpu::activation::apply(&x, Activation::LeakyRelu(0.2)).data, vec![-0.4, -0.1, 0.0, 3.0]);
    let th = cpu::activation::apply(&x, Activation::Tanh).data;
    assert!((th[0] - (-2.0f32).tanh()).abs() < 1e-7 && th[2] == 0.0);
    let sg = cpu::activation::apply(&x, Activation::Sigmoid).data;
    assert!((sg[2] - 0.5).abs() < 1e-7 && (sg[3] - 1.0 / (1.0 + (-3.0f32).exp())).abs() < 1e-7);
    // Huge inputs stay finite and saturate.
    let big = t(&[1, 2], &[1e30, -1e30]);
    assert_eq!(cpu::activation::apply(&big, Activation::Tanh).data, vec![1.0, -1.0]);
    let s = cpu::activation::apply(&big, Activation::Sigmoid).data;
    assert!(s[0] == 1.0 && s[1] >= 0.0 && s[1] < 1e-30);
}

#[test]
fn reshape_orders() {
    // flat [0..12) → [C=3, H=2, W=2]
    let x = t(&[1, 12], &(0..12).map(|v| v as f32).collect::<Vec<_>>());
    let cf = cpu::reshape::reshape(&x, &[3, 2, 2], Order::ChannelsFirst);
    assert_eq!(cf.shape, vec![1, 3, 2, 2]);
    assert_eq!(cf.data, x.data);
    // channels last: flat index (h·W + w)·C + c; so channel 0 holds 0, 3, 6, 9.
    let cl = cpu::reshape::reshape(&x, &[3, 2, 2], Order::ChannelsLast);
    assert_eq!(cl.data, vec![0.0, 3.0, 6.0, 9.0, 1.0, 4.0, 7.0, 10.0, 2.0, 5.0, 8.0, 11.0]);
    // and back (Keras Flatten on NHWC).
    assert_eq!(cpu::reshape::reshape(&cl, &[12], Order::ChannelsLast).data, x.data);
    assert_eq!(cpu::reshape::reshape(&cl, &[12], Order::ChannelsFirst).data, cl.data);
}

#[test]
fn upsample_nearest() {
    let x = t(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let y = cpu::upsample::upsample(&x, [2, 3]);
    assert_eq!(y.shape, vec![1, 1, 4, 6]);
    assert_eq!(&y.data[..6], &[1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
    assert_eq!(&y.data[18..], &[3.0, 3.0, 3.0, 4.0, 4.0, 4.0]);
}

#[test]
fn concat_one_hot_appends_class() {
    let x = t(&[2, 2], &[0.5, -0.5, 1.5, 2.5]);
    let y = cpu::concat_one_hot::concat_one_hot(&x, &[2, 0], 3);
    assert_eq!(y.data, vec![0.5, -0.5, 0.0, 0.0, 1.0, 1.5, 2.5, 1.0, 0.0, 0.0]);
}

#[test]
fn conv2d_stride_and_padding() {
    // 1 channel 3×3 input, 2×2 kernel of ones, stride 2, padding top 1 left 1 bottom 0 right 0.
    let x = t(&[1, 1, 3, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    let w = t(&[1, 1, 2, 2], &[1.0, 1.0, 1.0, 1.0]);
    let b = t(&[1], &[0.5]);
    let y = cpu::conv2d::conv2d(&x, &w, Some(&b), [2, 2], [1, 0, 1, 0]);
    // padded 4×4 grid; windows at (0,0),(0,2),(2,0),(2,2) of the padded input
    assert_eq!(y.shape, vec![1, 1, 2, 2]);
    assert_eq!(y.data, vec![1.5, 2.0 + 3.0 + 0.5, 4.0 + 7.0 + 0.5, 5.0 + 6.0 + 8.0 + 9.0 + 0.5]);
}

#[test]
fn conv_transpose2d_stride1_full() {
    // Scatter: 2×2 input, 2×2 kernel, stride 1, no padding → 3×3.
    let x = t(&[1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
    let w = t(&[1, 1, 2, 2], &[1.0, 10.0, 100.0, 1000.0]);
    let y = cpu::conv_transpose2d::conv_transpose2d(&x, &w, None, [1, 1], [0; 4], [0, 0]);
    assert_eq!(
        y.data,
        vec![1.0, 12.0, 20.0, 103.0, 1234.0, 2040.0, 300.0, 3400.0, 4000.0]
    );
}

/// Keras 'same' for a 5×5 stride-2 transposed convolution crops 1 at the top/left and 2 at the
/// bottom/right: output = 2·input. Checked against a direct scatter written out here.
#[test]
fn conv_transpose2d_stride2_kernel5_asymmetric_padding() {
    let (h, w, k, s) = (3usize, 2usize, 5usize, 2usize);
    let x: Vec<f32> = (0..h * w).map(|v| v as f32 + 1.0).collect();
    let wt: Vec<f32> = (0..k * k).map(|v| (v as f32) * 0.1 - 1.0).collect();
    let y = cpu::conv_transpose2d::conv_transpose2d(
        &t(&[1, 1, h, w], &x),
        &t(&[1, 1, k, k], &wt),
        None,
        [s, s],
        [1, 2, 1, 2],
        [0, 0],
    );
    assert_eq!(y.shape, vec![1, 1, 2 * h, 2 * w]);
    // Full output (H−1)·s + k = 9 × 7, then crop rows 1..7, cols 1..5.
    let (fh, fw) = ((h - 1) * s + k, (w - 1) * s + k);
    let mut full = vec![0.0f32; fh * fw];
    for iy in 0..h {
        for ix in 0..w {
            for ky in 0..k {
                for kx in 0..k {
                    full[(iy * s + ky) * fw + ix * s + kx] += x[iy * w + ix] * wt[ky * k + kx];
                }
            }
        }
    }
    let cropped: Vec<f32> = (0..2 * h).flat_map(|r| (0..2 * w).map(move |c| (r, c))).map(|(r, c)| full[(r + 1) * fw + c + 1]).collect();
    // Summation order differs from the scatter above: compare to f32 rounding.
    assert!(y.data.iter().zip(&cropped).all(|(a, b)| (a - b).abs() < 1e-5), "{:?} vs {cropped:?}", y.data);
    // One value by hand: out[0][0] = full[1][1] = x[0][0]·w[1][1] = 1 · (6·0.1 − 1).
    assert!((y.data[0] - (0.6 - 1.0)).abs() < 1e-6);
}

#[test]
fn conv_transpose2d_output_padding_extends_bottom_right() {
    let x = t(&[1, 1, 1, 1], &[2.0]);
    let w = t(&[1, 1, 3, 3], &[1.0; 9]);
    // PyTorch: (1−1)·2 − 2·1 + 3 + 1 = 2.
    let y = cpu::conv_transpose2d::conv_transpose2d(&x, &w, None, [2, 2], [1, 1, 1, 1], [1, 1]);
    assert_eq!(y.shape, vec![1, 1, 2, 2]);
    assert_eq!(y.data, vec![2.0, 2.0, 2.0, 2.0]);
}
