//! Latent vectors: seeded standard-normal draws that are the same on every platform, and
//! spherical interpolation between them.
//!
//! Generator: ChaCha8 (`rand_chacha`) seeded with `seed_from_u64(seed)`, drawing
//! `rand_distr::StandardNormal` as f32, `count × dim` values in row order. ChaCha is defined
//! bit for bit; the normal sampler is a ziggurat whose rare slow path calls `exp`/`ln`, which
//! would have to differ by an ulp exactly at a comparison boundary to change a draw. Image `i` of
//! a batch is therefore the same whatever the batch size: a batch is a prefix of a longer one.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::error::{Error, Result};
use crate::limits::{MAX_COUNT, MAX_LATENT_DIM};
use crate::tensor::Tensor;

/// `[count, dim]` latents for `seed` as a request: `count` must be 1 to [`MAX_COUNT`] and `dim`
/// 1 to [`MAX_LATENT_DIM`].
pub fn seeded(seed: u64, count: usize, dim: usize) -> Result<Tensor> {
    if count == 0 || count > MAX_COUNT {
        return Err(Error::Input(format!("count is {count}; give 1 to {MAX_COUNT}")));
    }
    if dim == 0 || dim > MAX_LATENT_DIM {
        return Err(Error::Input(format!("a latent size of {dim} is out of range 1 to {MAX_LATENT_DIM}")));
    }
    Ok(normal_latents(seed, count, dim))
}

/// `[count, dim]` standard-normal latents for `seed`.
pub fn normal_latents(seed: u64, count: usize, dim: usize) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = (0..count * dim).map(|_| rng.sample::<f32, _>(StandardNormal)).collect();
    Tensor { shape: vec![count, dim], data }
}

/// Spherical interpolation from `a` (t = 0) to `b` (t = 1); falls back to linear interpolation
/// when the vectors are almost parallel, where slerp's formula divides by ~0.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let cos = if na > 0.0 && nb > 0.0 { (dot / (na * nb)).clamp(-1.0, 1.0) } else { 1.0 };
    let omega = cos.acos();
    let sin = omega.sin();
    if sin.abs() < 1e-4 {
        return lerp(a, b, t);
    }
    let (wa, wb) = (((1.0 - t) * omega).sin() / sin, (t * omega).sin() / sin);
    a.iter().zip(b).map(|(x, y)| wa * x + wb * y).collect()
}

/// Linear interpolation from `a` to `b`.
pub fn lerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x + (y - x) * t).collect()
}
