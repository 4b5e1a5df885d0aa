//! Graph models in the browser (wasm-bindgen-test in headless Chromium, `make test-browser`):
//! the CycleGAN-style image-to-image generator and the SNGAN-style conditional one of
//! tests/fixtures/onnx are converted from ONNX inside wasm (as the page converts a dropped file)
//! and run on WebGPU and on the wasm CPU path, matching onnxruntime's outputs to 1e-4.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;
use webgan::gpu::{Gpu, GraphPlan};
use webgan::model::Inputs;
use webgan::onnx::{self, Dtype, Options};
use webgan::{Model, Tensor, cpu};

wasm_bindgen_test_configure!(run_in_browser);

const CYCLEGAN: &[u8] = include_bytes!("fixtures/onnx/cyclegan/model_dynamo.onnx");
const CYCLEGAN_DATA: &[u8] = include_bytes!("fixtures/onnx/cyclegan/model_dynamo.onnx.data");
const CYCLEGAN_X: &[u8] = include_bytes!("fixtures/onnx/cyclegan/x.npy");
const CYCLEGAN_OUT: &[u8] = include_bytes!("fixtures/onnx/cyclegan/out.npy");
const SNGAN: &[u8] = include_bytes!("fixtures/onnx/sngan/model.onnx");
const SNGAN_Z: &[u8] = include_bytes!("fixtures/onnx/sngan/z.npy");
const SNGAN_Y: &[u8] = include_bytes!("fixtures/onnx/sngan/y.npy");
const SNGAN_OUT: &[u8] = include_bytes!("fixtures/onnx/sngan/out.npy");

/// The header text and data of a C-order `.npy` (format 1.0).
fn npy_parts(bytes: &[u8]) -> (Vec<usize>, &str, &[u8]) {
    assert_eq!(&bytes[..6], b"\x93NUMPY", "not a .npy file");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + len]).expect("npy header is text");
    let dims = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).expect("npy shape");
    (dims.split(',').filter_map(|d| d.trim().parse().ok()).collect(), header, &bytes[10 + len..])
}

fn f32_npy(bytes: &[u8]) -> Tensor {
    let (shape, header, data) = npy_parts(bytes);
    assert!(header.contains("'<f4'"), "{header}");
    Tensor::new(&shape, bytemuck::pod_collect_to_vec::<u8, f32>(data)).expect("size matches")
}

fn ids_npy(bytes: &[u8]) -> Vec<u32> {
    let (_, header, data) = npy_parts(bytes);
    assert!(header.contains("'<i8'"), "{header}");
    bytemuck::pod_collect_to_vec::<u8, i64>(data).into_iter().map(|v| v as u32).collect()
}

fn convert(model: &[u8], data: Option<&[u8]>) -> Model {
    let mut external = |name: &str| match data {
        Some(bytes) => Ok(bytes.to_vec()),
        None => Err(webgan::Error::Input(format!("no external file {name} in this test"))),
    };
    let options = Options { dtype: Dtype::F32, name: "fixture".into(), source: "test".into() };
    let converted = onnx::import(model, &mut external, &options).expect("converts in wasm");
    Model::from_parts(&converted.manifest_json, &converted.weights).expect("loads")
}

fn max_diff(got: &Tensor, want: &Tensor) -> f32 {
    assert_eq!(got.shape, want.shape);
    got.data.iter().zip(&want.data).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max)
}

async fn check(what: &str, model: &Model, inputs: &Inputs, want: &Tensor) {
    let gpu = Gpu::new().await.unwrap_or_else(|e| panic!("WebGPU must have an adapter here (see webdriver.json): {e}"));
    let plan = GraphPlan::compile(&gpu, model, want.batch()).await.expect("the graph plan compiles");
    let got = plan.run(&gpu, inputs).await.expect("runs on WebGPU");
    let gpu_diff = max_diff(&got, want);
    let cpu_diff = max_diff(&cpu::run(model, inputs).expect("runs on the wasm CPU path"), want);
    let msg = format!("{what}: max |diff| to onnxruntime: WebGPU {gpu_diff:.2e}, wasm CPU {cpu_diff:.2e} ({})", gpu.describe());
    web_sys::console::log_1(&msg.clone().into());
    assert!(gpu_diff <= 1e-4 && cpu_diff <= 1e-4, "{msg}");
}

#[wasm_bindgen_test]
async fn cyclegan_image_to_image_matches_onnxruntime_on_webgpu() {
    let model = convert(CYCLEGAN, Some(CYCLEGAN_DATA));
    let inputs = Inputs { images: Some(f32_npy(CYCLEGAN_X)), ..Default::default() };
    check("cyclegan", &model, &inputs, &f32_npy(CYCLEGAN_OUT)).await;
}

#[wasm_bindgen_test]
async fn sngan_conditional_matches_onnxruntime_on_webgpu() {
    let model = convert(SNGAN, None);
    let z = f32_npy(SNGAN_Z);
    let inputs = Inputs::latents(z, Some(ids_npy(SNGAN_Y)));
    check("sngan", &model, &inputs, &f32_npy(SNGAN_OUT)).await;
}
