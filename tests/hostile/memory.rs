//! Unbounded memory and hangs: millions of layers, and a batch of a million images.

use std::fs;

use serde_json::json;

use crate::harness::{Limit, UNDER_2_GB, assert_mentions, assert_mentions_any, check, limit_for, run};
use crate::model::{assert_no_output, digits_with, faces64, generate_args, layers, out_dir};

/// `count` relu layers (valid JSON) before the digits model's tanh.
fn many_relus(backend: &str, count: usize) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = digits_with(tmp.path(), "model", |m| {
        let tanh = layers(m).pop().expect("tanh");
        layers(m).extend(std::iter::repeat_n(json!({"op": "relu"}), count));
        layers(m).push(tanh);
    });
    let size = fs::metadata(model.join("model.json")).expect("stat").len();
    let out = out_dir(tmp.path());
    let label = format!("{count} relu layers, {:.1} MB manifest ({backend})", size as f64 / 1e6);
    let message = check(&run(&label, limit_for(backend), &generate_args(&model, &out.join("out.png"), backend, true)), UNDER_2_GB);
    // Under the 4 MiB manifest cap the layer cap must be what rejects it.
    let cap = if size < 4 << 20 { "layers" } else { "model.json" };
    assert_mentions(&label, &message, &[cap]);
    assert_no_output(&label, &out);
}

fn relu_200k(backend: &str) {
    many_relus(backend, 200_000);
}

#[test]
fn relu_200k_layers_cpu() {
    relu_200k("cpu");
}

#[test]
fn relu_200k_layers_gpu() {
    relu_200k("gpu");
}

/// 2M layers (a 28 MB manifest) aborted the process.
#[test]
fn relu_2m_layers_cpu() {
    many_relus("cpu", 2_000_000);
}

#[test]
fn bench_batch_million_cpu() {
    let label = "bench --batch 1000000 (cpu)";
    let args = ["bench", "--model", faces64(), "--backend", "cpu", "--batch", "1000000", "--runs", "1"];
    let message = check(&run(label, Limit::AddressSpace, &args), UNDER_2_GB);
    assert_mentions_any(label, &message, &["1000000", "1,000,000", "1 000 000"]);
}

#[test]
fn bench_batch_million_gpu() {
    let label = "bench --batch 1000000 --no-cpu (gpu)";
    let args = ["bench", "--model", faces64(), "--backend", "gpu", "--no-cpu", "--batch", "1000000", "--runs", "1"];
    let message = check(&run(label, Limit::None, &args), UNDER_2_GB);
    assert_mentions_any(label, &message, &["1000000", "1,000,000", "1 000 000"]);
}
