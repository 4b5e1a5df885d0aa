//! `webgan`: the native command-line tool. Generates images or raw outputs from a model folder
//! on the GPU (wgpu on Vulkan) or the CPU reference, and benchmarks both. Native only: a wasm
//! build (as `wasm-pack test` makes of every target) gets an empty program.

#[cfg(not(target_arch = "wasm32"))]
mod cli;
#[cfg(not(target_arch = "wasm32"))]
mod convert;
#[cfg(not(target_arch = "wasm32"))]
mod inputs;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
