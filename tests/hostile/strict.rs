//! Silent acceptance: manifests the loader must refuse rather than run (unknown fields on
//! parameterless layers, duplicate JSON keys, `batch_norm` with eps 0 over zero variance).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use webgan::model::weights::sha256_hex;

use crate::harness::{Limit, UNDER_2_GB, assert_mentions, check, limit_for, run};
use crate::model::{assert_no_output, digits_copy, digits_with, generate_args, layers, manifest, out_dir, write_manifest};

#[test]
fn parameterless_layer_with_unknown_field() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = out_dir(tmp.path());
    for (i, (index, op)) in [(3, "relu"), (9, "tanh")].into_iter().enumerate() {
        let model = digits_with(tmp.path(), &format!("model{i}"), |m| {
            layers(m)[index] = json!({"op": op, "slope": 0.2});
        });
        let label = format!("{{\"op\": \"{op}\", \"slope\": 0.2}} (cpu)");
        let message = check(&run(&label, Limit::AddressSpace, &generate_args(&model, &out.join("out.png"), "cpu", true)), UNDER_2_GB);
        assert_mentions(&label, &message, &["slope", op]);
        assert_no_output(&label, &out);
    }
}

#[test]
fn duplicate_json_keys() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = out_dir(tmp.path());
    let cases = [
        ("latent_dim", "\"latent_dim\": 32,", "\"latent_dim\": 32, \"latent_dim\": 7,"),
        ("eps", "\"eps\": 1e-05,", "\"eps\": 1e-05, \"eps\": 0.5,"),
        ("bytes", "\"bytes\": 711596,", "\"bytes\": 711596, \"bytes\": 711596,"),
    ];
    for (i, (key, from, to)) in cases.into_iter().enumerate() {
        let model = digits_copy(tmp.path(), &format!("model{i}"));
        let text = fs::read_to_string(model.join("model.json")).expect("read");
        assert!(text.contains(from), "the digits fixture has `{from}`");
        fs::write(model.join("model.json"), text.replacen(from, to, 1)).expect("write");
        let label = format!("duplicate key `{key}` in model.json (cpu)");
        let message = check(&run(&label, Limit::AddressSpace, &generate_args(&model, &out.join("out.png"), "cpu", true)), UNDER_2_GB);
        assert_mentions(&label, &message, &[key, "duplicate"]);
        assert_no_output(&label, &out);
    }
}

/// The digits copy with layer 6 (`batch_norm` over 32 channels) at `eps` 0 and its running
/// variance all zeros, the manifest's size and hash updated to the new weights.
fn zero_variance_model(tmp: &Path) -> PathBuf {
    let dir = digits_copy(tmp, "model");
    let path = dir.join("weights.safetensors");
    let mut bytes = fs::read(&path).expect("read weights");
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).expect("header");
    let mut m = manifest(&dir);
    let var = layers(&mut m)[6]["running_var"].as_str().expect("running_var").to_string();
    let offsets = &header[var.as_str()]["data_offsets"];
    let (start, end) = (offsets[0].as_u64().expect("start") as usize, offsets[1].as_u64().expect("end") as usize);
    assert_eq!(end - start, 32 * 4, "{var} is 32 f32 values");
    bytes[8 + n + start..8 + n + end].fill(0);
    fs::write(&path, &bytes).expect("write weights");
    layers(&mut m)[6]["eps"] = json!(0.0);
    m["weights"]["bytes"] = json!(bytes.len());
    m["weights"]["sha256"] = json!(sha256_hex(&bytes));
    write_manifest(&dir, &m);
    dir
}

#[test]
fn batch_norm_eps_zero_with_zero_variance() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = zero_variance_model(tmp.path());
    let out = out_dir(tmp.path());
    for backend in ["cpu", "gpu"] {
        let label = format!("batch_norm eps 0, running_var 0 ({backend})");
        let message = check(&run(&label, limit_for(backend), &generate_args(&model, &out.join("out.png"), backend, true)), UNDER_2_GB);
        assert_mentions(&label, &message, &["eps"]);
        assert_no_output(&label, &out);
    }
}
