//! Browser tests (wasm-bindgen-test in headless Chromium, `make test-browser`): the whole default
//! model on WebGPU (SwiftShader in CI) and on the wasm CPU path matches the PyTorch golden
//! output, and the `Engine` the npm package uses generates, draws and reads back the same.
//! A missing WebGPU adapter fails these tests; it never skips them. `webdriver.json` at the crate
//! root gives Chromium the flags that turn WebGPU on.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use webgan::gpu::{Gpu, Plan};
use webgan::web::Engine;
use wasm_bindgen::JsValue;
use webgan::{Model, Tensor, cpu, image};

wasm_bindgen_test_configure!(run_in_browser);

const MANIFEST: &str = include_str!("../www/models/faces64/model.json");
const WEIGHTS: &[u8] = include_bytes!("../www/models/faces64/weights.safetensors");
/// `[4, 100]` latents and the `[4, 3, 64, 64]` output of PyTorch with the weights rounded to f16
/// (what the safetensors file holds); see tests/fixtures/README.md.
const GOLDEN_Z: &[u8] = include_bytes!("fixtures/faces64_golden_z.npy");
const GOLDEN_OUT: &[u8] = include_bytes!("fixtures/faces64_golden_out_f16.npy");
const ATOL: f32 = 1e-3;

/// A little-endian float32, C-order `.npy` (format 1.0 or 2.0).
fn npy(bytes: &[u8]) -> Tensor {
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not a .npy file");
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
    };
    let header = std::str::from_utf8(&bytes[start..start + len]).expect("npy header is text");
    assert!(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"), "{header}");
    let dims = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).expect("npy shape");
    let shape: Vec<usize> = dims.split(',').filter_map(|d| d.trim().parse().ok()).collect();
    let data = bytemuck::pod_collect_to_vec::<u8, f32>(&bytes[start + len..]);
    Tensor::new(&shape, data).expect("npy size matches its shape")
}

/// Fails with the largest difference, where it is, and the first values.
fn assert_close(what: &str, got: &Tensor, want: &Tensor, atol: f32) {
    assert_eq!(got.shape, want.shape, "{what}: shapes differ");
    let (mut max, mut at) = (0f32, 0);
    for (i, (g, w)) in got.data.iter().zip(&want.data).enumerate() {
        let d = (g - w).abs();
        if !(d <= max) {
            (max, at) = (d, i);
        }
    }
    let hw = want.shape[2] * want.shape[3];
    let (n, c, y, x) = (at / (3 * hw), at / hw % 3, at % hw / want.shape[3], at % want.shape[3]);
    let msg = format!(
        "{what}: max |diff| {max:.2e} at [{n}, {c}, {y}, {x}] (got {}, want {}); first values got {:?}, want {:?}",
        got.data[at],
        want.data[at],
        &got.data[..4],
        &want.data[..4]
    );
    web_sys::console::log_1(&msg.clone().into());
    assert!(max <= atol, "{msg} exceeds {atol}");
}

fn golden() -> (Model, Tensor, Tensor) {
    let model = Model::from_parts(MANIFEST, WEIGHTS).expect("the faces64 model loads");
    (model, npy(GOLDEN_Z), npy(GOLDEN_OUT))
}

fn js_message(e: wasm_bindgen::JsError) -> String {
    let value: wasm_bindgen::JsValue = e.into();
    value.dyn_into::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|v| format!("{v:?}"))
}

#[wasm_bindgen_test]
async fn webgpu_matches_pytorch_golden() {
    let (model, z, want) = golden();
    let gpu = Gpu::new()
        .await
        .unwrap_or_else(|e| panic!("WebGPU must have an adapter here (Chromium needs --enable-unsafe-webgpu, see webdriver.json): {e}"));
    web_sys::console::log_1(&format!("adapter: {}", gpu.describe()).into());
    let plan = Plan::compile(&gpu, &model, 4).await.expect("the plan compiles");
    let got = plan.generate(&gpu, &z, None).await.expect("the plan runs");
    assert_close("WebGPU vs PyTorch", &got, &want, ATOL);
}

#[wasm_bindgen_test]
fn wasm_cpu_matches_pytorch_golden() {
    let (model, z, want) = golden();
    let got = cpu::forward(&model, &z, None).expect("the CPU reference runs");
    assert_close("wasm CPU vs PyTorch", &got, &want, ATOL);
}

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

fn canvas() -> web_sys::HtmlCanvasElement {
    let canvas: web_sys::HtmlCanvasElement =
        document().create_element("canvas").expect("a canvas").dyn_into().expect("an HtmlCanvasElement");
    document().body().expect("a body").append_child(&canvas).expect("canvas in the page");
    canvas
}

/// The engine the package (and so the page) uses, on WebGPU and on the CPU: drawing sizes the
/// canvas to grid × scale, and the grid read back from the drawn output is the grid the CPU
/// output makes (1 step of rounding apart at most).
#[wasm_bindgen_test]
async fn engine_draws_and_reads_back_the_grid() {
    let (model, z, _) = golden();
    let want_grid = image::grid(&cpu::forward(&model, &z, None).expect("cpu"), 2).expect("grid");
    for backend in ["webgpu", "cpu"] {
        let engine = Engine::create(MANIFEST.to_string(), WEIGHTS.to_vec(), backend.to_string())
            .await
            .unwrap_or_else(|e| panic!("{backend}: the engine must start: {}", js_message(e)));
        assert_eq!(engine.backend(), backend, "{}", engine.adapter());
        assert_eq!((engine.latent_dim(), engine.width(), engine.height(), engine.num_classes()), (100, 64, 64, 0));
        let output = engine.generate(z.data.clone(), 4, None).await.unwrap_or_else(|e| panic!("{}", js_message(e)));
        let canvas = canvas();
        output.draw(JsValue::from(canvas.clone()), 2, 3).await.unwrap_or_else(|e| panic!("{backend}: draw: {}", js_message(e)));
        assert_eq!((canvas.width(), canvas.height()), (130 * 3, 130 * 3), "{backend}: canvas = 2×2 grid with a 2 px gap, × 3");
        let pixels = output.grid_rgba(2).await.unwrap_or_else(|e| panic!("{}", js_message(e))).0;
        let worst = pixels.iter().zip(&want_grid.pixels).map(|(a, b)| a.abs_diff(*b)).max().unwrap_or(0);
        assert_eq!(pixels.len(), want_grid.pixels.len());
        assert!(worst <= 1, "{backend}: grid read back differs from the CPU grid by {worst} steps");
    }
}

#[wasm_bindgen_test]
fn latent_helpers_match_the_engine() {
    let z = Engine::latents(42.0, 3, 100).unwrap_or_else(|e| panic!("{}", js_message(e)));
    assert_eq!(z, webgan::latent::normal_latents(42, 3, 100).data);
    assert!(Engine::latents(-1.0, 1, 100).is_err() && Engine::latents(0.5, 1, 100).is_err());
    let (a, b) = (&z[..200], &z[100..300]);
    let mid = Engine::slerp(a, b, 0.5, 100).unwrap_or_else(|e| panic!("{}", js_message(e)));
    assert_eq!(mid[..100], webgan::latent::slerp(&a[..100], &b[..100], 0.5)[..]);
    assert_eq!(Engine::slerp(a, b, 0.0, 100).unwrap_or_else(|e| panic!("{}", js_message(e)))[..], a[..]);
    assert!(Engine::slerp(a, &b[..100], 0.5, 100).is_err());
}

/// faces64's manifest with `edit` applied to its layers (JSON text as the page would fetch it).
fn faces64_edited(edit: impl FnOnce(&mut Vec<serde_json::Value>)) -> String {
    let mut manifest: serde_json::Value = serde_json::from_str(MANIFEST).expect("faces64 manifest is JSON");
    let layers = manifest["layers"].as_array_mut().expect("layers");
    edit(layers);
    manifest.to_string()
}

/// usize is 32 bits on wasm32: sizes from a hostile manifest that wrap past 2^32 (a reshape of
/// 65536 × 65536 × 1 wraps to 0, a padding of u32::MAX) are errors here, never a panic nor a
/// wrong shape.
#[wasm_bindgen_test]
fn hostile_sizes_fail_cleanly_in_32_bits() {
    let cases: [(&str, Box<dyn FnOnce(&mut Vec<serde_json::Value>)>); 3] = [
        ("overflows", Box::new(|l| l[0]["shape"] = serde_json::json!([65536, 65536, 1]))),
        ("padding", Box::new(|l| l[1]["padding"] = serde_json::json!([u32::MAX, 0, 0, 0]))),
        ("padding", Box::new(|l| l[4]["padding"] = serde_json::json!([1, 1, u32::MAX, u32::MAX]))),
    ];
    for (want, edit) in cases {
        let json = faces64_edited(edit);
        let e = Model::from_parts(&json, WEIGHTS).expect_err("a hostile manifest must not load").to_string();
        assert!(e.contains(want), "expected an error about {want}, got: {e}");
    }
}

/// The engine behind the npm package, with no canvas: outputs match PyTorch on both backends,
/// an output stays valid after later calls on the same plan (its images are read back before
/// the plan runs again), and draws on an OffscreenCanvas.
#[wasm_bindgen_test]
async fn engine_outputs_stay_valid_and_draw_offscreen() {
    let (_, z, want) = golden();
    for backend in ["webgpu", "cpu"] {
        let engine = Engine::create(MANIFEST.to_string(), WEIGHTS.to_vec(), backend.to_string())
            .await
            .unwrap_or_else(|e| panic!("{backend}: the engine must start: {}", js_message(e)));
        assert_eq!(engine.backend(), backend, "{}", engine.adapter());
        let first = engine.generate(z.data.clone(), 4, None).await.unwrap_or_else(|e| panic!("{}", js_message(e)));
        let other = Engine::latents(9.0, 4, 100).unwrap_or_else(|e| panic!("{}", js_message(e)));
        let second = engine.generate(other, 4, None).await.unwrap_or_else(|e| panic!("{}", js_message(e)));
        let floats = first.floats().await.unwrap_or_else(|e| panic!("{}", js_message(e)));
        assert_close(&format!("Engine ({backend}), first of two calls"), &Tensor::new(&want.shape, floats).unwrap(), &want, ATOL);
        let later = second.floats().await.unwrap_or_else(|e| panic!("{}", js_message(e)));
        assert!(later != first.floats().await.unwrap_or_default(), "{backend}: the second call's images differ");
        assert_eq!((first.count(), first.width(), first.grid_width(2), first.grid_height(2)), (4, 64, 130, 130));
        let offscreen = web_sys::OffscreenCanvas::new(1, 1).expect("an OffscreenCanvas");
        first.draw(offscreen.clone().into(), 2, 2).await.unwrap_or_else(|e| panic!("{backend}: draw: {}", js_message(e)));
        assert_eq!((offscreen.width(), offscreen.height()), (260, 260), "{backend}: sized to the grid × 2");
        let tile = first.rgba(3).await.unwrap_or_else(|e| panic!("{}", js_message(e))).0;
        assert_eq!(tile.len(), 64 * 64 * 4);
    }
}
