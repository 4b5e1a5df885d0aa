//! What a [`Generator`] tells about itself: its backend, the model's metadata, the grid
//! geometry of the canvas (for hit testing), and the latent helpers the page builds requests
//! with.

use wasm_bindgen::prelude::*;

use super::{Generator, Surface, adapter, grid_size};
use crate::gpu::layout::chw;
use crate::image::{GridLayout, grid_columns};
use crate::latent;
use crate::limits::GPU_CHUNK;
use crate::session::Backend;

#[wasm_bindgen]
impl Generator {
    /// `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        match self.surface {
            Surface::WebGpu { .. } => "webgpu".into(),
            Surface::Cpu { .. } => "cpu".into(),
        }
    }

    /// What runs the model: the adapter (name, vendor, architecture, kernel tuning) or
    /// `CPU fallback: <why>`.
    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        match (&self.surface, self.session.backend()) {
            (Surface::WebGpu { facts, .. }, Backend::Gpu { gpu, .. }) => adapter::describe(gpu, facts),
            (_, Backend::Cpu { reason }) => format!("CPU fallback: {reason}"),
            _ => "WebGPU".into(),
        }
    }

    /// Why the CPU is used, or `undefined` on WebGPU.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        match self.session.backend() {
            Backend::Gpu { .. } => None,
            Backend::Cpu { reason } => Some(reason.clone()),
        }
    }

    /// The model's name in its manifest.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.model().manifest.name.clone()
    }

    #[wasm_bindgen(getter, js_name = latentDim)]
    pub fn latent_dim(&self) -> usize {
        self.model().manifest.latent_dim
    }

    /// Number of classes of a conditional model; 0 for an unconditional one.
    #[wasm_bindgen(getter, js_name = numClasses)]
    pub fn num_classes(&self) -> usize {
        self.model().manifest.num_classes.unwrap_or(0)
    }

    /// Width of one output image in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> usize {
        chw(self.output_shape()).2
    }

    /// Height of one output image in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> usize {
        chw(self.output_shape()).1
    }

    /// Channels of one output image (1 or 3).
    #[wasm_bindgen(getter)]
    pub fn channels(&self) -> usize {
        chw(self.output_shape()).0
    }

    /// FLOPs of one image (2 × multiply-adds), for GFLOP/s.
    #[wasm_bindgen(getter, js_name = flopsPerImage)]
    pub fn flops_per_image(&self) -> f64 {
        2.0 * self.model().macs_per_sample() as f64
    }

    /// Largest `count` a call takes.
    #[wasm_bindgen(getter, js_name = maxCount)]
    pub fn max_count(&self) -> usize {
        GPU_CHUNK
    }

    /// Canvas pixels per image pixel.
    #[wasm_bindgen(getter)]
    pub fn scale(&self) -> u32 {
        self.scale.get()
    }

    /// Sets the integer scale of the next draw (1–16): canvas size = grid size × scale.
    #[wasm_bindgen(setter)]
    pub fn set_scale(&self, scale: u32) {
        self.scale.set(scale.clamp(1, 16));
    }

    /// Grid width in image pixels for `count` images (canvas width = this × scale).
    #[wasm_bindgen(js_name = gridWidth)]
    pub fn grid_width(&self, count: usize) -> u32 {
        grid_size(self.output_shape(), count, grid_columns(count)).0
    }

    /// Grid height in image pixels for `count` images.
    #[wasm_bindgen(js_name = gridHeight)]
    pub fn grid_height(&self, count: usize) -> u32 {
        grid_size(self.output_shape(), count, grid_columns(count)).1
    }

    /// Images in the grid now on the canvas (0 before the first draw).
    #[wasm_bindgen(getter, js_name = drawnCount)]
    pub fn drawn_count(&self) -> usize {
        self.drawn()
    }

    /// The image under canvas pixel (`x`, `y`) of the grid on the canvas, or -1 for a gap.
    #[wasm_bindgen(js_name = imageAt)]
    pub fn image_at(&self, x: f64, y: f64) -> i32 {
        let n = self.drawn();
        let scale = self.scale.get() as f64;
        if n == 0 || x < 0.0 || y < 0.0 {
            return -1;
        }
        let (_, h, w) = chw(self.output_shape());
        let (gx, gy) = ((x / scale) as usize, (y / scale) as usize);
        GridLayout::square(n, w, h).tile_at(gx, gy, n).map_or(-1, |i| i as i32)
    }

    /// `[count, dim]` standard-normal latents of `seed` (an integer 0 … 2^53), row after row:
    /// the same numbers as `webgan generate --seed`.
    pub fn latents(seed: f64, count: usize, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
        seeded_latents(seed, count, dim)
    }

    /// Row-wise spherical interpolation of two `[N, dim]` latent batches at `t` in [0, 1].
    pub fn slerp(a: &[f32], b: &[f32], t: f32, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
        slerp_rows(a, b, t, dim)
    }
}

/// `[count, dim]` latents of `seed` for JavaScript, whose numbers are f64: the seed must be a
/// whole number 0 … 2^53.
pub(super) fn seeded_latents(seed: f64, count: usize, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
    if !(seed.is_finite() && seed >= 0.0 && seed.fract() == 0.0 && seed <= 9_007_199_254_740_992.0) {
        return Err(JsError::new(&format!("seed {seed} must be a whole number from 0 to 2^53")));
    }
    Ok(latent::seeded(seed as u64, count, dim).map_err(|e| JsError::new(&e.to_string()))?.data)
}

/// Row-wise [`latent::slerp`] of two `[N, dim]` batches.
pub(super) fn slerp_rows(a: &[f32], b: &[f32], t: f32, dim: usize) -> std::result::Result<Vec<f32>, JsError> {
    if dim == 0 || a.len() != b.len() || a.len() % dim != 0 {
        return Err(JsError::new(&format!(
            "slerp needs two batches of equal length, a multiple of {dim}; got {} and {}",
            a.len(),
            b.len()
        )));
    }
    Ok(a.chunks(dim).zip(b.chunks(dim)).flat_map(|(x, y)| latent::slerp(x, y, t)).collect())
}
