//! Linear and convolution ops with batch norms and activations fused into them, and a
//! format-1 chain run as a graph.

use pollster::block_on;
use serde_json::json;
use webgan::gpu::GraphPlan;

use crate::common::{self, random};
use crate::{Graph, Tensors, check, gpus};

/// A batch norm on `input` with `c` channels.
fn batch_norm(g: &mut Graph, name: &str, input: &str, c: usize) -> String {
    let fields = json!({"channels": c, "eps": 1e-3, "weight": g.tensor(&format!("{name}.g"), &[c], 0.5, 1.0),
        "bias": g.tensor(&format!("{name}.b"), &[c], 0.5, 0.0), "running_mean": g.tensor(&format!("{name}.m"), &[c], 0.3, 0.0),
        "running_var": g.tensor(&format!("{name}.v"), &[c], 0.4, 1.0)});
    g.op(name, "batch_norm", &[input], fields)
}

#[test]
fn gemm_ops_fuse_batch_norm_and_activations() {
    let gpus = gpus();
    // z → linear → bn → relu → reshape → conv_transpose2d → bn → leaky_relu → conv2d, plus a
    // residual add of the convT output, then a standalone batch norm → tanh.
    let mut g = Graph::latent(7);
    let (w, b) = (g.tensor("fc.w", &[24, 7], 0.5, 0.0), g.tensor("fc.b", &[24], 0.5, 0.0));
    g.op("fc", "linear", &["z"], json!({"in_features": 7, "out_features": 24, "weight": w, "bias": b}));
    batch_norm(&mut g, "bn0", "fc", 24);
    g.op("a0", "relu", &["bn0"], json!({}));
    g.op("img", "reshape", &["a0"], json!({"shape": [6, 2, 2], "order": "channels_first"}));
    let (w, b) = (g.tensor("ct.w", &[6, 5, 4, 4], 0.3, 0.0), g.tensor("ct.b", &[5], 0.3, 0.0));
    g.op("ct", "conv_transpose2d", &["img"], json!({"in_channels": 6, "out_channels": 5, "kernel": [4, 4], "stride": [2, 2],
        "padding": [1, 1, 1, 1], "output_padding": [0, 0], "weight": w, "bias": b}));
    batch_norm(&mut g, "bn1", "ct", 5);
    g.op("a1", "leaky_relu", &["bn1"], json!({"slope": 0.2}));
    let (w, b) = (g.tensor("cv.w", &[5, 5, 3, 3], 0.3, 0.0), g.tensor("cv.b", &[5], 0.3, 0.0));
    g.op("cv", "conv2d", &["a1"], json!({"in_channels": 5, "out_channels": 5, "kernel": [3, 3], "stride": [1, 1],
        "padding": [1, 1, 1, 1], "weight": w, "bias": b}));
    g.op("res", "add", &["cv", "a1"], json!({}));
    batch_norm(&mut g, "bn2", "res", 5);
    g.op("out", "tanh", &["bn2"], json!({}));
    let model = g.model("out");
    check("linear/convT/conv2d with batch norms, activations and a residual", &model, &gpus);
    // linear+bn+relu, reshape, convT+bn+leaky_relu, conv2d, add, bn+tanh.
    assert_eq!(block_on(GraphPlan::compile(&gpus[0], &model, 2)).unwrap().dispatches(), 6);

    // An image-to-image graph: strided conv without bias, instance norm, relu, convT with
    // output padding, tanh.
    let mut g = Graph::image(3, 5, 7);
    let w = g.tensor("c.w", &[4, 3, 3, 3], 0.4, 0.0);
    g.op("c", "conv2d", &["x"], json!({"in_channels": 3, "out_channels": 4, "kernel": [3, 3], "stride": [2, 2],
        "padding": [1, 2, 1, 2], "weight": w, "bias": null}));
    g.op("n", "instance_norm", &["c"], json!({"channels": 4, "eps": 1e-5}));
    g.op("r", "relu", &["n"], json!({}));
    let (w, b) = (g.tensor("t.w", &[4, 3, 3, 3], 0.4, 0.0), g.tensor("t.b", &[3], 0.2, 0.0));
    g.op("t", "conv_transpose2d", &["r"], json!({"in_channels": 4, "out_channels": 3, "kernel": [3, 3], "stride": [2, 2],
        "padding": [1, 1, 1, 1], "output_padding": [1, 1], "weight": w, "bias": b}));
    g.op("out", "tanh", &["t"], json!({}));
    check("conv2d, instance norm, convT, tanh", &g.model("out"), &gpus);
}

#[test]
fn a_format_1_chain_runs_as_a_graph() {
    let gpus = gpus();
    let mut t = Tensors::new();
    t.insert("w".into(), (vec![12, 5], random(1, 60, 0.5)));
    t.insert("cw".into(), (vec![3, 2, 3, 3], random(2, 54, 0.5)));
    let layers = json!([
        {"op": "linear", "in_features": 5, "out_features": 12, "weight": "w", "bias": null}, {"op": "relu"},
        {"op": "reshape", "shape": [3, 2, 2], "order": "channels_last"}, {"op": "upsample", "scale": [2, 2]},
        {"op": "conv_transpose2d", "in_channels": 3, "out_channels": 2, "kernel": [3, 3], "stride": [1, 1],
         "padding": [1, 1, 1, 1], "output_padding": [0, 0], "weight": "cw", "bias": null}, {"op": "sigmoid"}]);
    check("format-1 chain", &common::build_model(5, None, layers, &t), &gpus);
}
