//! The models webgan trained itself (tools/train_digits.py, tools/train_emoji.py) against
//! PyTorch's own output for fixed inputs, computed in float64 on the same weights
//! (tests/fixtures/digits_golden_*, emoji56_golden_*). digits is also the small, fast
//! conditional model of the test suite: its f32 copy lives in tests/fixtures/digits.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, read_npy, root};
use webgan::gpu::{Gpu, Plan, Tuning};
use webgan::{Model, Tensor, cpu};

fn load(dir: &str) -> Model {
    Model::load_dir(root(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"))
}

fn digits_inputs() -> (Tensor, Vec<u32>) {
    let z = read_npy(&root("tests/fixtures/digits_golden_z.npy"));
    let bytes = std::fs::read(root("tests/fixtures/digits_golden_classes.npy")).unwrap();
    let classes: Vec<i64> = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec().unwrap();
    (z, classes.into_iter().map(|k| k as u32).collect())
}

fn gpu_run(model: &Model, z: &Tensor, classes: Option<&[u32]>, tuning: Tuning) -> Tensor {
    let gpu = pollster::block_on(Gpu::with_tuning(Some(tuning))).expect("a GPU adapter (CI installs lavapipe)");
    let plan = pollster::block_on(Plan::compile(&gpu, model, z.batch())).unwrap();
    pollster::block_on(plan.generate(&gpu, z, classes)).unwrap()
}

#[test]
fn digits_cpu_matches_pytorch() {
    let (z, classes) = digits_inputs();
    let f32_out = cpu::forward(&load("tests/fixtures/digits"), &z, Some(&classes)).unwrap();
    assert_close("digits f32 cpu", &f32_out, &read_npy(&root("tests/fixtures/digits_golden_out.npy")), 1e-4, 0.0);
    let f16_out = cpu::forward(&load("www/models/digits"), &z, Some(&classes)).unwrap();
    assert_close("digits f16 cpu", &f16_out, &read_npy(&root("tests/fixtures/digits_golden_out_f16.npy")), 1e-4, 0.0);
}

#[test]
fn digits_gpu_matches_pytorch() {
    let (z, classes) = digits_inputs();
    let model = load("tests/fixtures/digits");
    let want = read_npy(&root("tests/fixtures/digits_golden_out.npy"));
    for tuning in [Tuning::Gpu, Tuning::Emulator] {
        let out = gpu_run(&model, &z, Some(&classes), tuning);
        assert_close(&format!("digits gpu {tuning:?}"), &out, &want, 1e-3, 0.0);
    }
}

#[test]
fn emoji56_matches_pytorch() {
    let model = load("www/models/emoji56");
    let z = read_npy(&root("tests/fixtures/emoji56_golden_z.npy"));
    let want = read_npy(&root("tests/fixtures/emoji56_golden_out_f16.npy"));
    let out = cpu::forward(&model, &z, None).unwrap();
    assert_close("emoji56 cpu", &out, &want, 1e-4, 0.0);
    for tuning in [Tuning::Gpu, Tuning::Emulator] {
        let out = gpu_run(&model, &z, None, tuning);
        assert_close(&format!("emoji56 gpu {tuning:?}"), &out, &want, 1e-3, 0.0);
    }
}
