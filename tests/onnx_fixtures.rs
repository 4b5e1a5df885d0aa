//! The five generator families of tests/fixtures/onnx (made once with PyTorch, exported with
//! both torch exporters, run by onnxruntime: tools/make_onnx_fixtures.py) convert from ONNX and
//! reproduce onnxruntime's outputs to 1e-4 with f32 weights: on the CPU reference in memory,
//! and through the command line (`webgan convert`, then `webgan generate`) on the CPU and the GPU
//! (tests/gpu_graph.rs checks every family on both GPU kernel tunings).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_close, read_npy, root};
use webgan::model::Inputs;
use webgan::onnx::{self, Dtype, Options};
use webgan::{Model, Tensor, cpu};

const FAMILIES: &[&str] = &["dcgan64", "cyclegan", "pix2pix", "sngan", "progan"];

fn dir(family: &str) -> PathBuf {
    PathBuf::from(root("tests/fixtures/onnx")).join(family)
}

/// Every ONNX export of a family (model.onnx, model_dynamo.onnx, model_opset13.onnx).
fn exports(family: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir(family))
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{family} has no .onnx export");
    files
}

fn convert(path: &Path, dtype: Dtype) -> webgan::Result<Model> {
    let bytes = std::fs::read(path).expect("read .onnx");
    let beside = path.parent().expect("folder").to_path_buf();
    let mut external = |name: &str| {
        std::fs::read(beside.join(name)).map_err(|source| webgan::Error::Io { path: name.to_string(), source })
    };
    let options = Options { dtype, name: "fixture".into(), source: path.display().to_string() };
    let converted = onnx::import(&bytes, &mut external, &options)?;
    Model::from_parts(&converted.manifest_json, &converted.weights)
}

fn read_classes(path: &Path) -> Vec<u32> {
    let bytes = std::fs::read(path).expect("read y.npy");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("npy");
    npy.into_vec::<i64>().expect("int64 ids").into_iter().map(|v| v as u32).collect()
}

/// The family's inputs as onnxruntime got them (latents flattened to [N, Z]).
fn inputs(family: &str) -> Inputs {
    let d = dir(family);
    let latents = d.join("z.npy").exists().then(|| {
        let z = read_npy(d.join("z.npy").to_str().unwrap());
        let n = z.batch();
        Tensor::new(&[n, z.len() / n], z.data).unwrap()
    });
    let classes = d.join("y.npy").exists().then(|| read_classes(&d.join("y.npy")));
    let images = d.join("x.npy").exists().then(|| read_npy(d.join("x.npy").to_str().unwrap()));
    Inputs { latents, classes, images }
}

#[test]
fn every_family_matches_onnxruntime_on_the_cpu() {
    for family in FAMILIES {
        let want = read_npy(dir(family).join("out.npy").to_str().unwrap());
        let request = inputs(family);
        for path in exports(family) {
            let what = format!("{family}/{}", path.file_name().unwrap().to_string_lossy());
            let model = convert(&path, Dtype::F32).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(model.is_graph());
            let got = cpu::run(&model, &request).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_close(&format!("{what} f32, cpu"), &got, &want, 1e-4, 0.0);
        }
        // f16 weights: the same graph, rounded weights.
        let model = convert(&dir(family).join("model.onnx"), Dtype::F16).expect("f16 converts");
        assert_close(&format!("{family} f16, cpu"), &cpu::run(&model, &request).unwrap(), &want, 3e-2, 0.0);
    }
}

#[test]
fn bad_onnx_files_fail_with_one_line() {
    let bad = dir("bad");
    let err = convert(&bad.join("unsupported_op.onnx"), Dtype::F32).unwrap_err().to_string();
    assert!(err.contains("CumSum") && err.contains("Conv") && !err.contains('\n'), "{err}");
    let err = convert(&bad.join("external_missing.onnx"), Dtype::F32).unwrap_err().to_string();
    assert!(err.contains("external_missing.onnx.data") && err.contains("missing") && !err.contains('\n'), "{err}");
}

/// `webgan convert X.onnx DIR --dtype f32` then `webgan generate --model DIR … --backend
/// cpu|gpu` on the command line, for every family (the CycleGAN through its external-data export).
#[test]
fn the_command_line_converts_and_generates() {
    let bin = env!("CARGO_BIN_EXE_webgan");
    let scratch = tempfile::tempdir().expect("temp dir");
    for family in FAMILIES {
        let export = if *family == "cyclegan" { "model_dynamo.onnx" } else { "model.onnx" };
        let d = dir(family);
        let out_dir = scratch.path().join(family);
        let status = Command::new(bin)
            .args(["convert", d.join(export).to_str().unwrap(), out_dir.to_str().unwrap(), "--dtype", "f32"])
            .status()
            .expect("run webgan convert");
        assert!(status.success(), "{family}: webgan convert failed");
        let want = read_npy(d.join("out.npy").to_str().unwrap());
        for backend in ["cpu", "gpu"] {
            let out = scratch.path().join(format!("{family}-{backend}.npy"));
            let mut generate = Command::new(bin);
            generate.args(["generate", "--model", out_dir.to_str().unwrap(), "--backend", backend]);
            generate.args(["--out", out.to_str().unwrap()]);
            for (flag, file) in [("--latents", "z.npy"), ("--classes", "y.npy"), ("--input", "x.npy")] {
                if d.join(file).exists() {
                    generate.args([flag, d.join(file).to_str().unwrap()]);
                }
            }
            let result = generate.output().expect("run webgan generate");
            assert!(result.status.success(), "{family} {backend}: {}", String::from_utf8_lossy(&result.stderr));
            assert_close(&format!("{family} via the CLI, {backend}"), &read_npy(out.to_str().unwrap()), &want, 1e-4, 0.0);
        }
    }
}
