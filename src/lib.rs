//! webgan: pretrained GAN generators that run on the visitor's GPU.
//!
//! A model folder (`model.json` + `weights.safetensors`, see [`model`]) is checked and loaded
//! into a [`Model`]; [`cpu::forward`] runs it op by op on the CPU (the reference and the
//! fallback), and [`gpu::Plan`] compiles it to WGSL compute passes on wgpu (WebGPU in the
//! browser, Vulkan natively). [`web`] is the wasm-bindgen face of the same engine.

pub mod cpu;
pub mod discriminator;
pub mod error;
#[cfg(not(target_arch = "wasm32"))]
pub mod files;
pub mod gpu;
pub mod image;
pub mod latent;
pub mod limits;
pub mod model;
pub mod onnx;
pub mod session;
#[cfg(not(target_arch = "wasm32"))]
pub mod npy;
pub mod tensor;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use discriminator::Discriminator;
pub use error::{Error, Result};
pub use model::Model;
pub use session::{BackendChoice, Session};
pub use tensor::Tensor;
