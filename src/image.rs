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

/// Where the tiles of a grid go: the one layout shared by [`grid`], the WebGPU canvas and the
/// page's hit testing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridLayout {
    pub columns: usize,
    pub rows: usize,
    /// Pixel size of the whole grid.
    pub width: usize,
    pub height: usize,
    tile_w: usize,
    tile_h: usize,
}

impl GridLayout {
    /// `count` tiles of `tile_w × tile_h`, `columns` per row (clamped to 1 … count).
    pub fn new(count: usize, columns: usize, tile_w: usize, tile_h: usize) -> Self {
        let columns = columns.clamp(1, count.max(1));
        let rows = count.max(1).div_ceil(columns);
        GridLayout {
            columns,
            rows,
            width: columns * tile_w + (columns - 1) * GRID_GAP,
            height: rows * tile_h + (rows - 1) * GRID_GAP,
            tile_w,
            tile_h,
        }
    }

    /// The most nearly square grid for `count` tiles ([`grid_columns`]).
    pub fn square(count: usize, tile_w: usize, tile_h: usize) -> Self {
        Self::new(count, grid_columns(count), tile_w, tile_h)
    }

    /// Top-left pixel of tile `i`.
    pub fn origin(&self, i: usize) -> (usize, usize) {
        ((i % self.columns) * (self.tile_w + GRID_GAP), (i / self.columns) * (self.tile_h + GRID_GAP))
    }

    /// The tile under grid pixel (`x`, `y`), or None over a gap or past the last of `count`.
    pub fn tile_at(&self, x: usize, y: usize, count: usize) -> Option<usize> {
        let (col, row) = (x / (self.tile_w + GRID_GAP), y / (self.tile_h + GRID_GAP));
        let in_tile = x % (self.tile_w + GRID_GAP) < self.tile_w && y % (self.tile_h + GRID_GAP) < self.tile_h;
        let index = row * self.columns + col;
        (in_tile && col < self.columns && index < count).then_some(index)
    }
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
    let layout = GridLayout::new(n, columns, w, h);
    let (width, height) = (layout.width, layout.height);
    let mut pixels = vec![0u8; width * height * 4];
    for px in pixels.chunks_mut(4) {
        px.copy_from_slice(&[24, 24, 28, 255]);
    }
    for i in 0..n {
        let (x0, y0) = layout.origin(i);
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

/// `image` scaled up `scale` times, nearest neighbour.
pub fn upscale(image: &Rgba, scale: usize) -> Rgba {
    if scale <= 1 {
        return image.clone();
    }
    let (width, height) = (image.width * scale, image.height * scale);
    let mut pixels = vec![0u8; width * height * 4];
    for y in 0..height {
        let src = (y / scale) * image.width;
        for x in 0..width {
            let from = (src + x / scale) * 4;
            pixels[(y * width + x) * 4..][..4].copy_from_slice(&image.pixels[from..from + 4]);
        }
    }
    Rgba { width, height, pixels }
}
