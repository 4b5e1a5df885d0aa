//! Turning generator output into pixels: `[N, 3, H, W]` in [-1, 1] → an RGBA grid.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Pixels between tiles of a grid.
pub const GRID_GAP: usize = 2;

/// An RGBA8 image.
#[derive(Clone, Debug, PartialEq)]
pub struct Rgba {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// Columns of the most nearly square grid for `n` tiles.
pub fn grid_columns(n: usize) -> usize {
    (n as f64).sqrt().ceil().max(1.0) as usize
}

/// Maps a value in [-1, 1] to a byte, as PyTorch's `(x + 1) / 2 · 255` with rounding.
pub fn to_byte(v: f32) -> u8 {
    (((v + 1.0) * 0.5).clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Lays `images` (`[N, C, H, W]`, C = 1 or 3) out as a grid with `columns` tiles per row.
pub fn grid(images: &Tensor, columns: usize) -> Result<Rgba> {
    if images.shape.len() != 4 || !(images.shape[1] == 1 || images.shape[1] == 3) {
        return Err(Error::Input(format!(
            "only [N, 1 or 3, H, W] outputs can be drawn, not {:?}",
            images.shape
        )));
    }
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3]);
    let columns = columns.clamp(1, n.max(1));
    let rows = n.div_ceil(columns);
    let width = columns * w + (columns - 1) * GRID_GAP;
    let height = rows * h + (rows - 1) * GRID_GAP;
    let mut pixels = vec![0u8; width * height * 4];
    for px in pixels.chunks_mut(4) {
        px.copy_from_slice(&[24, 24, 28, 255]);
    }
    for i in 0..n {
        let (x0, y0) = ((i % columns) * (w + GRID_GAP), (i / columns) * (h + GRID_GAP));
        for y in 0..h {
            for x in 0..w {
                let at = ((y0 + y) * width + x0 + x) * 4;
                for ch in 0..3 {
                    let src = if c == 1 { 0 } else { ch };
                    pixels[at + ch] = to_byte(images.data[((i * c + src) * h + y) * w + x]);
                }
            }
        }
    }
    Ok(Rgba { width, height, pixels })
}
