//! The real ONNX fixture families on the GPU against onnxruntime.

use pollster::block_on;
use webgan::gpu::GraphPlan;
use webgan::model::Inputs;
use webgan::{Model, Tensor};

use crate::common::{self, assert_close};
use crate::gpus;

/// The five ONNX fixture families (tests/fixtures/onnx: PyTorch exports, onnxruntime outputs),
/// converted with f32 weights, on the GPU with both tunings against onnxruntime's `out.npy`.
#[test]
fn onnx_families_match_onnxruntime_on_the_gpu() {
    use std::path::{Path, PathBuf};
    use webgan::onnx::{self, Dtype, Options};
    let gpus = gpus();
    for family in ["dcgan64", "cyclegan", "pix2pix", "sngan", "progan"] {
        let dir = PathBuf::from(common::root("tests/fixtures/onnx")).join(family);
        let npy = |name: &str| dir.join(name).exists().then(|| common::read_npy(dir.join(name).to_str().unwrap()));
        let latents = npy("z.npy").map(|z| Tensor::new(&[z.batch(), z.len() / z.batch()], z.data).unwrap());
        let classes = dir.join("y.npy").exists().then(|| {
            let bytes = std::fs::read(dir.join("y.npy")).unwrap();
            npyz::NpyFile::new(&bytes[..]).unwrap().into_vec::<i64>().unwrap().into_iter().map(|v| v as u32).collect()
        });
        let inputs = Inputs { latents, classes, images: npy("x.npy") };
        let want = npy("out.npy").unwrap();
        let mut exports: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "onnx")).collect();
        exports.sort();
        for path in exports {
            let bytes = std::fs::read(&path).unwrap();
            let beside: &Path = path.parent().unwrap();
            let mut external = |name: &str| std::fs::read(beside.join(name)).map_err(|source| webgan::Error::Io { path: name.into(), source });
            let options = Options { dtype: Dtype::F32, name: family.into(), source: path.display().to_string() };
            let converted = onnx::import(&bytes, &mut external, &options).unwrap_or_else(|e| panic!("{family}: {e}"));
            let model = Model::from_parts(&converted.manifest_json, &converted.weights).unwrap();
            let what = format!("{family}/{}", path.file_name().unwrap().to_string_lossy());
            for gpu in &gpus {
                let plan = block_on(GraphPlan::compile(gpu, &model, want.batch())).unwrap_or_else(|e| panic!("{what}: {e}"));
                let got = block_on(plan.run(gpu, &inputs)).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_close(&format!("{what} gpu {:?}", gpu.tuning), &got, &want, 1e-4, 0.0);
                eprintln!("{what}: {} dispatches, activations {} of {} bytes unshared", plan.dispatches(),
                    plan.activation_bytes(), plan.unshared_activation_bytes());
            }
        }
    }
}
