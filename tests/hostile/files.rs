//! Hostile files in a model folder: weights that are `/dev/zero`, a FIFO or a sparse 2 GiB
//! file, and a 150 MB `model.json`.

use std::fs;
use std::io::Write;

use serde_json::json;

use crate::harness::{LOW_MEMORY, Limit, assert_mentions, check, run};
use crate::model::{assert_no_output, digits_copy, digits_with, generate_args, mkfifo, out_dir};

#[test]
fn weights_symlink_to_dev_zero() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = digits_copy(tmp.path(), "model");
    fs::remove_file(model.join("weights.safetensors")).expect("rm");
    std::os::unix::fs::symlink("/dev/zero", model.join("weights.safetensors")).expect("symlink");
    let out = out_dir(tmp.path());
    let label = "weights.safetensors -> /dev/zero (cpu)";
    let message = check(&run(label, Limit::AddressSpace, &generate_args(&model, &out.join("out.png"), "cpu", true)), LOW_MEMORY);
    assert_mentions(label, &message, &["weights.safetensors"]);
    assert_no_output(label, &out);
}

#[test]
fn weights_fifo() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = digits_copy(tmp.path(), "model");
    fs::remove_file(model.join("weights.safetensors")).expect("rm");
    mkfifo(&model.join("weights.safetensors"));
    let out = out_dir(tmp.path());
    let label = "weights.safetensors is a FIFO (cpu)";
    let message = check(&run(label, Limit::AddressSpace, &generate_args(&model, &out.join("out.png"), "cpu", true)), LOW_MEMORY);
    assert_mentions(label, &message, &["weights.safetensors"]);
    assert_no_output(label, &out);
}

#[test]
fn weights_sparse_2_gib() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = out_dir(tmp.path());
    // The manifest's own size (711,596 bytes), then a manifest that claims the 2 GiB too (past
    // the 1 GiB cap): neither may read the file.
    for (i, claims_2_gib) in [false, true].into_iter().enumerate() {
        let model = digits_with(tmp.path(), &format!("model{i}"), |m| {
            if claims_2_gib {
                m["weights"]["bytes"] = json!(2u64 << 30);
            }
        });
        let file = fs::OpenOptions::new().write(true).open(model.join("weights.safetensors")).expect("open");
        file.set_len(2 << 30).expect("set_len 2 GiB");
        drop(file);
        let label = format!("sparse 2 GiB weights file, manifest says {} (cpu)", if claims_2_gib { "2 GiB" } else { "711,596 bytes" });
        let run = run(&label, Limit::AddressSpace, &generate_args(&model, &out.join("out.png"), "cpu", true));
        let message = check(&run, LOW_MEMORY);
        assert!(run.seconds < 5.0, "{label}: {:.1} s: the size check must come before reading", run.seconds);
        assert_mentions(&label, &message, &["weights"]);
        assert_no_output(&label, &out);
    }
}

#[test]
fn manifest_150_mb() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = out_dir(tmp.path());
    const SIZE: usize = 150_000_000;
    // Valid JSON (the manifest, then 150 MB of spaces), then a sparse file (the manifest, then
    // NUL bytes).
    for (i, sparse) in [false, true].into_iter().enumerate() {
        let model = digits_copy(tmp.path(), &format!("model{i}"));
        let path = model.join("model.json");
        if sparse {
            fs::OpenOptions::new().write(true).open(&path).expect("open").set_len(SIZE as u64).expect("set_len");
        } else {
            // Written in 1 MB pieces, so that this test process stays small.
            let text = fs::read(&path).expect("read");
            let mut file = fs::OpenOptions::new().append(true).open(&path).expect("open");
            let spaces = vec![b' '; 1 << 20];
            let mut left = SIZE - text.len();
            while left > 0 {
                let n = left.min(spaces.len());
                file.write_all(&spaces[..n]).expect("write spaces");
                left -= n;
            }
        }
        let label = format!("150 MB model.json ({}, cpu)", if sparse { "sparse, NUL bytes" } else { "trailing spaces" });
        let message = check(&run(&label, Limit::AddressSpace, &generate_args(&model, &out.join("out.png"), "cpu", true)), LOW_MEMORY);
        assert_mentions(&label, &message, &["model.json"]);
        assert_no_output(&label, &out);
    }
}
