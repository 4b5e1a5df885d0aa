//! Graph models (format 2) on the GPU ([`GraphPlan`]) against the CPU reference: every op on
//! odd shapes (C = 3, H = 5, W = 7, batch 1 and 3), both kernel tunings, to 1e-4 + 1e-4·|ref|;
//! fusion, buffer sharing by liveness, 2-D dispatch, limit errors; the five ONNX fixture
//! families against onnxruntime; every graph shader validates with naga. Runs on lavapipe; a
//! missing adapter fails rather than skips. This file holds the shared helpers; one module per
//! group of tests, in `tests/gpu_graph/`.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "gpu_graph/elementwise.rs"]
mod elementwise;
#[path = "gpu_graph/gemm.rs"]
mod gemm;
#[path = "gpu_graph/norm.rs"]
mod norm;
#[path = "gpu_graph/onnx.rs"]
mod onnx;
#[path = "gpu_graph/plan.rs"]
mod plan;
#[path = "gpu_graph/shaders.rs"]
mod shaders;
#[path = "gpu_graph/spatial.rs"]
mod spatial;

use std::collections::BTreeMap;

use common::{assert_close, random};
use pollster::block_on;
use serde_json::{Value, json};
use webgan::gpu::{Gpu, GraphPlan, Tuning};
use webgan::model::Inputs;
use webgan::model::weights::sha256_hex;
use webgan::{Model, Tensor, cpu, latent};

pub(crate) type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

pub(crate) fn gpus() -> Vec<Gpu> {
    [Tuning::Emulator, Tuning::Gpu]
        .into_iter()
        .map(|t| block_on(Gpu::with_tuning(Some(t))).expect("a GPU adapter (CI installs lavapipe)"))
        .collect()
}

/// A format-2 graph under construction: inputs, nodes and the tensors they read.
#[derive(Default)]
pub(crate) struct Graph {
    inputs: Vec<Value>,
    nodes: Vec<Value>,
    tensors: Tensors,
    seed: u64,
}

impl Graph {
    pub(crate) fn image(c: usize, h: usize, w: usize) -> Self {
        Graph { inputs: vec![json!({"name": "x", "role": "image", "shape": [c, h, w]})], ..Default::default() }
    }

    pub(crate) fn latent(z: usize) -> Self {
        Graph { inputs: vec![json!({"name": "z", "role": "latent", "shape": [z]})], ..Default::default() }
    }

    /// Adds node `name` = `op(inputs)` with `fields`; returns its name.
    pub(crate) fn op(&mut self, name: &str, op: &str, inputs: &[&str], fields: Value) -> String {
        let mut node = json!({"name": name, "op": op, "inputs": inputs});
        if let Value::Object(extra) = fields {
            node.as_object_mut().unwrap().extend(extra);
        }
        self.nodes.push(node);
        name.to_string()
    }

    /// A weights tensor of uniform values in `offset ± scale`; returns its name.
    pub(crate) fn tensor(&mut self, name: &str, shape: &[usize], scale: f32, offset: f32) -> String {
        self.seed += 1;
        let n = shape.iter().product();
        let data = if scale > 0.0 { random(self.seed, n, scale).into_iter().map(|v| v + offset).collect() } else { vec![offset; n] };
        self.tensors.insert(name.to_string(), (shape.to_vec(), data));
        name.to_string()
    }

    /// A constant node of such values.
    pub(crate) fn constant(&mut self, name: &str, shape: &[usize], scale: f32, offset: f32) -> String {
        let t = self.tensor(&format!("{name}.t"), shape, scale, offset);
        self.op(name, "constant", &[], json!({"tensor": t}))
    }

    pub(crate) fn model(&self, output: &str) -> Model {
        let weights = common::safetensors_bytes(&self.tensors, false);
        let manifest = json!({
            "format": "webgan-model/2",
            "name": "gpu-graph-test", "description": "a graph built by a test", "license": "test data", "source": "tests",
            "weights": {"file": "weights.safetensors", "bytes": weights.len(), "sha256": sha256_hex(&weights), "dtype": "f32"},
            "inputs": self.inputs, "nodes": self.nodes, "output": output,
        });
        Model::from_parts(&manifest.to_string(), &weights).unwrap_or_else(|e| panic!("the test graph loads: {e}"))
    }
}

/// `n` samples of every input `model` has: normal latents, images in [-1, 1], class ids.
pub(crate) fn request(model: &Model, n: usize, seed: u64) -> Inputs {
    let latents = model.takes_latents().then(|| latent::normal_latents(seed, n, model.manifest.latent_dim));
    let images = model.image_input().map(|s| {
        let dims: Vec<usize> = std::iter::once(n).chain(s.dims()).collect();
        Tensor::new(&dims, random(seed + 100, n * s.elements(), 1.0)).unwrap()
    });
    let classes = model.manifest.num_classes.map(|k| (0..n).map(|i| ((i * 7 + seed as usize) % k) as u32).collect());
    Inputs { latents, classes, images }
}

/// Runs `model` at batch 1 and 3 on every GPU and compares with the CPU reference.
pub(crate) fn check(what: &str, model: &Model, gpus: &[Gpu]) {
    check_with(what, model, gpus, &|inputs| cpu::run(model, inputs).unwrap_or_else(|e| panic!("{what}: cpu: {e}")));
}

/// As [`check`] against `expected` (for the cases the CPU reference gets wrong).
pub(crate) fn check_with(what: &str, model: &Model, gpus: &[Gpu], expected: &dyn Fn(&Inputs) -> Tensor) {
    for batch in [1, 3] {
        let inputs = request(model, batch, batch as u64);
        let expected = expected(&inputs);
        for gpu in gpus {
            let plan = block_on(GraphPlan::compile(gpu, model, batch)).unwrap_or_else(|e| panic!("{what}: compile: {e}"));
            let got = block_on(plan.run(gpu, &inputs)).unwrap_or_else(|e| panic!("{what}: run: {e}"));
            assert_close(&format!("{what} batch {batch} {:?}", gpu.tuning), &got, &expected, 1e-4, 1e-4);
        }
    }
}
