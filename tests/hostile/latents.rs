//! Hostile `--latents` files: `.npy` headers whose shape products overflow, and 100,000 rows.

use std::fs;

use crate::harness::{UNDER_2_GB, assert_mentions, check, limit_for, path_str, run};
use crate::model::{assert_no_output, faces64, out_dir};

/// A `.npy` header (version 1.0) declaring float32 C-order `shape`, padded as numpy pads it.
fn npy_header(shape: &str) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + dict.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let mut header = b"\x93NUMPY\x01\x00".to_vec();
    header.extend_from_slice(&((total - 10) as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header.extend(std::iter::repeat_n(b' ', total - unpadded));
    header.push(b'\n');
    header
}

fn hostile_latent_headers(backend: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = out_dir(tmp.path());
    let png = out.join("out.png");
    let cases = [
        // The case: npyz's shape product wraps to 0 and the data (800 bytes) pass.
        ("(4611686018427387904, 100)", 800, "shape (2^62, 100) over 800 bytes"),
        // Found by tests/properties.rs: a product of 0, but npyz's stride products overflow.
        ("(0, 2, 9223372036854775808)", 0, "shape (0, 2, 2^63)"),
        ("(1, 100, 4294967296, 4294967296)", 400, "shape (1, 100, 2^32, 2^32)"),
    ];
    for (i, (shape, data, what)) in cases.into_iter().enumerate() {
        let z = tmp.path().join(format!("z{i}.npy"));
        let mut bytes = npy_header(shape);
        bytes.extend(std::iter::repeat_n(0u8, data));
        fs::write(&z, &bytes).expect("write z.npy");
        let label = format!("latents of {what} ({backend})");
        let args = [
            "generate", "--model", faces64(), "--latents", path_str(&z), "--out", path_str(&png),
            "--backend", backend,
        ];
        let message = check(&run(&label, limit_for(backend), &args), UNDER_2_GB);
        assert_mentions(&label, &message, &[&format!("z{i}.npy")]);
        assert_no_output(&label, &out);
    }
}

#[test]
fn hostile_latent_headers_cpu() {
    hostile_latent_headers("cpu");
}

#[test]
fn hostile_latent_headers_gpu() {
    hostile_latent_headers("gpu");
}

fn latents_100k_rows(backend: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let z = tmp.path().join("z.npy");
    // A valid file: the data are 100,000 × 100 zeros (sparse).
    let header = npy_header("(100000, 100)");
    fs::write(&z, &header).expect("write");
    fs::OpenOptions::new().write(true).open(&z).expect("open").set_len(header.len() as u64 + 100_000 * 100 * 4).expect("set_len");
    let out = out_dir(tmp.path());
    let png = out.join("out.png");
    let label = format!("--latents with 100,000 rows ({backend})");
    let args = [
        "generate", "--model", faces64(), "--latents", path_str(&z), "--out", path_str(&png),
        "--backend", backend,
    ];
    let message = check(&run(&label, limit_for(backend), &args), UNDER_2_GB);
    assert_mentions(&label, &message, &["100000", &webgan::limits::MAX_COUNT.to_string()]);
    assert_no_output(&label, &out);
}

#[test]
fn latents_100k_rows_cpu() {
    latents_100k_rows("cpu");
}

#[test]
fn latents_100k_rows_gpu() {
    latents_100k_rows("gpu");
}
