//! Format 2 (graph models): a small residual, conditional graph runs on the CPU as computed by
//! hand, nodes may come in any order, and every kind of bad graph fails at load time with one
//! line naming the node.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use serde_json::{Value, json};
use webgan::model::weights::sha256_hex;
use webgan::model::Inputs;
use webgan::{Model, Tensor, cpu};

type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

/// A format-2 manifest around `inputs`, `nodes` and `output`, for `weights`.
fn graph_json(inputs: Value, nodes: Value, output: &str, weights: &[u8]) -> String {
    json!({
        "format": "webgan-model/2",
        "name": "graph-test", "description": "a graph built by a test", "license": "test data", "source": "tests",
        "weights": {"file": "weights.safetensors", "bytes": weights.len(), "sha256": sha256_hex(weights), "dtype": "f32"},
        "inputs": inputs, "nodes": nodes, "output": output,
    })
    .to_string()
}

/// z [4] and a class of 3 → embedding [4] added to z → linear to 2·2·2 → reshape → conv 1×1
/// with a residual add → tanh. Nodes listed out of order on purpose.
fn residual() -> (Value, Value, Tensors) {
    let mut t = Tensors::new();
    t.insert("emb".into(), (vec![3, 4], common::random(1, 12, 1.0)));
    t.insert("fc.w".into(), (vec![8, 4], common::random(2, 32, 0.5)));
    t.insert("conv.w".into(), (vec![2, 2, 1, 1], common::random(3, 4, 0.5)));
    t.insert("scale".into(), (vec![2, 1, 1], vec![0.5, -2.0]));
    let inputs = json!([{"name": "z", "role": "latent", "shape": [4]}, {"name": "y", "role": "class", "classes": 3}]);
    let nodes = json!([
        {"name": "out", "op": "tanh", "inputs": ["res"]},
        {"name": "e", "op": "embedding", "inputs": ["y"], "classes": 3, "dim": 4, "weight": "emb"},
        {"name": "h", "op": "add", "inputs": ["z", "e"]},
        {"name": "fc", "op": "linear", "inputs": ["h"], "in_features": 4, "out_features": 8, "weight": "fc.w", "bias": null},
        {"name": "img", "op": "reshape", "inputs": ["fc"], "shape": [2, 2, 2], "order": "channels_first"},
        {"name": "conv", "op": "conv2d", "inputs": ["img"], "in_channels": 2, "out_channels": 2, "kernel": [1, 1],
         "stride": [1, 1], "padding": [0, 0, 0, 0], "weight": "conv.w", "bias": null},
        {"name": "s", "op": "constant", "inputs": [], "tensor": "scale"},
        {"name": "scaled", "op": "mul", "inputs": ["conv", "s"]},
        {"name": "res", "op": "add", "inputs": ["scaled", "img"]}
    ]);
    (inputs, nodes, t)
}

fn load(inputs: Value, nodes: Value, output: &str, tensors: &Tensors) -> webgan::Result<Model> {
    let weights = common::safetensors_bytes(tensors, false);
    Model::from_parts(&graph_json(inputs, nodes, output, &weights), &weights)
}

/// The residual graph by hand, sample by sample.
fn by_hand(t: &Tensors, z: &[f32], y: u32) -> Vec<f32> {
    let (emb, fc, conv, scale) = (&t["emb"].1, &t["fc.w"].1, &t["conv.w"].1, &t["scale"].1);
    let h: Vec<f32> = (0..4).map(|i| z[i] + emb[y as usize * 4 + i]).collect();
    let img: Vec<f32> = (0..8).map(|o| (0..4).map(|i| fc[o * 4 + i] * h[i]).sum()).collect();
    let mut out = vec![0.0; 8];
    for co in 0..2 {
        for p in 0..4 {
            let c: f32 = (0..2).map(|ci| conv[co * 2 + ci] * img[ci * 4 + p]).sum();
            out[co * 4 + p] = (c * scale[co] + img[co * 4 + p]).tanh();
        }
    }
    out
}

#[test]
fn residual_conditional_graph_matches_hand_computation() {
    let (inputs, nodes, t) = residual();
    let model = load(inputs, nodes, "out", &t).expect("the graph loads");
    assert_eq!(model.manifest.latent_dim, 4);
    assert_eq!(model.manifest.num_classes, Some(3));
    assert_eq!(model.manifest.output_shape, vec![2, 2, 2]);
    let z = Tensor::new(&[2, 4], common::random(9, 8, 1.0)).unwrap();
    let classes = [2u32, 0];
    let out = cpu::forward(&model, &z, Some(&classes)).expect("runs");
    let expected: Vec<f32> = (0..2).flat_map(|i| by_hand(&t, &z.data[i * 4..(i + 1) * 4], classes[i])).collect();
    common::assert_close("residual graph", &out, &Tensor::new(&[2, 2, 2, 2], expected).unwrap(), 1e-6, 1e-6);
    // The class input is required, and checked.
    assert!(cpu::forward(&model, &z, None).unwrap_err().to_string().contains("conditional"));
    assert!(cpu::forward(&model, &z, Some(&[3, 0])).unwrap_err().to_string().contains("out of range"));
}

#[test]
fn image_input_graph_runs_and_checks_its_input() {
    let mut t = Tensors::new();
    t.insert("w".into(), (vec![1, 1, 3, 3], vec![1.0; 9]));
    let inputs = json!([{"name": "x", "role": "image", "shape": [1, 3, 3]}]);
    let nodes = json!([
        {"name": "p", "op": "pad", "inputs": ["x"], "pads": [1, 1, 1, 1], "mode": "reflect"},
        {"name": "c", "op": "conv2d", "inputs": ["p"], "in_channels": 1, "out_channels": 1, "kernel": [3, 3],
         "stride": [1, 1], "padding": [0, 0, 0, 0], "weight": "w", "bias": null}
    ]);
    let model = load(inputs, nodes, "c", &t).expect("loads");
    assert!(!model.takes_latents());
    let x = Tensor::new(&[1, 1, 3, 3], (1..=9).map(|v| v as f32).collect()).unwrap();
    let out = cpu::run(&model, &Inputs { images: Some(x.clone()), ..Default::default() }).expect("runs");
    // Reflect-padded 3×3 box sums: the centre sees every pixel once.
    assert_eq!(out.data[4], 45.0);
    // Top-left: rows (5 4 5 / 2 1 2 / 5 4 5) reflect around pixel 1 → 5+4+5+2+1+2+5+4+5.
    assert_eq!(out.data[0], 33.0);
    let wrong = Tensor::new(&[1, 1, 3, 4], vec![0.0; 12]).unwrap();
    let err = cpu::run(&model, &Inputs { images: Some(wrong), ..Default::default() }).unwrap_err().to_string();
    assert!(err.contains("[1, 1, 3, 3]"), "{err}");
    let err = cpu::forward(&model, &Tensor::zeros(&[1, 4]), None).unwrap_err().to_string();
    assert!(err.contains("takes no latents"), "{err}");
}

/// The error of the residual graph with `edit` applied to its nodes (and tensors).
fn error_of(edit: impl FnOnce(&mut Vec<Value>, &mut Tensors)) -> String {
    let (inputs, nodes, mut t) = residual();
    let mut nodes = nodes.as_array().unwrap().clone();
    edit(&mut nodes, &mut t);
    let err = load(inputs, Value::Array(nodes), "out", &t).expect_err("the graph must be refused").to_string();
    assert!(!err.contains('\n'), "one line: {err}");
    err
}

fn node<'a>(nodes: &'a mut [Value], name: &str) -> &'a mut Value {
    nodes.iter_mut().find(|n| n["name"] == name).expect("node exists")
}

#[test]
fn a_cycle_is_refused() {
    let err = error_of(|n, _| node(n, "h")["inputs"] = json!(["res", "e"]));
    assert!(err.contains("cycle"), "{err}");
}

#[test]
fn a_dangling_input_is_refused() {
    let err = error_of(|n, _| node(n, "res")["inputs"] = json!(["scaled", "imgg"]));
    assert!(err.contains("node `res` (add)") && err.contains("`imgg`, which no node or input defines"), "{err}");
}

#[test]
fn a_duplicate_name_is_refused() {
    let err = error_of(|n, _| {
        let mut copy = node(n, "s").clone();
        copy["tensor"] = json!("scale");
        n.push(copy)
    });
    assert!(err.contains("node `s` (constant)") && err.contains("used twice"), "{err}");
    let err = error_of(|n, _| node(n, "e")["name"] = json!("z"));
    assert!(err.contains("used twice"), "{err}");
}

#[test]
fn a_shape_mismatch_is_refused() {
    let err = error_of(|n, _| node(n, "res")["inputs"] = json!(["scaled", "h"]));
    assert!(err.contains("node `res` (add)") && err.contains("cannot broadcast [2, 2, 2] with [4]"), "{err}");
    let err = error_of(|n, _| node(n, "fc")["in_features"] = json!(5));
    assert!(err.contains("node `fc` (linear)") && err.contains("in_features is 5"), "{err}");
}

#[test]
fn an_unsupported_op_is_refused() {
    let err = error_of(|n, _| node(n, "out")["op"] = json!("softplus"));
    assert!(err.contains("node `out` (softplus)") && err.contains("unsupported op") && err.contains("instance_norm"), "{err}");
}

#[test]
fn unused_nodes_inputs_and_weights_are_refused() {
    let err = error_of(|n, _| n.push(json!({"name": "extra", "op": "relu", "inputs": ["h"]})));
    assert!(err.contains("node `extra` (relu)") && err.contains("never used"), "{err}");
    let err = error_of(|_, t| {
        t.insert("stray".into(), (vec![1], vec![0.0]));
    });
    assert!(err.contains("tensor `stray`") && err.contains("not used"), "{err}");
    let err = error_of(|n, _| {
        node(n, "e")["inputs"] = json!(["y"]);
        node(n, "h")["inputs"] = json!(["e", "e"]);
    });
    assert!(err.contains("input `z` is never used"), "{err}");
}

#[test]
fn bad_fields_and_misused_inputs_are_refused() {
    let err = error_of(|n, _| node(n, "h")["alpha"] = json!(1));
    assert!(err.contains("node `h` (add)") && err.contains("unknown field `alpha`"), "{err}");
    let err = error_of(|n, _| node(n, "fc")["inputs"] = json!(["y"]));
    assert!(err.contains("node `fc` (linear)") && err.contains("class input"), "{err}");
    let err = error_of(|n, _| node(n, "s")["tensor"] = json!("missing"));
    assert!(err.contains("tensor `missing`"), "{err}");
}

#[test]
fn format_1_models_still_load_as_a_chain() {
    let model = Model::load_dir(common::root("www/models/digits")).expect("digits loads");
    assert!(!model.is_graph());
    assert_eq!(model.graph.graph.nodes.len(), model.manifest.layers.len());
    assert_eq!(model.graph.graph.inputs.len(), 2, "latent and class");
}
