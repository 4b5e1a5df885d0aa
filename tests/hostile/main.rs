//! Hostile inputs to the command line (issue 10), as regression tests of the real `webgan`
//! binary. Each case builds one broken thing (a model folder, a latents file, an output path) in
//! a temporary directory and runs the CLI on it. Every case must end with exit status 1 or 2
//! (never 0, never a signal), no panic, one line on stderr starting with `webgan: `, within a
//! time limit and under 2 GB: CPU cases run under `ulimit -v 2097152` (2 GiB of address space;
//! GPU cases do not, Vulkan drivers reserve far more than they touch), and every case's peak
//! resident memory is measured (GNU time's `%M` where `/usr/bin/time` exists, and `VmHWM`
//! polled every 5 ms), checked and printed: `cargo test --test hostile -- --nocapture` shows
//! them.
//!
//! Nothing large is committed: big files are sparse (`File::set_len`) or written here.
//!
//! One test binary: the harness that runs the CLI and checks every case (`harness`), the
//! folders the cases build (`model`), and one module per kind of hostile input.
#![cfg(target_os = "linux")]

#[path = "../common/mod.rs"]
mod common;
mod files;
mod harness;
mod latents;
mod memory;
mod model;
mod output;
mod overflow;
mod strict;

use std::fs;

use crate::harness::{Limit, run};
use crate::model::{digits_copy, entries, generate_args, out_dir};

/// The harness itself: a valid run passes where the hostile ones must fail, so a broken copy
/// or argument list cannot make every case "fail correctly".
#[test]
fn the_unbroken_digits_copy_generates() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let model = digits_copy(tmp.path(), "model");
    let out = out_dir(tmp.path());
    let png = out.join("out.png");
    let run = run("unbroken digits copy (cpu)", Limit::AddressSpace, &generate_args(&model, &png, "cpu", true));
    println!("unbroken digits copy (cpu): exit {:?}, {:.2} s, peak RSS {:.1} MB", run.code, run.seconds, run.peak_kb as f64 / 1024.0);
    assert_eq!(run.code, Some(0), "the unbroken model fails: {}", run.stderr);
    assert!(fs::metadata(&png).map(|m| m.len() > 0).unwrap_or(false), "no out.png written");
    assert_eq!(entries(&out), ["out.png"], "only out.png is left in the output folder");
}
