//! The model folders the cases build (copies of the digits model, edited manifests), their
//! arguments, the output folder a failed run must leave empty, and FIFOs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common;
use crate::harness::path_str;

/// A copy of the small conditional digits model (`tests/fixtures/digits`) in `tmp/name`.
pub(crate) fn digits_copy(tmp: &Path, name: &str) -> PathBuf {
    let dir = tmp.join(name);
    fs::create_dir_all(&dir).expect("mkdir");
    for file in ["model.json", "weights.safetensors"] {
        fs::copy(common::root(&format!("tests/fixtures/digits/{file}")), dir.join(file)).expect("copy fixture");
    }
    dir
}

pub(crate) fn faces64() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/faces64")
}

pub(crate) fn manifest(dir: &Path) -> Value {
    serde_json::from_slice(&fs::read(dir.join("model.json")).expect("read model.json")).expect("model.json is JSON")
}

pub(crate) fn write_manifest(dir: &Path, value: &Value) {
    fs::write(dir.join("model.json"), serde_json::to_string(value).expect("serialize")).expect("write");
}

/// The digits copy with `edit` applied to its manifest.
pub(crate) fn digits_with(tmp: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let dir = digits_copy(tmp, name);
    let mut m = manifest(&dir);
    edit(&mut m);
    write_manifest(&dir, &m);
    dir
}

pub(crate) fn layers(m: &mut Value) -> &mut Vec<Value> {
    m["layers"].as_array_mut().expect("layers")
}

/// `generate` on the digits model (class 3, two images) or faces64 (no class).
pub(crate) fn generate_args<'a>(model: &'a Path, out: &'a Path, backend: &'a str, conditional: bool) -> Vec<&'a str> {
    let mut args = vec!["generate", "--model", path_str(model), "--seed", "1", "--count", "2"];
    if conditional {
        args.extend(["--class", "3"]);
    }
    args.extend(["--out", path_str(out), "--backend", backend]);
    args
}

/// An output folder the case's `--out` points into; after a failure it must still be empty.
pub(crate) fn out_dir(tmp: &Path) -> PathBuf {
    let dir = tmp.join("out");
    fs::create_dir_all(&dir).expect("mkdir out");
    dir
}

pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).expect("read_dir").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

pub(crate) fn assert_no_output(label: &str, out: &Path) {
    let left = entries(out);
    assert!(left.is_empty(), "{label}: a failed run left files in the output folder: {left:?}");
}

pub(crate) fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("run mkfifo");
    assert!(status.success(), "mkfifo {} failed", path.display());
}

pub(crate) fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::symlink_metadata(path).map(|m| m.file_type().is_fifo()).unwrap_or(false)
}
