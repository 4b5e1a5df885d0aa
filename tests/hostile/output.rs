//! Hostile `--out` paths: an existing file of the wrong kind, a missing folder, a FIFO, a
//! directory. Each must be refused and left as it was.

use std::fs;

use crate::harness::{Limit, UNDER_2_GB, assert_mentions, check, run};
use crate::model::{digits_copy, entries, generate_args, is_fifo, mkfifo, out_dir};

#[test]
fn out_existing_file_with_wrong_extension_is_left_intact() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = digits_copy(tmp.path(), "model");
    let out = out_dir(tmp.path());
    let notes = out.join("notes.txt");
    let text = b"my notes: do not lose these\nline two\n\x00\xff binary tail".to_vec();
    fs::write(&notes, &text).expect("write notes");
    let label = "--out notes.txt, an existing file (cpu)";
    let message = check(&run(label, Limit::AddressSpace, &generate_args(&model, &notes, "cpu", true)), UNDER_2_GB);
    assert_mentions(label, &message, &["notes.txt", ".png"]);
    assert_eq!(fs::read(&notes).expect("notes.txt still there"), text, "{label}: notes.txt changed");
    assert_eq!(entries(&out), ["notes.txt"], "{label}: the output folder changed");
}

#[test]
fn out_in_missing_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = digits_copy(tmp.path(), "model");
    let missing = tmp.path().join("no-such-dir");
    let target = missing.join("sub").join("out.png");
    let label = "--out into a folder that does not exist (cpu)";
    let message = check(&run(label, Limit::AddressSpace, &generate_args(&model, &target, "cpu", true)), UNDER_2_GB);
    assert_mentions(label, &message, &["no-such-dir"]);
    assert!(!missing.exists(), "{label}: the CLI created {}", missing.display());
}

#[test]
fn out_is_a_fifo_or_a_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = digits_copy(tmp.path(), "model");
    let out = out_dir(tmp.path());
    let fifo = out.join("image.png");
    mkfifo(&fifo);
    let label = "--out image.png, an existing FIFO (cpu)";
    let message = check(&run(label, Limit::AddressSpace, &generate_args(&model, &fifo, "cpu", true)), UNDER_2_GB);
    assert_mentions(label, &message, &["image.png"]);
    assert!(is_fifo(&fifo), "{label}: the FIFO was replaced or removed");
    assert_eq!(entries(&out), ["image.png"], "{label}: the output folder changed");

    let dir = out.join("grid.npy");
    fs::create_dir(&dir).expect("mkdir grid.npy");
    let label = "--out grid.npy, an existing directory (cpu)";
    let message = check(&run(label, Limit::AddressSpace, &generate_args(&model, &dir, "cpu", true)), UNDER_2_GB);
    assert_mentions(label, &message, &["grid.npy"]);
    assert!(dir.is_dir() && entries(&dir).is_empty(), "{label}: the directory changed");
    assert_eq!(entries(&out), ["grid.npy", "image.png"], "{label}: the output folder changed");
}
