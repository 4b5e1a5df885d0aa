//! Helpers shared by the native tests: building small models in memory, comparing tensors with
//! an llm.c-style report, reading .npy fixtures.
#![allow(dead_code)]

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use safetensors::tensor::{Dtype, TensorView};
use webgan::model::weights::sha256_hex;
use webgan::{Model, Tensor};

/// Deterministic uniform values in [-scale, scale].
pub fn random(seed: u64, n: usize, scale: f32) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Safetensors bytes holding `tensors` (name → (shape, f32 data)) as F32 or F16.
pub fn safetensors_bytes(tensors: &BTreeMap<String, (Vec<usize>, Vec<f32>)>, f16: bool) -> Vec<u8> {
    let raw: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, (shape, data))| {
            let bytes = if f16 {
                data.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect()
            } else {
                data.iter().flat_map(|v| v.to_le_bytes()).collect()
            };
            (name.clone(), shape.clone(), bytes)
        })
        .collect();
    let views: Vec<(String, TensorView)> = raw
        .iter()
        .map(|(name, shape, bytes)| {
            let dtype = if f16 { Dtype::F16 } else { Dtype::F32 };
            (name.clone(), TensorView::new(dtype, shape.clone(), bytes).expect("valid view"))
        })
        .collect();
    safetensors::serialize(views, None).expect("serialize")
}

/// A manifest JSON for `layers` with the weights' real size and hash filled in.
pub fn manifest_json(
    latent_dim: usize,
    num_classes: Option<usize>,
    output_shape: &[usize],
    layers: &serde_json::Value,
    weights: &[u8],
) -> String {
    serde_json::json!({
        "format": "webgan-model/1",
        "name": "test",
        "description": "a model built by a test",
        "license": "test data",
        "source": "tests/common",
        "latent_dim": latent_dim,
        "num_classes": num_classes,
        "output_shape": output_shape,
        "weights": {"file": "weights.safetensors", "bytes": weights.len(), "sha256": sha256_hex(weights), "dtype": "f32"},
        "layers": layers,
    })
    .to_string()
}

/// Builds a model from layers and tensors; the output shape is inferred by trying the
/// manifest with a placeholder and reading the error-free shape list.
pub fn build_model(
    latent_dim: usize,
    num_classes: Option<usize>,
    layers: serde_json::Value,
    tensors: &BTreeMap<String, (Vec<usize>, Vec<f32>)>,
) -> Model {
    let weights = safetensors_bytes(tensors, false);
    let probe = manifest_json(latent_dim, num_classes, &[1], &layers, &weights);
    let mut manifest = webgan::model::Manifest::parse(&probe).expect("manifest parses");
    let mut shape = webgan::model::shape::input_shape(&manifest);
    for layer in &manifest.layers {
        shape = webgan::model::shape::layer_output(layer, shape).expect("layer fits");
    }
    manifest.output_shape = shape.dims();
    let json = manifest_json(latent_dim, num_classes, &manifest.output_shape, &layers, &weights);
    Model::from_parts(&json, &weights).expect("model loads")
}

/// Asserts |a − b| ≤ atol + rtol·|b| everywhere; on failure reports the worst element.
pub fn assert_close(what: &str, actual: &Tensor, expected: &Tensor, atol: f32, rtol: f32) {
    assert_eq!(actual.shape, expected.shape, "{what}: shapes differ");
    let mut worst = (0usize, 0.0f32, 0.0f32);
    let mut bad = 0usize;
    for (i, (a, b)) in actual.data.iter().zip(&expected.data).enumerate() {
        let diff = (a - b).abs();
        if !(diff <= atol + rtol * b.abs()) {
            bad += 1;
        }
        if !(diff <= worst.1) {
            worst = (i, diff, *b);
        }
    }
    let max_diff = worst.1;
    eprintln!("{what}: max |diff| {max_diff:.3e} at {} (expected {})", worst.0, worst.2);
    assert!(
        bad == 0,
        "{what}: {bad} of {} values differ by more than {atol} + {rtol}·|ref|; worst {max_diff:.3e} at index {} \
         (got {}, expected {}); first values got {:?} expected {:?}",
        actual.len(),
        worst.0,
        actual.data[worst.0],
        worst.2,
        &actual.data[..actual.len().min(4)],
        &expected.data[..expected.len().min(4)],
    );
}

/// Reads a float32 .npy fixture.
pub fn read_npy(path: &str) -> Tensor {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let npy = npyz::NpyFile::new(&bytes[..]).expect("npy header");
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let data: Vec<f32> = npy.into_vec().expect("f32 data");
    Tensor::new(&shape, data).expect("shape matches")
}

/// Path of a file relative to the crate root.
pub fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}
