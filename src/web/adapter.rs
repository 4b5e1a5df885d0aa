//! What the page says about the backend: the browser's own `GPUAdapterInfo` (wgpu does not map
//! vendor and architecture on the web) and one line naming the adapter or why the CPU runs.

use wasm_bindgen::{JsCast, JsValue};

use crate::gpu::{Gpu, Tuning};

fn get(o: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// "vendor …, architecture …, fallback adapter" from `navigator.gpu.requestAdapter()`, or ""
/// when the browser gives none. Works in pages and workers.
pub async fn facts() -> String {
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<js_sys::Function>() else { return String::new() };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"powerPreference".into(), &"high-performance".into());
    let Ok(promise) = request.call1(&gpu, &options).and_then(|p| p.dyn_into::<js_sys::Promise>()) else {
        return String::new();
    };
    let Ok(adapter) = wasm_bindgen_futures::JsFuture::from(promise).await else { return String::new() };
    if adapter.is_null() || adapter.is_undefined() {
        return String::new();
    }
    let info = get(&adapter, "info");
    let mut parts = Vec::new();
    for key in ["vendor", "architecture"] {
        if let Some(v) = get(&info, key).as_string().filter(|v| !v.is_empty()) {
            parts.push(format!("{key} {v}"));
        }
    }
    if get(&info, "isFallbackAdapter").as_bool() == Some(true) {
        parts.push("fallback adapter".into());
    }
    parts.join(", ")
}

/// `WebGPU: <name>, <facts> (<kernel tuning>)`.
pub fn describe(gpu: &Gpu, facts: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !gpu.info.name.is_empty() {
        parts.push(&gpu.info.name);
    }
    if !facts.is_empty() {
        parts.push(facts);
    }
    let tuning = match gpu.tuning {
        Tuning::Gpu => "shared-memory tiled kernels",
        Tuning::Emulator => "register-blocked kernels for a CPU emulator",
    };
    let adapter = if parts.is_empty() { "adapter without a name".to_string() } else { parts.join(", ") };
    format!("WebGPU: {adapter} ({tuning})")
}
