//! Conversions of small graphs: conv chains, constant folding, Resize modes, the class embedding
//! and the exact GELU pattern.

use super::*;

#[test]
fn conv_relu_chain() {
    let bytes = model(
        vec![value("x", 1, &["N", "3", "8", "8"])],
        vec![
            node(
                "Conv",
                "/c1/Conv",
                &["x", "w1", "b1"],
                &["h1"],
                vec![attr_ints("pads", &[1, 2, 1, 2]), attr_ints("kernel_shape", &[3, 3])],
            ),
            node("Relu", "/act/Relu", &["h1"], &["h2"], vec![]),
            node("Conv", "/c2/Conv", &["h2", "w2"], &["h3"], vec![attr_ints("strides", &[2, 2])]),
            node("Tanh", "/out/Tanh", &["h3"], &["y"], vec![]),
        ],
        vec![
            f32_tensor("w1", &[4, 3, 3, 3], &seq(108, 0.1)),
            f32_tensor("b1", &[4], &[0.1, 0.2, 0.3, 0.4]),
            f32_tensor("w2", &[2, 4, 3, 3], &seq(72, 0.1)),
        ],
        "y",
    );
    let c = convert(&bytes);
    let m = manifest(&c);
    assert_eq!(m["format"], "webgan-model/2");
    assert_eq!(m["inputs"], serde_json::json!([{"role": "image", "name": "x", "shape": [3, 8, 8]}]));
    assert_eq!(ops(&c), ["conv2d", "relu", "conv2d", "tanh"]);
    let n = nodes(&c);
    assert_eq!(n[0]["name"], "c1.Conv");
    assert_eq!(n[0]["padding"], serde_json::json!([1, 1, 2, 2]));
    assert_eq!(n[0]["weight"], "w1");
    assert_eq!(n[0]["bias"], "b1");
    assert_eq!(n[1]["inputs"], serde_json::json!(["c1.Conv"]));
    assert_eq!(n[2]["stride"], serde_json::json!([2, 2]));
    assert!(n[2].get("bias").is_none());
    assert_eq!(m["output"], "out.Tanh");
    assert!(m["description"].as_str().unwrap().contains("opset 17, producer webgan-test 1"));
    assert_eq!(m["license"], "unknown: set by the model's author");
    assert_eq!(m["source"], "test.onnx");
    check_weights_referenced(&c);
    let (shape, w) = weight(&c, "w1");
    assert_eq!(shape, vec![4, 3, 3, 3]);
    assert_eq!(w, seq(108, 0.1));
}

/// Spectral norm as ops on the weights, an equalized-learning-rate scale and a dynamic-batch
/// `view(x.size(0), 2, 2, 2)` all fold away.
#[test]
fn constant_folding_chain() {
    let (out_f, in_f) = (8usize, 4usize);
    let w_orig = seq(out_f * in_f, 0.2);
    let u: Vec<f32> = (0..out_f).map(|i| 0.3 + i as f32 * 0.05).collect();
    let v: Vec<f32> = (0..in_f).map(|i| 0.5 - i as f32 * 0.1).collect();
    let bytes = model(
        vec![value("z", 1, &["batch", "4"])],
        vec![
            node("MatMul", "/sn/MatMul", &["w_orig", "v"], &["wv"], vec![]),
            node("MatMul", "/sn/MatMul_1", &["u", "wv"], &["sigma"], vec![]),
            node("Div", "/sn/Div", &["w_orig", "sigma"], &["w_sn"], vec![]),
            node("Constant", "/eq/Constant", &[], &["c"], vec![attr_t("value", f32_tensor("", &[], &[0.5]))]),
            node("Mul", "/eq/Mul", &["w_sn", "c"], &["w"], vec![]),
            node("Gemm", "/fc/Gemm", &["z", "w", "b"], &["h"], vec![attr_i("transB", 1)]),
            node("Shape", "/Shape", &["h"], &["s"], vec![]),
            node("Constant", "/Constant_1", &[], &["zero"], vec![attr_t("value", i64_tensor("", &[], &[0]))]),
            node("Gather", "/Gather", &["s", "zero"], &["n"], vec![attr_i("axis", 0)]),
            node("Unsqueeze", "/Unsqueeze", &["n", "ax0"], &["n1"], vec![]),
            node("Concat", "/Concat", &["n1", "rest"], &["shape"], vec![attr_i("axis", 0)]),
            node("Reshape", "/view/Reshape", &["h", "shape"], &["r"], vec![]),
            node("Mul", "/scale/Mul", &["r", "gain"], &["y0"], vec![]),
            node("Relu", "/relu", &["y0"], &["y"], vec![]),
        ],
        vec![
            f32_tensor("w_orig", &[out_f as i64, in_f as i64], &w_orig),
            f32_tensor("u", &[out_f as i64], &u),
            f32_tensor("v", &[in_f as i64], &v),
            f32_tensor("b", &[out_f as i64], &seq(out_f, 0.01)),
            i64_tensor("ax0", &[1], &[0]),
            i64_tensor("rest", &[3], &[2, 2, 2]),
            f32_tensor("gain", &[], &[1.5]),
        ],
        "y",
    );
    let c = convert(&bytes);
    // The reshape is emitted where a consumer needs the [2, 2, 2] shape: at the output.
    assert_eq!(ops(&c), ["linear", "constant", "mul", "relu", "reshape"]);
    let n = nodes(&c);
    let lin = find(&n, "linear");
    assert_eq!((lin["in_features"].as_u64(), lin["out_features"].as_u64()), (Some(4), Some(8)));
    assert_eq!(lin["bias"], "b");
    assert_eq!(find(&n, "reshape")["shape"], serde_json::json!([2, 2, 2]));
    assert_eq!(find(&n, "reshape")["order"], "channels_first");
    assert_eq!(find(&n, "constant")["tensor"], "gain");
    assert_eq!(find(&n, "mul")["inputs"], serde_json::json!(["fc.Gemm", "gain"]));
    assert_eq!(find(&n, "reshape")["name"], "view.Reshape");
    assert_eq!(manifest(&c)["output"], "view.Reshape");
    // The folded weight: w_orig / (u · (W v)) · 0.5.
    let wv: Vec<f32> = (0..out_f).map(|o| (0..in_f).map(|i| w_orig[o * in_f + i] * v[i]).sum()).collect();
    let sigma: f32 = u.iter().zip(&wv).map(|(a, b)| a * b).sum();
    let (shape, w) = weight(&c, lin["weight"].as_str().unwrap());
    assert_eq!(shape, vec![8, 4]);
    for (got, orig) in w.iter().zip(&w_orig) {
        assert!((got - orig / sigma * 0.5).abs() < 1e-6, "{got} vs {}", orig / sigma * 0.5);
    }
    assert_eq!(weight(&c, "gain"), (vec![1], vec![1.5]));
    assert_eq!(manifest(&c)["inputs"], serde_json::json!([{"role": "latent", "name": "z", "shape": [4]}]));
    check_weights_referenced(&c);
}

#[test]
fn resize_modes() {
    let build = |mode: &str, ctm: &str, nearest: &str| {
        model(
            vec![value("x", 1, &["N", "2", "4", "4"])],
            vec![node(
                "Resize",
                "/up/Resize",
                &["x", "", "scales"],
                &["y"],
                vec![
                    attr_s("mode", mode),
                    attr_s("coordinate_transformation_mode", ctm),
                    attr_s("nearest_mode", nearest),
                ],
            )],
            vec![f32_tensor("scales", &[4], &[1.0, 1.0, 2.0, 2.0])],
            "y",
        )
    };
    let c = convert(&build("nearest", "asymmetric", "floor"));
    let n = nodes(&c);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0]["op"], "upsample");
    assert_eq!(n[0]["scale"], serde_json::json!([2, 2]));
    assert_eq!(n[0]["mode"], "nearest");
    assert_eq!(n[0]["align_corners"], false);

    let c = convert(&build("linear", "pytorch_half_pixel", "floor"));
    let n = nodes(&c);
    assert_eq!((n[0]["mode"].as_str(), n[0]["align_corners"].as_bool()), (Some("bilinear"), Some(false)));
    let c = convert(&build("linear", "align_corners", "floor"));
    assert_eq!(nodes(&c)[0]["align_corners"], true);

    let err = convert_err(&build("cubic", "half_pixel", "floor"));
    assert!(
        err.contains(
            r#"node "/up/Resize" (Resize): mode "cubic" is not supported; webgan supports nearest and linear"#
        ),
        "{err}"
    );
    let err = convert_err(&build("nearest", "asymmetric", "ceil"));
    assert!(err.contains("does not repeat each pixel"), "{err}");

    // `sizes` instead of scales, with the batch as a number.
    let bytes = model(
        vec![value("x", 1, &["1", "2", "4", "4"])],
        vec![node("Resize", "up", &["x", "", "", "sizes"], &["y"], vec![attr_s("mode", "nearest")])],
        vec![i64_tensor("sizes", &[4], &[1, 2, 12, 8])],
        "y",
    );
    assert_eq!(nodes(&convert(&bytes))[0]["scale"], serde_json::json!([3, 2]));
}

/// A conditional generator: an embedding of the class, concatenated with the latent.
#[test]
fn gather_embedding() {
    let bytes = model(
        vec![value("z", 1, &["N", "4"]), value("label", 7, &["N"])],
        vec![
            node("Gather", "/emb/Gather", &["emb.weight", "label"], &["e"], vec![]),
            node("Concat", "/cat", &["z", "e"], &["h"], vec![attr_i("axis", 1)]),
            node("Gemm", "/fc/Gemm", &["h", "fc.weight", "fc.bias"], &["y0"], vec![attr_i("transB", 1)]),
            node("Sigmoid", "/sig", &["y0"], &["y"], vec![]),
        ],
        vec![
            f32_tensor("emb.weight", &[10, 6], &seq(60, 0.1)),
            f32_tensor("fc.weight", &[5, 10], &seq(50, 0.1)),
            f32_tensor("fc.bias", &[5], &seq(5, 0.1)),
        ],
        "y",
    );
    let c = convert(&bytes);
    let m = manifest(&c);
    assert_eq!(
        m["inputs"],
        serde_json::json!([{"role": "latent", "name": "z", "shape": [4]}, {"role": "class", "name": "label", "classes": 10}])
    );
    assert_eq!(ops(&c), ["embedding", "concat", "linear", "sigmoid"]);
    let n = nodes(&c);
    let e = find(&n, "embedding");
    assert_eq!(
        (e["classes"].as_u64(), e["dim"].as_u64(), e["weight"].as_str()),
        (Some(10), Some(6), Some("emb.weight"))
    );
    assert_eq!(e["inputs"], serde_json::json!(["label"]));
    assert_eq!(find(&n, "concat")["axis"], 0);
    assert_eq!(find(&n, "concat")["inputs"], serde_json::json!(["z", "emb.Gather"]));
    check_weights_referenced(&c);
}

/// The exact GELU as the exporters write it, `Div(x, √2) → Erf → Add 1 → Mul x → Mul 0.5` (and
/// onnxscript's order, `0.5 · (1 + erf)` then `· x`), becomes one `gelu` node; another use of
/// Erf is refused.
#[test]
fn erf_gelu_pattern() {
    let build = |tail: Vec<NodeProto>, last: &str| {
        let mut nodes = vec![
            node("Gemm", "fc", &["z", "w"], &["x"], vec![attr_i("transB", 1)]),
            node("Div", "/act/Div", &["x", "sqrt2"], &["d"], vec![]),
            node("Erf", "/act/Erf", &["d"], &["e"], vec![]),
            node("Add", "/act/Add", &["e", "one"], &["p"], vec![]),
        ];
        nodes.extend(tail);
        model(
            vec![value("z", 1, &["N", "4"])],
            nodes,
            vec![
                f32_tensor("w", &[3, 4], &seq(12, 0.1)),
                f32_tensor("sqrt2", &[], &[std::f32::consts::SQRT_2]),
                f32_tensor("one", &[], &[1.0]),
                f32_tensor("half", &[], &[0.5]),
            ],
            last,
        )
    };
    let torchscript = build(
        vec![
            node("Mul", "/act/Mul", &["x", "p"], &["m"], vec![]),
            node("Mul", "/act/Mul_1", &["m", "half"], &["y"], vec![]),
        ],
        "y",
    );
    let c = convert(&torchscript);
    assert_eq!(ops(&c), ["linear", "gelu"]);
    assert_eq!(nodes(&c)[1]["approximate"], "none");
    assert_eq!(nodes(&c)[1]["inputs"], serde_json::json!(["fc"]));
    check_weights_referenced(&c);
    let onnxscript = build(
        vec![node("Mul", "h", &["half", "p"], &["hp"], vec![]), node("Mul", "g", &["x", "hp"], &["y"], vec![])],
        "y",
    );
    assert_eq!(ops(&convert(&onnxscript)), ["linear", "gelu"]);
    let not_gelu = build(vec![node("Relu", "r", &["p"], &["y"], vec![])], "y");
    let err = convert_err(&not_gelu);
    assert!(err.contains(r#"node "r" (Relu)"#) && err.contains("GELU"), "{err}");
}
