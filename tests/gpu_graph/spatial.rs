//! Spatial and shape ops: pad, upsample, avg_pool2d, reshape.

use serde_json::{Value, json};

use crate::{Graph, check, gpus};

#[test]
fn pad_upsample_and_pool_match_cpu() {
    let gpus = gpus();
    let mut cases: Vec<(&str, Value)> = Vec::new();
    for mode in ["zero", "reflect", "replicate"] {
        for pads in [[1, 2, 3, 0], [2, 4, 6, 1]] {
            cases.push(("pad", json!({"pads": pads, "mode": mode})));
        }
    }
    cases.push(("upsample", json!({"scale": [2, 3]})));
    for align in [false, true] {
        for scale in [[2, 3], [1, 2], [3, 1]] {
            cases.push(("upsample", json!({"scale": scale, "mode": "bilinear", "align_corners": align})));
        }
    }
    for include in [true, false] {
        cases.push(("avg_pool2d", json!({"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1, 1, 1], "count_include_pad": include})));
        cases.push(("avg_pool2d", json!({"kernel": [3, 2], "stride": [3, 1], "padding": [1, 1, 0, 1], "count_include_pad": include})));
    }
    cases.push(("avg_pool2d", json!({"kernel": [2, 3], "stride": [1, 2], "padding": [0, 0, 0, 0], "count_include_pad": false})));
    for (op, fields) in cases {
        let mut g = Graph::image(3, 5, 7);
        g.op("out", op, &["x"], fields.clone());
        check(&format!("{op} {fields}"), &g.model("out"), &gpus);
    }
}

#[test]
fn reshapes_match_cpu() {
    let gpus = gpus();
    for order in ["channels_first", "channels_last"] {
        let mut g = Graph::latent(30);
        g.op("img", "reshape", &["z"], json!({"shape": [6, 1, 5], "order": order}));
        g.op("t", "tanh", &["img"], json!({}));
        g.op("out", "reshape", &["t"], json!({"shape": [3, 2, 5], "order": order}));
        check(&format!("reshape {order}"), &g.model("out"), &gpus);
        let mut g = Graph::image(3, 5, 7);
        g.op("out", "reshape", &["x"], json!({"shape": [105], "order": order}));
        check(&format!("reshape to flat {order}"), &g.model("out"), &gpus);
    }
}
