//! The kernel table: every WGSL file in `shaders/`, loaded with `include_str!`, and a cache of
//! compiled compute pipelines keyed by kernel name.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// A WGSL kernel: its name (the file stem) and source.
pub struct Kernel {
    pub name: &'static str,
    pub source: &'static str,
}

macro_rules! kernels {
    ($($name:literal),* $(,)?) => {
        /// Every kernel webgan ships.
        pub const KERNELS: &[Kernel] = &[
            $(Kernel { name: $name, source: include_str!(concat!("../../shaders/", $name, ".wgsl")) }),*
        ];
    };
}

kernels!("gemm_tiled", "gemm_registers", "affine", "upsample", "reshape", "concat_one_hot", "draw");

/// Compiled pipelines of one device, created on first use.
#[derive(Default)]
pub struct PipelineCache {
    pipelines: Mutex<HashMap<&'static str, wgpu::ComputePipeline>>,
}

impl PipelineCache {
    /// The compute pipeline of kernel `name` (entry point `main`), compiling it once.
    pub fn get(&self, device: &wgpu::Device, name: &'static str) -> Result<wgpu::ComputePipeline> {
        let mut cache = self.pipelines.lock().map_err(|_| Error::Gpu("pipeline cache poisoned".into()))?;
        if let Some(p) = cache.get(name) {
            return Ok(p.clone());
        }
        let kernel = KERNELS
            .iter()
            .find(|k| k.name == name)
            .ok_or_else(|| Error::Gpu(format!("no kernel named {name}")))?;
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(name),
            source: wgpu::ShaderSource::Wgsl(kernel.source.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        cache.insert(name, pipeline.clone());
        Ok(pipeline)
    }
}
