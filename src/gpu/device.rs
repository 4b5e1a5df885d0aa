//! Adapter and device acquisition with the adapter's real limits, plus the error and
//! device-lost hooks. Native and browser share everything but the backend choice.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::gpu::shaders::PipelineCache;
use crate::gpu::weight_cache::WeightCache;

/// Which tuning of the kernels suits the adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tuning {
    /// A real GPU: workgroup-shared tiles, 256 threads per workgroup.
    Gpu,
    /// A CPU emulator (lavapipe, SwiftShader): register blocks, no shared memory or barriers,
    /// because these emulators pay per element loaded, not per FLOP.
    Emulator,
}

/// A wgpu device with the facts webgan needs about it.
pub struct Gpu {
    /// Kept so callers can create surfaces (a canvas) compatible with the device.
    pub instance: wgpu::Instance,
    pub adapter: wgpu::Adapter,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub tuning: Tuning,
    pub pipelines: PipelineCache,
    pub weights: WeightCache,
    lost: Arc<Mutex<Option<String>>>,
    uncaptured: Arc<Mutex<Option<String>>>,
}

fn backends() -> wgpu::Backends {
    if cfg!(target_arch = "wasm32") { wgpu::Backends::BROWSER_WEBGPU } else { wgpu::Backends::VULKAN }
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends();
    wgpu::Instance::new(desc)
}

impl Gpu {
    /// Requests the high-performance adapter and a device with all of its limits.
    pub async fn new() -> Result<Self> {
        Self::with_tuning(None).await
    }

    /// As [`Gpu::new`], forcing a kernel tuning (tests use it to run both on one adapter).
    pub async fn with_tuning(tuning: Option<Tuning>) -> Result<Self> {
        let instance = instance();
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| Error::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("webgan"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::Device(e.to_string()))?;
        let lost = Arc::new(Mutex::new(None));
        let lost_hook = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut slot) = lost_hook.lock() {
                *slot = Some(format!("{reason:?}: {message}"));
            }
        });
        let uncaptured = Arc::new(Mutex::new(None));
        let uncaptured_hook = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            if let Ok(mut slot) = uncaptured_hook.lock() {
                slot.get_or_insert_with(|| error.to_string());
            }
        }));
        let emulated = info.device_type == wgpu::DeviceType::Cpu
            || ["llvmpipe", "swiftshader", "lavapipe"]
                .iter()
                .any(|n| info.name.to_ascii_lowercase().contains(n));
        let tuning = tuning.unwrap_or(if emulated { Tuning::Emulator } else { Tuning::Gpu });
        Ok(Gpu { instance, adapter, device, queue, info, limits, tuning, pipelines: PipelineCache::default(), weights: WeightCache::default(), lost, uncaptured })
    }

    /// True when a native Vulkan adapter exists (the CLI's default backend choice).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn native_adapter_available() -> bool {
        !pollster::block_on(instance().enumerate_adapters(backends())).is_empty()
    }

    /// True when this platform may have a GPU: a Vulkan adapter natively, `navigator.gpu` in a
    /// browser page or worker.
    pub fn available() -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        return Self::native_adapter_available();
        #[cfg(target_arch = "wasm32")]
        {
            let get = |o: &wasm_bindgen::JsValue, k: &str| js_sys::Reflect::get(o, &k.into()).unwrap_or_default();
            let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
            !gpu.is_undefined() && !gpu.is_null()
        }
    }

    /// Why [`Gpu::available`] is false, for users.
    pub fn unavailable_reason() -> &'static str {
        #[cfg(not(target_arch = "wasm32"))]
        return "no Vulkan adapter was found (install a Vulkan driver, e.g. mesa-vulkan-drivers)";
        #[cfg(target_arch = "wasm32")]
        {
            let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
            // Node 20 has no navigator at all; a browser without WebGPU has one without `gpu`.
            if navigator.is_undefined() {
                "this JavaScript runtime has no WebGPU (no navigator.gpu, as in Node)"
            } else {
                "this browser has no WebGPU (navigator.gpu is missing)"
            }
        }
    }

    /// One line about the adapter: name, backend, device type and tuning.
    pub fn describe(&self) -> String {
        format!(
            "{} ({:?}, {:?}, {} kernels)",
            if self.info.name.is_empty() { "unnamed adapter" } else { &self.info.name },
            self.info.backend,
            self.info.device_type,
            match self.tuning {
                Tuning::Gpu => "shared-memory tiled",
                Tuning::Emulator => "register-blocked",
            }
        )
    }

    /// Fails with [`Error::DeviceLost`] or the first uncaptured GPU error, if any happened.
    pub fn check(&self) -> Result<()> {
        if let Some(reason) = self.lost.lock().ok().and_then(|s| s.clone()) {
            return Err(Error::DeviceLost(reason));
        }
        if let Some(message) = self.uncaptured.lock().ok().and_then(|mut s| s.take()) {
            return Err(Error::Gpu(message));
        }
        Ok(())
    }

    /// True once the device has been lost.
    pub fn is_lost(&self) -> bool {
        self.lost.lock().map(|s| s.is_some()).unwrap_or(true)
    }
}
