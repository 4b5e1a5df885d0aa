//! Element-wise ops: unary activations, prelu, binary ops broadcast as NumPy does, concat on
//! every axis, embedding and concat_one_hot.

use serde_json::{Value, json};
use webgan::model::Inputs;
use webgan::{Model, Tensor, cpu};

use crate::{Graph, check, check_with, gpus};

/// `out = op(input)` after scaling the input by 4 (wider than [-1, 1]); positive-only ops
/// read a sigmoid first.
fn unary_graph(mut g: Graph, input: &str, op: &str, fields: Value, positive: bool) -> Model {
    g.constant("four", &[1], 0.0, 4.0);
    let mut x = g.op("scaled", "mul", &[input, "four"], json!({}));
    if positive {
        x = g.op("pos", "sigmoid", &[&x], json!({}));
    }
    g.op("out", op, &[&x], fields);
    g.model("out")
}

#[test]
fn unary_ops_match_cpu() {
    let gpus = gpus();
    let cases: &[(&str, Value, bool)] = &[
        ("relu", json!({}), false),
        ("leaky_relu", json!({"slope": 0.2}), false),
        ("elu", json!({"alpha": 0.7}), false),
        ("silu", json!({}), false),
        ("gelu", json!({"approximate": "none"}), false),
        ("gelu", json!({"approximate": "tanh"}), false),
        ("sigmoid", json!({}), false),
        ("tanh", json!({}), false),
        ("clamp", json!({"min": -0.3, "max": 0.5}), false),
        ("reciprocal", json!({}), false),
        ("pow", json!({"exponent": 2.0}), false),
        ("pow", json!({"exponent": 3.0}), false),
        ("pow", json!({"exponent": -1.0}), false),
        ("pow", json!({"exponent": -2.0}), false),
        ("pow", json!({"exponent": 0.0}), false),
        ("pow", json!({"exponent": 1.7}), true),
        ("pow", json!({"exponent": 0.5}), true),
        ("sqrt", json!({}), true),
    ];
    for (op, fields, positive) in cases {
        let image = unary_graph(Graph::image(3, 5, 7), "x", op, fields.clone(), *positive);
        check(&format!("{op} {fields} on [3, 5, 7]"), &image, &gpus);
        let flat = unary_graph(Graph::latent(13), "z", op, fields.clone(), *positive);
        check(&format!("{op} {fields} on [13]"), &flat, &gpus);
    }
}

#[test]
fn prelu_matches_cpu() {
    let gpus = gpus();
    for (channels, image) in [(3, true), (1, true), (13, false), (1, false)] {
        let mut g = if image { Graph::image(3, 5, 7) } else { Graph::latent(13) };
        let w = g.tensor("slope", &[channels], 0.5, 0.0);
        g.op("out", "prelu", &[if image { "x" } else { "z" }], json!({"channels": channels, "weight": w}));
        check(&format!("prelu channels {channels}, image {image}"), &g.model("out"), &gpus);
    }
}

/// An operand of a binary test: a batched value made from the input, or a constant.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// The input itself.
    X,
    /// tanh of the input (batched, same shape).
    T,
    /// reduce_mean over channels, kept: [1, H, W].
    R,
    /// reduce_mean over rows, kept: [C, 1, W].
    Q,
    /// A constant of this shape.
    C(&'static [usize]),
}

/// Adds `side` as node `name`, positive (in [0.5, 1.5]) when it will be a divisor.
fn side(g: &mut Graph, input: &str, name: &str, side: Side, divisor: bool) -> String {
    let value = match side {
        Side::X => input.to_string(),
        Side::T => g.op(&format!("{name}.t"), "tanh", &[input], json!({})),
        Side::R => g.op(&format!("{name}.r"), "reduce_mean", &[input], json!({"axes": [0], "keepdims": true})),
        Side::Q => g.op(&format!("{name}.q"), "reduce_mean", &[input], json!({"axes": [1], "keepdims": true})),
        Side::C(shape) => return g.constant(name, shape, 0.5, if divisor { 1.0 } else { 0.0 }),
    };
    if !divisor {
        return value;
    }
    let s = g.op(&format!("{name}.s"), "sigmoid", &[&value], json!({}));
    let half = g.constant(&format!("{name}.h"), &[1], 0.0, 0.5);
    g.op(&format!("{name}.p"), "add", &[&s, &half], json!({}))
}

#[test]
fn binary_ops_broadcast_as_numpy() {
    let gpus = gpus();
    use Side::*;
    let image: &[(Side, Side)] = &[
        (X, T), (X, X), (X, C(&[3, 1, 1])), (C(&[3, 1, 1]), X), (X, C(&[1])), (C(&[1]), X), (X, C(&[7])),
        (C(&[7]), X), (X, C(&[1, 5, 7])), (X, C(&[3, 5, 1])), (X, C(&[3, 5, 7])), (X, R), (R, X),
        (Q, C(&[1, 5, 1])), (Q, R), (C(&[1, 1, 7]), R),
    ];
    let flat: &[(Side, Side)] = &[(X, T), (X, C(&[13])), (C(&[13]), X), (X, C(&[1])), (C(&[1]), X), (X, R)];
    for op in ["add", "sub", "mul", "div"] {
        for (is_image, pairs) in [(true, image), (false, flat)] {
            for &(a, b) in pairs {
                let mut g = if is_image { Graph::image(3, 5, 7) } else { Graph::latent(13) };
                let input = if is_image { "x" } else { "z" };
                let va = side(&mut g, input, "a", a, false);
                let vb = side(&mut g, input, "b", b, op == "div");
                g.op("out", op, &[&va, &vb], json!({}));
                check(&format!("{op}({a:?}, {b:?}) image {is_image}"), &g.model("out"), &gpus);
            }
        }
    }
}

#[test]
fn concat_matches_cpu_on_every_axis() {
    let gpus = gpus();
    let mut g = Graph::image(3, 5, 7);
    g.op("t", "tanh", &["x"], json!({}));
    g.op("r", "reduce_mean", &["x"], json!({"axes": [0], "keepdims": true}));
    g.op("out", "concat", &["x", "r", "t"], json!({"axis": 0}));
    check("concat channels 3 + 1 + 3", &g.model("out"), &gpus);
    // cpu::concat joins channels whatever the axis, so rows and columns are checked against
    // the parts spliced by hand (the pad alone comes from the CPU).
    for (axis, pads) in [(1, [1, 2, 0, 0]), (2, [0, 0, 2, 1])] {
        let mut g = Graph::image(3, 5, 7);
        g.op("p", "pad", &["x"], json!({"pads": pads, "mode": "replicate"}));
        let padded = g.model("p");
        g.op("out", "concat", &["x", "p", "x"], json!({"axis": axis}));
        let spliced = |inputs: &Inputs| {
            let x = inputs.images.clone().unwrap();
            splice(&[&x, &cpu::run(&padded, inputs).unwrap(), &x], axis + 1)
        };
        check_with(&format!("concat axis {axis}"), &g.model("out"), &gpus, &spliced);
    }
    let mut g = Graph::latent(13);
    g.op("m", "reduce_mean", &["z"], json!({"axes": [0], "keepdims": true}));
    g.op("out", "concat", &["z", "m", "z"], json!({"axis": 0}));
    check("concat flat 13 + 1 + 13", &g.model("out"), &gpus);
}

/// NCHW tensors joined on `dim` (1 channels, 2 rows, 3 columns).
fn splice(parts: &[&Tensor], dim: usize) -> Tensor {
    let mut shape = parts[0].shape.clone();
    shape[dim] = parts.iter().map(|p| p.shape[dim]).sum();
    let outer: usize = shape[..dim].iter().product();
    let mut data = Vec::with_capacity(shape.iter().product());
    for o in 0..outer {
        for p in parts {
            let block: usize = p.shape[dim..].iter().product();
            data.extend_from_slice(&p.data[o * block..(o + 1) * block]);
        }
    }
    Tensor::new(&shape, data).unwrap()
}

#[test]
fn embedding_and_concat_one_hot_match_cpu() {
    let gpus = gpus();
    let mut g = Graph::latent(5);
    g.inputs.push(json!({"name": "y", "role": "class", "classes": 4}));
    let w = g.tensor("emb", &[4, 6], 1.0, 0.0);
    g.op("e", "embedding", &["y"], json!({"classes": 4, "dim": 6, "weight": w}));
    g.op("c", "concat", &["z", "e"], json!({"axis": 0}));
    g.op("out", "concat_one_hot", &["c", "y"], json!({"classes": 4}));
    check("embedding + concat + concat_one_hot", &g.model("out"), &gpus);
}
