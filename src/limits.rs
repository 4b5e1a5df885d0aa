//! Every cap webgan puts on its inputs, in one place. A model file, a manifest, a latents file
//! or a URL is untrusted data: each size computed from one is checked (with checked arithmetic)
//! against these before anything is read or allocated, and an error names the cap.
//!
//! The caps are far above every real generator (faces64: 12 layers, 4 KB manifest, 7 MB
//! weights, 131,072 values per sample at most) and low enough that a hostile file fails within
//! seconds and well under 2 GB of memory, on 64-bit machines and on wasm32 alike.

/// Largest `model.json`, in bytes (a 12-layer DCGAN's is 4 KB).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Most layers a model may have.
pub const MAX_LAYERS: usize = 1000;
/// Largest weights file, in bytes.
pub const MAX_WEIGHTS_BYTES: u64 = 1 << 30;
/// Largest per-sample activation (elements) a model may have: 1 GiB of f32.
pub const MAX_ELEMENTS: usize = 1 << 28;
/// Largest single dimension (channels, height, width, features) of any shape.
pub const MAX_DIM: usize = 1 << 24;
/// Largest kernel side, stride or upsampling factor.
pub const MAX_KERNEL: usize = 64;
/// Largest padding on one side of a convolution.
pub const MAX_PADDING: usize = 1024;
/// Largest latent vector.
pub const MAX_LATENT_DIM: usize = 65536;
/// Most classes of a conditional model.
pub const MAX_CLASSES: usize = 65536;
/// Most images (latent rows) one generate call takes; longer requests are chunked by the
/// caller into calls of at most this many.
pub const MAX_COUNT: usize = 4096;
/// Largest batch one GPU plan is compiled for.
pub const MAX_PLAN_BATCH: usize = MAX_COUNT;
/// Largest batch a session runs on the GPU at once (and draws on a canvas); longer requests
/// run as several plans of at most this many. Keeps GPU memory bounded: eyes128, the largest
/// gallery model, takes 400 MB of activations at 256.
pub const GPU_CHUNK: usize = 256;
/// Bytes of activations the CPU path may hold at once (input and output of the largest layer
/// for the whole batch): keeps `--backend cpu` and `bench` under 2 GB of memory.
pub const CPU_MEMORY_BUDGET: u64 = 1 << 30;
/// Largest latents `.npy` file, in bytes: `MAX_COUNT` rows of the largest latent vector, plus
/// room for the header.
pub const MAX_NPY_BYTES: u64 = (MAX_COUNT as u64) * (MAX_LATENT_DIM as u64) * 4 + 65536;

/// `a · b` for sizes from untrusted input, or an error naming `what` when it overflows.
pub fn mul(what: &str, a: usize, b: usize) -> std::result::Result<usize, String> {
    a.checked_mul(b).ok_or_else(|| format!("{what} overflows ({a} × {b})"))
}

/// `a + b` for sizes from untrusted input, or an error naming `what` when it overflows.
pub fn add(what: &str, a: usize, b: usize) -> std::result::Result<usize, String> {
    a.checked_add(b).ok_or_else(|| format!("{what} overflows ({a} + {b})"))
}

/// The product of `dims`, or an error naming `what` when it overflows.
pub fn product(what: &str, dims: &[usize]) -> std::result::Result<usize, String> {
    dims.iter().try_fold(1usize, |acc, &d| mul(what, acc, d))
}
