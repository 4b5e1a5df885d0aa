//! 2-D average pooling (`torch.nn.AvgPool2d`, floor mode).

use crate::tensor::Tensor;

/// x `[N, C, H, W]` → `[N, C, OH, OW]` with `OH = (top + H + bottom − kh) / sh + 1` (floor),
/// likewise OW; `padding` is `[top, bottom, left, right]` (PyTorch's symmetric padding is
/// top = bottom, left = right). Padded positions count as zeros; the divisor is the whole
/// window `kh·kw` with `count_include_pad` (in floor mode a window never leaves the padded
/// image) and otherwise the number of the window's positions inside the image (a window
/// entirely in the padding, which PyTorch's pad ≤ kernel/2 rule rules out, gives 0). The loader
/// checks that the kernel fits the padded image.
pub fn avg_pool2d(
    x: &Tensor,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
    count_include_pad: bool,
) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3]);
    let [top, bottom, left, right] = padding;
    let oh = (top + h + bottom - kernel[0]) / stride[0] + 1;
    let ow = (left + w + right - kernel[1]) / stride[1] + 1;
    // The in-image part of each window along one axis: [start, end).
    let span = |o: usize, s: usize, k: usize, pad: usize, len: usize| {
        let start = (o * s) as isize - pad as isize;
        (start.max(0) as usize, ((start + k as isize).max(0) as usize).min(len))
    };
    let mut data = Vec::with_capacity(n * c * oh * ow);
    for plane in x.data.chunks((h * w).max(1)).take(n * c) {
        for oy in 0..oh {
            let (y0, y1) = span(oy, stride[0], kernel[0], top, h);
            for ox in 0..ow {
                let (x0, x1) = span(ox, stride[1], kernel[1], left, w);
                let mut sum = 0f64;
                for y in y0..y1 {
                    sum += plane[y * w + x0..y * w + x1].iter().map(|&v| v as f64).sum::<f64>();
                }
                let count = if count_include_pad {
                    kernel[0] * kernel[1]
                } else {
                    y1.saturating_sub(y0) * x1.saturating_sub(x0)
                };
                data.push(if count == 0 { 0.0 } else { (sum / count as f64) as f32 });
            }
        }
    }
    Tensor { shape: vec![n, c, oh, ow], data }
}
