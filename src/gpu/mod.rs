//! The GPU engine: generator inference as WGSL compute shaders on wgpu (WebGPU in the browser,
//! Vulkan natively). `device` acquires the adapter, `shaders` holds the kernel table, `ops`
//! builds one compute pass per fused step and `plan` compiles a whole model for a batch size.

pub mod buffers;
pub mod device;
pub mod fold;
pub mod graph;
pub mod layout;
pub mod ops;
pub mod plan;
pub mod shaders;
pub mod weight_cache;

pub use device::{Gpu, Tuning};
pub use graph::GraphPlan;
pub use plan::Plan;
