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

kernels!("gemm_tiled", "gemm_registers", "affine", "upsample", "reshape", "concat_one_hot");

macro_rules! graph_kernels {
    ($($name:literal),* $(,)?) => {
        /// The kernels of graph-only ops (`shaders/graph/`, run by [`crate::gpu::graph`]).
        pub const GRAPH_KERNELS: &[Kernel] = &[
            $(Kernel { name: $name, source: include_str!(concat!("../../shaders/graph/", $name, ".wgsl")) }),*
        ];
    };
}

graph_kernels!(
    "unary", "prelu", "binary", "concat", "norm", "pixel_norm", "reduce_mean", "pad", "resize", "avg_pool2d",
    "embedding",
);

/// The kernel's source. Natively, `WEBGAN_SHADER_DIR=dir` reads `dir/<name>.wgsl` instead, so
/// kernels can be tuned and benchmarked without rebuilding.
fn source(kernel: &Kernel) -> std::borrow::Cow<'static, str> {
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(dir) = std::env::var_os("WEBGAN_SHADER_DIR") {
        let path = std::path::Path::new(&dir).join(format!("{}.wgsl", kernel.name));
        if let Ok(text) = std::fs::read_to_string(&path) {
            return text.into();
        }
    }
    kernel.source.into()
}

/// Compiled shader modules and pipelines of one device, created on first use.
#[derive(Default)]
pub struct PipelineCache {
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<(&'static str, &'static str), wgpu::ComputePipeline>>,
}

impl PipelineCache {
    /// The compute pipeline of kernel `name` at entry point `entry`, compiling it once.
    pub fn get(&self, device: &wgpu::Device, name: &'static str, entry: &'static str) -> Result<wgpu::ComputePipeline> {
        let poisoned = || Error::Gpu("pipeline cache poisoned".into());
        let mut pipelines = self.pipelines.lock().map_err(|_| poisoned())?;
        if let Some(p) = pipelines.get(&(name, entry)) {
            return Ok(p.clone());
        }
        let module = {
            let mut modules = self.modules.lock().map_err(|_| poisoned())?;
            match modules.get(name) {
                Some(m) => m.clone(),
                None => {
                    let kernel = KERNELS
                        .iter()
                        .chain(GRAPH_KERNELS)
                        .find(|k| k.name == name)
                        .ok_or_else(|| Error::Gpu(format!("no kernel named {name}")))?;
                    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(name),
                        source: wgpu::ShaderSource::Wgsl(source(kernel).into()),
                    });
                    modules.insert(name, module.clone());
                    module
                }
            }
        };
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&format!("{name}::{entry}")),
            layout: None,
            module: &module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        pipelines.insert((name, entry), pipeline.clone());
        Ok(pipeline)
    }
}
