//! Layers folded or kept: batch norm into the conv before it, reflection padding with instance
//! norm and silu, and f16 weights with external data.

use super::*;

/// A DCGAN head: latent [N, Z, 1, 1] → ConvTranspose → BatchNorm (folded) → ReLU.
#[test]
fn latent_image_and_batch_norm_folding() {
    let (z, o) = (3usize, 2usize);
    let w = seq(z * o * 16, 0.1);
    let (gamma, beta, mean, var) = ([1.5f32, 0.5], [0.1f32, -0.2], [0.3f32, -0.1], [2.0f32, 0.5]);
    let bytes = model(
        vec![value("z", 1, &["N", "3", "1", "1"])],
        vec![
            node("ConvTranspose", "/g/ConvTranspose", &["z", "w"], &["h"], vec![attr_ints("strides", &[1, 1])]),
            node(
                "BatchNormalization",
                "/g/BatchNorm",
                &["h", "gamma", "beta", "mean", "var"],
                &["hb"],
                vec![attr_f("epsilon", 1e-5)],
            ),
            node("Relu", "/g/Relu", &["hb"], &["y"], vec![]),
        ],
        vec![
            f32_tensor("w", &[z as i64, o as i64, 4, 4], &w),
            f32_tensor("gamma", &[2], &gamma),
            f32_tensor("beta", &[2], &beta),
            f32_tensor("mean", &[2], &mean),
            f32_tensor("var", &[2], &var),
        ],
        "y",
    );
    let c = convert(&bytes);
    assert_eq!(manifest(&c)["inputs"], serde_json::json!([{"role": "latent", "name": "z", "shape": [3]}]));
    assert_eq!(ops(&c), ["reshape", "conv_transpose2d", "relu"]);
    let n = nodes(&c);
    assert_eq!(n[0]["shape"], serde_json::json!([3, 1, 1]));
    let ct = find(&n, "conv_transpose2d");
    assert_eq!(ct["inputs"], serde_json::json!([n[0]["name"]]));
    let (_, wf) = weight(&c, ct["weight"].as_str().unwrap());
    let (_, bf) = weight(&c, ct["bias"].as_str().unwrap());
    for e in 0..w.len() {
        let ch = (e / 16) % o;
        let s = gamma[ch] / (var[ch] + 1e-5).sqrt();
        assert!((wf[e] - w[e] * s).abs() < 1e-6);
    }
    for ch in 0..o {
        let s = gamma[ch] / (var[ch] + 1e-5).sqrt();
        assert!((bf[ch] - (beta[ch] - mean[ch] * s)).abs() < 1e-6);
    }
    check_weights_referenced(&c);
}

/// A conv whose output is also read elsewhere keeps its batch norm as a node.
#[test]
fn batch_norm_kept_when_conv_output_is_shared() {
    let bytes = model(
        vec![value("x", 1, &["N", "2", "4", "4"])],
        vec![
            node("Conv", "conv", &["x", "w"], &["h"], vec![attr_ints("pads", &[1, 1, 1, 1])]),
            node("BatchNormalization", "bn", &["h", "g", "b", "m", "v"], &["hb"], vec![]),
            node("Add", "res", &["hb", "h"], &["s"], vec![]),
            node("LeakyRelu", "act", &["s"], &["y"], vec![attr_f("alpha", 0.2)]),
        ],
        vec![
            f32_tensor("w", &[2, 2, 3, 3], &seq(36, 0.1)),
            f32_tensor("g", &[2], &[1.0, 2.0]),
            f32_tensor("b", &[2], &[0.0, 0.5]),
            f32_tensor("m", &[2], &[0.1, 0.2]),
            f32_tensor("v", &[2], &[1.0, 1.5]),
        ],
        "y",
    );
    let c = convert(&bytes);
    assert_eq!(ops(&c), ["conv2d", "batch_norm", "add", "leaky_relu"]);
    let n = nodes(&c);
    let bn = find(&n, "batch_norm");
    assert_eq!((bn["channels"].as_u64(), bn["eps"].as_f64().map(|e| e as f32)), (Some(2), Some(1e-5)));
    assert_eq!(find(&n, "add")["inputs"], serde_json::json!(["bn", "conv"]));
    assert!((find(&n, "leaky_relu")["slope"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    check_weights_referenced(&c);
}

/// Reflection padding (as TorchScript exports it: pads computed by ops) and instance norm,
/// a CycleGAN block; and x * sigmoid(x) becomes silu.
#[test]
fn pad_instance_norm_and_silu() {
    let bytes = model(
        vec![value("x", 1, &["N", "2", "5", "5"])],
        vec![
            node("Constant", "pc", &[], &["p0"], vec![attr_t("value", i64_tensor("", &[4], &[1, 1, 1, 1]))]),
            node("ConstantOfShape", "zeros", &["four"], &["z4"], vec![attr_t("value", i64_tensor("", &[1], &[0]))]),
            node("Concat", "cat", &["p0", "z4"], &["p8"], vec![attr_i("axis", 0)]),
            node("Reshape", "rs", &["p8", "m12"], &["p42"], vec![]),
            node("Slice", "flip", &["p42", "sm1", "smin", "s0", "sm1"], &["pf"], vec![]),
            node("Transpose", "tr", &["pf"], &["pt"], vec![attr_ints("perm", &[1, 0])]),
            node("Reshape", "rs2", &["pt", "m1"], &["pads"], vec![]),
            node("Pad", "/pad/Pad", &["x", "pads"], &["xp"], vec![attr_s("mode", "reflect")]),
            node("Conv", "conv", &["xp", "w", "b"], &["h"], vec![]),
            node("InstanceNormalization", "in", &["h", "g", "bb"], &["hn"], vec![attr_f("epsilon", 1e-5)]),
            node("Sigmoid", "sig", &["hn"], &["hs"], vec![]),
            node("Mul", "silu", &["hn", "hs"], &["y"], vec![]),
        ],
        vec![
            i64_tensor("four", &[1], &[4]),
            i64_tensor("m12", &[2], &[-1, 2]),
            i64_tensor("sm1", &[1], &[-1]),
            i64_tensor("smin", &[1], &[i64::MIN]),
            i64_tensor("s0", &[1], &[0]),
            i64_tensor("m1", &[1], &[-1]),
            f32_tensor("w", &[3, 2, 3, 3], &seq(54, 0.1)),
            f32_tensor("b", &[3], &[0.0, 0.1, 0.2]),
            f32_tensor("g", &[3], &[1.0, 1.0, 1.0]),
            f32_tensor("bb", &[3], &[0.0, 0.0, 0.0]),
        ],
        "y",
    );
    let c = convert(&bytes);
    assert_eq!(ops(&c), ["pad", "conv2d", "instance_norm", "silu"]);
    let n = nodes(&c);
    assert_eq!(n[0]["pads"], serde_json::json!([1, 1, 1, 1]));
    assert_eq!(n[0]["mode"], "reflect");
    assert_eq!(find(&n, "silu")["inputs"], serde_json::json!(["in"]));
    check_weights_referenced(&c);
}

#[test]
fn f16_weights_and_external_data() {
    let values = seq(8, 0.25);
    let mut file = vec![0u8; 16];
    file.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    let external = |loc: &str| TensorProto {
        name: Some("fc.weight".into()),
        dims: vec![2, 4],
        data_type: Some(1),
        data_location: Some(DataLocation::External as i32),
        external_data: vec![
            StringStringEntryProto { key: Some("location".into()), value: Some(loc.into()) },
            StringStringEntryProto { key: Some("offset".into()), value: Some("16".into()) },
            StringStringEntryProto { key: Some("length".into()), value: Some("32".into()) },
        ],
        ..Default::default()
    };
    let make = |loc: &str| {
        let mut m = ModelProto::decode(
            model(
                vec![value("z", 1, &["N", "4"])],
                vec![
                    node("Transpose", "/fc/T", &["fc.weight"], &["wt"], vec![]),
                    node("MatMul", "/fc/MatMul", &["z", "wt"], &["y"], vec![]),
                ],
                vec![],
                "y",
            )
            .as_slice(),
        )
        .unwrap();
        m.graph.as_mut().unwrap().initializer.push(external(loc));
        m.encode_to_vec()
    };
    let mut files = HashMap::new();
    files.insert("model.onnx.data".to_string(), file.clone());
    let c = convert_with(&make("model.onnx.data"), &files, Dtype::F16).unwrap();
    assert_eq!(manifest(&c)["weights"]["dtype"], "f16");
    let lin = find(&nodes(&c), "linear").clone();
    let (shape, w) = weight(&c, lin["weight"].as_str().unwrap());
    assert_eq!(shape, vec![2, 4]);
    assert_eq!(w, values);
    check_weights_referenced(&c);

    // Missing file, hostile locations, out-of-range offsets.
    let err = convert_with(&make("model.onnx.data"), &HashMap::new(), Dtype::F32).unwrap_err().to_string();
    assert!(
        err.contains(
            r#"external data file "model.onnx.data" for tensor "fc.weight" is missing: put it beside the .onnx"#
        ),
        "{err}"
    );
    for hostile in ["../x", "/etc/passwd", "a/b", "..", ".hidden", "c:\\x", ""] {
        let err = convert_with(&make(hostile), &files, Dtype::F32).unwrap_err().to_string();
        assert!(err.contains("is not a plain file name"), "{hostile}: {err}");
    }
    files.insert("short.data".to_string(), file[..40].to_vec());
    let err = convert_with(&make("short.data"), &files, Dtype::F32).unwrap_err().to_string();
    assert!(err.contains("lies past the end of \"short.data\""), "{err}");
}
