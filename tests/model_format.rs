//! Bad model folders get clear errors, checked before anything is allocated.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use common::{manifest_json, root, safetensors_bytes};
use webgan::{Error, Model};

fn faces64() -> (String, Vec<u8>) {
    let dir = root("www/models/faces64");
    (
        std::fs::read_to_string(format!("{dir}/model.json")).unwrap(),
        std::fs::read(format!("{dir}/weights.safetensors")).unwrap(),
    )
}

fn err(json: &str, weights: &[u8]) -> String {
    match Model::from_parts(json, weights) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn default_model_loads() {
    let model = Model::load_dir(root("www/models/faces64")).expect("faces64 loads");
    assert_eq!(model.manifest.output_shape, vec![3, 64, 64]);
    // 0.21 GFLOP per image, as the GPU issue says.
    let gflop = 2.0 * model.macs_per_sample() as f64 / 1e9;
    assert!((gflop - 0.21).abs() < 0.01, "{gflop}");
}

#[test]
fn truncated_weights() {
    let (json, weights) = faces64();
    let e = err(&json, &weights[..weights.len() / 2]);
    assert!(e.contains("truncated") && e.contains("7158984"), "{e}");
}

#[test]
fn corrupted_weights_fail_the_hash() {
    let (json, mut weights) = faces64();
    let last = weights.len() - 1;
    weights[last] ^= 0x40;
    let e = err(&json, &weights);
    assert!(e.contains("SHA-256") && e.contains("Download it again"), "{e}");
}

#[test]
fn missing_model_folder() {
    let e = Model::load_dir("/nonexistent/model").unwrap_err().to_string();
    assert!(e.contains("/nonexistent/model/model.json"), "{e}");
}

fn tiny(layers: serde_json::Value, tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>, out: &[usize]) -> String {
    let weights = safetensors_bytes(&tensors, false);
    let json = manifest_json(4, None, out, &layers, &weights);
    err(&json, &weights)
}

#[test]
fn unknown_op_names_the_layer() {
    let e = tiny(serde_json::json!([{"op": "linear", "in_features": 4, "out_features": 2, "weight": "w", "bias": null},
                                    {"op": "softmax2d"}]),
                 BTreeMap::from([("w".into(), (vec![2, 4], vec![0.0; 8]))]), &[2]);
    assert!(e.contains("layer 1") && e.contains("unsupported op `softmax2d`") && e.contains("conv_transpose2d"), "{e}");
}

#[test]
fn wrong_tensor_shape_names_the_tensor() {
    let e = tiny(serde_json::json!([{"op": "linear", "in_features": 4, "out_features": 2, "weight": "w", "bias": null}]),
                 BTreeMap::from([("w".into(), (vec![4, 2], vec![0.0; 8]))]), &[2]);
    assert!(e.contains("tensor `w` has shape [4, 2]") && e.contains("[2, 4]"), "{e}");
}

#[test]
fn missing_tensor_is_named() {
    let e = tiny(serde_json::json!([{"op": "linear", "in_features": 4, "out_features": 2, "weight": "w", "bias": "b"}]),
                 BTreeMap::from([("w".into(), (vec![2, 4], vec![0.0; 8]))]), &[2]);
    assert!(e.contains("tensor `b` is missing"), "{e}");
}

#[test]
fn layer_that_does_not_fit_its_input() {
    let e = tiny(serde_json::json!([{"op": "linear", "in_features": 5, "out_features": 2, "weight": "w", "bias": null}]),
                 BTreeMap::from([("w".into(), (vec![2, 5], vec![0.0; 10]))]), &[2]);
    assert!(e.contains("layer 0 (linear)") && e.contains("in_features is 5 but the input has 4"), "{e}");
    let e = tiny(serde_json::json!([{"op": "conv2d", "in_channels": 4, "out_channels": 1, "kernel": [3, 3], "stride": [1, 1],
                                     "padding": [0, 0, 0, 0], "weight": "w", "bias": null}]),
                 BTreeMap::from([("w".into(), (vec![1, 4, 3, 3], vec![0.0; 36]))]), &[1]);
    assert!(e.contains("needs an image input"), "{e}");
}

#[test]
fn absurd_sizes_are_refused_before_allocation() {
    // A reshape/upsample chain that would need terabytes per sample.
    let e = tiny(serde_json::json!([{"op": "reshape", "shape": [4, 1, 1], "order": "channels_first"},
                                    {"op": "upsample", "scale": [64, 64]},
                                    {"op": "upsample", "scale": [64, 64]},
                                    {"op": "upsample", "scale": [64, 64]}]),
                 BTreeMap::new(), &[4, 262144, 262144]);
    assert!(e.contains("elements per sample"), "{e}");
    let e = tiny(serde_json::json!([{"op": "reshape", "shape": [4, 1, 1], "order": "channels_first"},
                                    {"op": "conv_transpose2d", "in_channels": 4, "out_channels": 1, "kernel": [1000, 1000],
                                     "stride": [1, 1], "padding": [0, 0, 0, 0], "output_padding": [0, 0], "weight": "w", "bias": null}]),
                 BTreeMap::new(), &[1]);
    assert!(e.contains("kernel [1000, 1000]"), "{e}");
}

#[test]
fn output_shape_must_match() {
    let e = tiny(serde_json::json!([{"op": "relu"}]), BTreeMap::new(), &[3, 64, 64]);
    assert!(e.contains("produce shape [4]") && e.contains("[3, 64, 64]"), "{e}");
}

#[test]
fn unsupported_dtype_and_garbage_file() {
    let layers = serde_json::json!([{"op": "linear", "in_features": 4, "out_features": 2, "weight": "w", "bias": null}]);
    // An int32 tensor.
    let data: Vec<u8> = vec![0; 32];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::I32, vec![2, 4], &data).unwrap();
    let weights = safetensors::serialize([("w".to_string(), view)], None).unwrap();
    let json = manifest_json(4, None, &[2], &layers, &weights);
    let e = err(&json, &weights);
    assert!(e.contains("dtype I32"), "{e}");
    // Not a safetensors file at all, but with a matching size and hash.
    let garbage = b"this is not a safetensors file".to_vec();
    let json = manifest_json(4, None, &[2], &layers, &garbage);
    let e = err(&json, &garbage);
    assert!(e.contains("not a valid safetensors file"), "{e}");
}

#[test]
fn nan_weights_are_refused() {
    let e = tiny(serde_json::json!([{"op": "linear", "in_features": 4, "out_features": 2, "weight": "w", "bias": null}]),
                 BTreeMap::from([("w".into(), (vec![2, 4], vec![f32::NAN; 8]))]), &[2]);
    assert!(e.contains("non-finite"), "{e}");
}

#[test]
fn malformed_manifest() {
    let e = Model::from_parts("{not json", &[]).unwrap_err();
    assert!(matches!(e, Error::Manifest(_)), "{e}");
    let (json, weights) = faces64();
    let e = err(&json.replace("webgan-model/1", "webgan-model/9"), &weights);
    assert!(e.contains("format is `webgan-model/9`"), "{e}");
    let e = err(&json.replace("\"latent_dim\": 100", "\"latent_dim\": 0"), &weights);
    assert!(e.contains("latent_dim is 0"), "{e}");
}
