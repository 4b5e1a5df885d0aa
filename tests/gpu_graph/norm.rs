//! Normalizations (instance, group, layer, pixel) and reduce_mean.

use serde_json::{Value, json};
use webgan::model::Inputs;
use webgan::{Model, Tensor};

use crate::{Graph, check, check_with, gpus};

#[test]
fn norms_match_cpu() {
    let gpus = gpus();
    // (input C, H, W, op, fields, with affine, offset added to the input)
    let cases: &[(usize, usize, usize, &str, Value, bool)] = &[
        (3, 5, 7, "instance_norm", json!({"channels": 3, "eps": 1e-5}), true),
        (3, 5, 7, "instance_norm", json!({"channels": 3, "eps": 1e-3}), false),
        (6, 5, 7, "group_norm", json!({"groups": 3, "channels": 6, "eps": 1e-5}), true),
        (6, 5, 7, "group_norm", json!({"groups": 2, "channels": 6, "eps": 1e-5}), false),
        (6, 5, 7, "group_norm", json!({"groups": 6, "channels": 6, "eps": 1e-5}), true),
        (3, 5, 7, "layer_norm", json!({"axis": 0, "features": 105, "eps": 1e-5}), true),
        (3, 5, 7, "layer_norm", json!({"axis": 1, "features": 35, "eps": 1e-5}), true),
        (3, 5, 7, "layer_norm", json!({"axis": 2, "features": 7, "eps": 1e-5}), false),
        (3, 60, 50, "layer_norm", json!({"axis": 0, "features": 9000, "eps": 1e-5}), false),
        (3, 5, 7, "pixel_norm", json!({"eps": 1e-8}), false),
    ];
    for (c, h, w, op, fields, affine) in cases {
        let mut g = Graph::image(*c, *h, *w);
        let mut fields = fields.clone();
        if *affine {
            let n = fields.get("features").or(fields.get("channels")).and_then(Value::as_u64).unwrap() as usize;
            fields["weight"] = json!(g.tensor("nw", &[n], 0.5, 1.0));
            fields["bias"] = json!(g.tensor("nb", &[n], 0.5, 0.0));
        }
        // An offset input checks that the variance is not taken from E[x²] − E[x]².
        g.constant("offset", &[1], 0.0, 3.0);
        g.op("shifted", "add", &["x", "offset"], json!({}));
        g.op("out", op, &["shifted"], fields.clone());
        check(&format!("{op} {fields} on [{c}, {h}, {w}]"), &g.model("out"), &gpus);
    }
    let flat: &[(&str, Value)] = &[
        ("group_norm", json!({"groups": 4, "channels": 12, "eps": 1e-5})),
        ("layer_norm", json!({"axis": 0, "features": 12, "eps": 1e-5})),
        ("pixel_norm", json!({"eps": 1e-8})),
    ];
    for (op, fields) in flat {
        let mut g = Graph::latent(12);
        g.op("out", op, &["z"], fields.clone());
        check(&format!("{op} on [12]"), &g.model("out"), &gpus);
    }
}

#[test]
fn reduce_mean_matches_cpu() {
    let gpus = gpus();
    let cases: &[(usize, usize, usize, &[usize], bool)] = &[
        (3, 5, 7, &[0], true),
        (3, 5, 7, &[1, 2], false),
        (3, 5, 7, &[1, 2], true),
        (3, 5, 7, &[0, 1, 2], false),
        (3, 5, 7, &[2], true),
        (3, 5, 7, &[0, 2], false),
        (3, 5, 7, &[0, 1], false),
        (3, 17, 19, &[1, 2], false), // 323 values per mean: a workgroup each
        (3, 17, 19, &[0, 1, 2], true),
    ];
    for &(c, h, w, axes, keepdims) in cases {
        let mut g = Graph::image(c, h, w);
        g.op("out", "reduce_mean", &["x"], json!({"axes": axes, "keepdims": keepdims}));
        let what = format!("reduce_mean {axes:?} keepdims {keepdims} on [{c}, {h}, {w}]");
        let model = g.model("out");
        if axes.len() == 3 && !keepdims {
            check_with(&what, &model, &gpus, &|inputs| mean_of_all(&model, inputs));
        } else {
            check(&what, &model, &gpus);
        }
    }
    for keepdims in [true, false] {
        let mut g = Graph::latent(13);
        g.op("out", "reduce_mean", &["z"], json!({"axes": [0], "keepdims": keepdims}));
        let model = g.model("out");
        let what = format!("reduce_mean flat keepdims {keepdims}");
        if keepdims { check(&what, &model, &gpus) } else { check_with(&what, &model, &gpus, &|i| mean_of_all(&model, i)) }
    }
}

/// The per-sample mean of every input value as `[N, 1]`: what reduce_mean over all dims
/// without keepdims gives (cpu::reduce_mean returns `[N]` there, which its graph runner's
/// shape assertion refuses).
fn mean_of_all(model: &Model, inputs: &Inputs) -> Tensor {
    let x = inputs.images.as_ref().or(inputs.latents.as_ref()).unwrap();
    let n = x.batch();
    let per = x.len() / n;
    let means = x.data.chunks(per).map(|s| (s.iter().map(|&v| v as f64).sum::<f64>() / per as f64) as f32).collect();
    assert_eq!(model.manifest.output_shape, vec![1]);
    Tensor::new(&[n, 1], means).unwrap()
}
