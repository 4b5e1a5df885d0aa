//! Errors of the whole crate. Every message says what went wrong and what to do about it.

use thiserror::Error;

/// Everything that can go wrong loading a model, generating, or talking to the GPU.
#[derive(Debug, Error)]
pub enum Error {
    #[error("model.json is not valid: {0}. Fix the manifest or re-create the model folder with `make convert`.")]
    Manifest(String),

    #[error("layer {index} ({op}): {message}")]
    Layer { index: usize, op: String, message: String },

    #[error("node `{name}` ({op}): {message}")]
    Node { name: String, op: String, message: String },

    #[error(
        "weights file is truncated or the wrong file: it has {actual} bytes but model.json says {expected}. Download it again."
    )]
    WeightsSize { expected: u64, actual: u64 },

    #[error(
        "weights file is corrupt or does not belong to this model: SHA-256 is {actual} but model.json says {expected}. Download it again or re-run the converter."
    )]
    WeightsHash { expected: String, actual: String },

    #[error("weights file is not a valid safetensors file: {0}. Re-create it with `make convert`.")]
    Safetensors(String),

    #[error("tensor `{name}` is missing from the weights file; the manifest refers to it. Re-create the model with `make convert`.")]
    MissingTensor { name: String },

    #[error("tensor `{name}` has shape {actual:?} but the manifest's layer needs {expected:?}.")]
    TensorShape { name: String, expected: Vec<usize>, actual: Vec<usize> },

    #[error("tensor `{name}` has dtype {dtype}; webgan reads F32 and F16 weights only. Convert with --dtype f16 or f32.")]
    TensorDtype { name: String, dtype: String },

    #[error("tensor `{name}` holds a non-finite value (NaN or infinity); the weights are corrupt.")]
    NonFinite { name: String },

    #[error("bad input: {0}")]
    Input(String),

    #[error("no WebGPU/Vulkan adapter was found ({0}). Install a Vulkan driver (e.g. `apt-get install mesa-vulkan-drivers`), enable WebGPU in the browser, or use the CPU backend.")]
    NoAdapter(String),

    #[error("the GPU device could not be created: {0}")]
    Device(String),

    #[error("the GPU device was lost ({0}). Create the generator again; if this repeats, use the CPU backend.")]
    DeviceLost(String),

    #[error("{what} needs {needed} but this GPU allows at most {limit}. Use a smaller batch size.")]
    Limit { what: String, needed: u64, limit: u64 },

    #[error("GPU error: {0}")]
    Gpu(String),

    #[error("I/O error on {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn layer(index: usize, op: &str, message: impl Into<String>) -> Self {
        Error::Layer { index, op: op.to_string(), message: message.into() }
    }

    pub(crate) fn node(name: &str, op: &str, message: impl Into<String>) -> Self {
        Error::Node { name: name.to_string(), op: op.to_string(), message: message.into() }
    }
}
