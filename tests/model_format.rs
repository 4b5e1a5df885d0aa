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

#[test]
fn every_layer_rejects_unknown_fields() {
    for op in ["relu", "tanh", "sigmoid"] {
        let e = tiny(serde_json::json!([{"op": op, "slope": 0.2}]), BTreeMap::new(), &[4]);
        assert!(e.contains("layer 0") && e.contains("unknown field `slope`"), "{op}: {e}");
    }
    let e = tiny(serde_json::json!([{"op": "leaky_relu", "slope": 0.2, "alpha": 0.1}]), BTreeMap::new(), &[4]);
    assert!(e.contains("unknown field `alpha`"), "{e}");
}

#[test]
fn duplicate_keys_are_refused() {
    let (json, weights) = faces64();
    let e = err(&json.replace("\"latent_dim\": 100,", "\"latent_dim\": 100, \"latent_dim\": 7,"), &weights);
    assert!(e.contains("duplicate key `latent_dim`"), "{e}");
    let e = err(&json.replacen("{\"op\": \"relu\"}", "{\"op\": \"relu\", \"op\": \"tanh\"}", 1), &weights);
    assert!(e.contains("duplicate key `op`"), "{e}");
}

fn batch_norm_model(eps: f32, var: f32) -> String {
    let tensors = BTreeMap::from([("m".into(), (vec![4], vec![0.0; 4])), ("v".into(), (vec![4], vec![1.0, var, 1.0, 1.0]))]);
    tiny(serde_json::json!([{"op": "batch_norm", "channels": 4, "eps": eps, "weight": null, "bias": null,
                             "running_mean": "m", "running_var": "v"}]), tensors, &[4])
}

#[test]
fn batch_norm_needs_positive_eps_and_a_non_negative_variance() {
    // Folding divides by sqrt(var + eps): eps = 0 with a zero variance made CPU and GPU disagree.
    let e = batch_norm_model(0.0, 0.0);
    assert!(e.contains("eps must be a finite positive number, not 0"), "{e}");
    let e = batch_norm_model(1e-5, -2.0);
    assert!(e.contains("running_var `v` holds -2") && e.contains("cannot be negative"), "{e}");
}

#[test]
fn sizes_that_overflow_are_errors() {
    // 2^32 · 2^32 · 2 wraps to 0 in 64 bits; 4 (the input) is what a wrapped product could equal.
    let e = tiny(serde_json::json!([{"op": "reshape", "shape": [4294967296u64, 4294967296u64, 4], "order": "channels_first"}]),
                 BTreeMap::new(), &[4]);
    assert!(e.contains("layer 0 (reshape)") && e.contains("overflows"), "{e}");
    let conv = |padding: serde_json::Value| {
        tiny(serde_json::json!([{"op": "reshape", "shape": [4, 1, 1], "order": "channels_first"},
                                {"op": "conv2d", "in_channels": 4, "out_channels": 1, "kernel": [1, 1], "stride": [1, 1],
                                 "padding": padding, "weight": "w", "bias": null}]),
             BTreeMap::from([("w".into(), (vec![1, 4, 1, 1], vec![0.0; 4]))]), &[1, 1, 1])
    };
    let e = conv(serde_json::json!([u64::MAX, 0, 0, 0]));
    assert!(e.contains("layer 1 (conv2d)"), "{e}");
    let e = conv(serde_json::json!([usize::MAX, usize::MAX, 0, 0]));
    assert!(e.contains("padding") && e.contains("at most 1024"), "{e}");
}

#[test]
fn too_many_layers_and_too_large_manifests() {
    let layers: Vec<serde_json::Value> = (0..1001).map(|_| serde_json::json!({"op": "relu"})).collect();
    let e = tiny(serde_json::Value::Array(layers), BTreeMap::new(), &[4]);
    assert!(e.contains("more than 1000 entries") && e.contains("`layers`"), "{e}");
    let (json, weights) = faces64();
    let padded = json.replacen("\"description\": \"", &format!("\"description\": \"{}", " ".repeat(4 << 20)), 1);
    let e = err(&padded, &weights);
    assert!(e.contains("webgan reads manifests of at most 4194304"), "{e}");
}

#[test]
fn weights_file_must_be_a_plain_name_of_a_sane_size() {
    let (json, weights) = faces64();
    for name in ["../weights.safetensors", "/etc/passwd", ".hidden", "a\\\\b", ""] {
        let e = err(&json.replace("\"file\": \"weights.safetensors\"", &format!("\"file\": \"{name}\"")), &weights);
        assert!(e.contains("must be a plain file name"), "{name}: {e}");
    }
    let e = err(&json.replace("\"bytes\": 7158984", "\"bytes\": 1099511627776"), &weights);
    assert!(e.contains("weights.bytes is 1099511627776"), "{e}");
}

#[test]
fn load_dir_reads_only_regular_files_of_the_promised_size() {
    let dir = std::env::temp_dir().join(format!("webgan-model-format-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (json, _) = faces64();
    std::fs::write(dir.join("model.json"), &json).unwrap();
    // Weights that are a device: refused without reading (a /dev/zero read never ends).
    let weights = dir.join("weights.safetensors");
    std::os::unix::fs::symlink("/dev/zero", &weights).unwrap();
    let e = Model::load_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("is not a regular file"), "{e}");
    // A sparse file of the wrong size: refused from its length alone.
    std::fs::remove_file(&weights).unwrap();
    std::fs::File::create(&weights).unwrap().set_len(2 << 30).unwrap();
    let started = std::time::Instant::now();
    let e = Model::load_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("2147483648 bytes but model.json says 7158984"), "{e}");
    assert!(started.elapsed().as_secs() < 2, "the size check read the file");
    std::fs::remove_dir_all(&dir).unwrap();
}
