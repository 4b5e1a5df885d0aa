//! The browser face of webgan, the only wasm-bindgen code: the [`Engine`] behind the npm package
//! (`js/`), a thin layer over a [`Session`](crate::Session) (which validates, chunks, picks the
//! backend and reads back). The model, its compiled plans and every output stay in Rust (on the
//! GPU where there is one); JavaScript passes latents in and gets small results back. What is
//! here is only what a page or worker adds: canvases (drawn straight from the GPU buffer on
//! WebGPU, through a 2D context on the CPU), adapter facts, and calls queued in order.

mod adapter;
mod canvas;
mod draw;
mod engine;
mod output;
mod queue;

pub use draw::grid_size;
pub use engine::{Critic, Engine};
pub use output::Output;

/// An engine error as the one-line JS `Error` every binding throws.
fn js_error(e: crate::error::Error) -> wasm_bindgen::JsError {
    wasm_bindgen::JsError::new(&e.to_string())
}
