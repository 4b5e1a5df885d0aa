//! Property tests for hostile inputs (issue 10, item 7): mutated manifests, random layer lists,
//! mutated safetensors files and hand-built `.npy` latents never panic, and whatever the loader
//! accepts satisfies its invariants (shapes within the caps, the last equal to `output_shape`,
//! latents `[N, dim]` with `1 ≤ N ≤ MAX_COUNT`).
//!
//! `WEBGAN_FUZZ_CASES` sets the cases per property: 256 by default (`make test`), 20,000 for
//! `make fuzz`. A failing case is shrunk and saved by proptest beside the file that holds the
//! property (`tests/properties/<module>.proptest-regressions`) so it is replayed first next time.
//!
//! One test binary: the generators and edits (`generators`, `json`), the invariants every accepted
//! input must keep (`invariants`), and one module of properties per input (`manifest`, `layers`,
//! `safetensors`, `npy`).
#![cfg(not(target_arch = "wasm32"))]

#[path = "../common/mod.rs"]
mod common;
mod generators;
mod invariants;
mod json;
mod layers;
mod manifest;
mod npy;
mod safetensors;

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::Value;
use webgan::model::shape;
use webgan::model::{Layer, Manifest};

use crate::json::{apply_json_edits, json_edit};
use crate::layers::{layer_list, layer_seed};
use crate::npy::{npy_bytes, npy_seed};

/// Cases per property: `WEBGAN_FUZZ_CASES`, or 256.
fn cases() -> u32 {
    std::env::var("WEBGAN_FUZZ_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(256)
}

/// The cases per property; failures persist beside the property's own file (proptest's default
/// would put them in `tests/proptest-regressions/`, since this folder has a `main.rs`).
pub(crate) fn config() -> ProptestConfig {
    ProptestConfig {
        max_shrink_iters: 2048,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::with_cases(cases())
    }
}

fn fixture(path: &str) -> Vec<u8> {
    let full = common::root(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

pub(crate) struct Base {
    /// `model.json` text.
    pub(crate) json: String,
    /// The weights file, kept only for the small digits model (hashing faces64's 7 MB in every
    /// case would dominate the run).
    pub(crate) weights: Option<Vec<u8>>,
}

pub(crate) fn bases() -> &'static [Base; 2] {
    static BASES: OnceLock<[Base; 2]> = OnceLock::new();
    BASES.get_or_init(|| {
        let text = |p: &str| String::from_utf8(fixture(p)).expect("fixture manifest is UTF-8");
        [
            Base {
                json: text("tests/fixtures/digits/model.json"),
                weights: Some(fixture("tests/fixtures/digits/weights.safetensors")),
            },
            Base { json: text("www/models/faces64/model.json"), weights: None },
        ]
    })
}

pub(crate) fn digits() -> &'static Base {
    &bases()[0]
}

/// The generators above reach the accepting paths too: a property that only ever sees errors
/// checks nothing. (Deterministic: proptest's default RNG seed per test is fixed unless
/// `PROPTEST_RNG_SEED` changes it.)
#[test]
fn generators_reach_valid_inputs() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut layers_ok, mut npy_ok, mut manifests_ok) = (0, 0, 0);
    for _ in 0..400 {
        let seeds = prop::collection::vec(layer_seed(), 1..8).new_tree(&mut runner).expect("tree").current();
        let (layers, last) = layer_list(8, &seeds);
        if let Some(last) = last {
            let mut manifest = Manifest::parse(&digits().json).expect("fixture manifest parses");
            manifest.num_classes = layers.iter().find_map(|l| match l {
                Layer::ConcatOneHot { classes } => Some(*classes),
                _ => None,
            });
            manifest.latent_dim = 8;
            manifest.output_shape = last.dims();
            manifest.layers = layers;
            layers_ok += shape::infer(&manifest).is_ok() as usize;
        }
        let seed = npy_seed().new_tree(&mut runner).expect("tree").current();
        npy_ok += webgan::npy::parse_latents(&npy_bytes(&seed), seed.dim, "z.npy").is_ok() as usize;
        let edits = prop::collection::vec(json_edit(), 1..2).new_tree(&mut runner).expect("tree").current();
        let value: Value = serde_json::from_str(&digits().json).expect("fixture manifest is JSON");
        let text = apply_json_edits(&value, &edits);
        manifests_ok += Manifest::parse(&text).and_then(|m| shape::infer(&m)).is_ok() as usize;
    }
    println!("accepted of 400: layer lists {layers_ok}, npy latents {npy_ok}, mutated manifests {manifests_ok}");
    assert!(layers_ok >= 20, "only {layers_ok} of 400 generated layer lists pass shape inference");
    assert!(npy_ok >= 20, "only {npy_ok} of 400 generated .npy files parse");
    assert!(manifests_ok >= 20, "only {manifests_ok} of 400 mutated manifests pass shape inference");
}
