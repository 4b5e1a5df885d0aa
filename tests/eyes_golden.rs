//! eyes128 (omniart-eye-generator 0.1, class-conditional 128×128) against PyTorch's own output:
//! tests/fixtures/eyes128_golden_* were made by tools/make_golden_eyes.py with the package's
//! own Generator class and the original CUDA-saved checkpoint, not with our converter. The
//! model folders are derived from the PyPI wheel by `make models` (tools/make_models.sh).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, read_npy, root};
use webgan::gpu::{Gpu, Plan, Tuning};
use webgan::{Model, Tensor, cpu};

const F32_MODEL: &str = "build/models/eyes128-f32";
const F16_MODEL: &str = "www/models/eyes128";

fn load(dir: &str) -> Model {
    Model::load_dir(root(dir)).unwrap_or_else(|e| {
        panic!("{e}\neyes128 is derived from the PyPI wheel: run `make models` (make test does).")
    })
}

fn inputs() -> (Tensor, Vec<u32>) {
    let z = read_npy(&root("tests/fixtures/eyes128_golden_z.npy"));
    let bytes = std::fs::read(root("tests/fixtures/eyes128_golden_classes.npy")).unwrap();
    let classes: Vec<i64> = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap();
    (z, classes.into_iter().map(|k| k as u32).collect())
}

#[test]
fn cpu_f32_matches_pytorch() {
    let (z, classes) = inputs();
    let out = cpu::forward(&load(F32_MODEL), &z, Some(&classes)).unwrap();
    assert_close("eyes128 cpu f32", &out, &read_npy(&root("tests/fixtures/eyes128_golden_out.npy")), 1e-4, 0.0);
}

/// The f16 folder holds PyTorch's parameters rounded to f16; against PyTorch run with the same
/// rounding only f32 arithmetic differs.
#[test]
fn cpu_f16_matches_pytorch_with_rounded_weights() {
    let (z, classes) = inputs();
    let out = cpu::forward(&load(F16_MODEL), &z, Some(&classes)).unwrap();
    assert_close("eyes128 cpu f16", &out, &read_npy(&root("tests/fixtures/eyes128_golden_out_f16.npy")), 1e-4, 0.0);
}

#[test]
fn gpu_matches_pytorch() {
    let (z, classes) = inputs();
    let model = load(F32_MODEL);
    let want = read_npy(&root("tests/fixtures/eyes128_golden_out.npy"));
    for tuning in [Tuning::Gpu, Tuning::Emulator] {
        let gpu = pollster::block_on(Gpu::with_tuning(Some(tuning))).expect("a GPU adapter (CI installs lavapipe)");
        let plan = pollster::block_on(Plan::compile(&gpu, &model, z.batch())).unwrap();
        let out = pollster::block_on(plan.generate(&gpu, &z, Some(&classes))).unwrap();
        assert_close(&format!("eyes128 gpu {tuning:?}"), &out, &want, 1e-3, 0.0);
    }
}

/// The class changes the image: the same latent under two classes differs clearly.
#[test]
fn class_conditions_the_output() {
    let (z, _) = inputs();
    let model = load(F16_MODEL);
    let one = Tensor::new(&[1, 100], z.data[..100].to_vec()).unwrap();
    let a = cpu::forward(&model, &one, Some(&[1])).unwrap(); // blue
    let b = cpu::forward(&model, &one, Some(&[7])).unwrap(); // red
    let mean_abs: f32 = a.data.iter().zip(&b.data).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.len() as f32;
    assert!(mean_abs > 0.05, "classes 1 and 7 differ by only {mean_abs} on average");
}
