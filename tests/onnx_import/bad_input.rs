//! Bad input: unsupported ops, corrupt protobuf, size mismatches, hostile sizes and opsets, and
//! graphs with too many nodes fail with one-line errors.

use super::*;

#[test]
fn unsupported_op_names_node() {
    let bytes = model(
        vec![value("z", 1, &["N", "4"])],
        vec![node("Softplus", "/act/Softplus", &["z"], &["y"], vec![])],
        vec![],
        "y",
    );
    let err = convert_err(&bytes);
    assert!(
        err.contains(r#"node "/act/Softplus" (Softplus): unsupported op; webgan supports Conv, ConvTranspose, "#),
        "{err}"
    );
}

#[test]
fn truncated_and_corrupt_protobuf() {
    let bytes = model(
        vec![value("x", 1, &["N", "3", "8", "8"])],
        vec![node("Conv", "c", &["x", "w"], &["y"], vec![])],
        vec![f32_tensor("w", &[4, 3, 3, 3], &seq(108, 0.1))],
        "y",
    );
    for cut in [bytes.len() / 2, bytes.len() - 1, 7] {
        let err = convert_err(&bytes[..cut]);
        assert!(err.contains("not a valid ONNX model"), "{cut}: {err}");
    }
    let err = convert_err(b"this is not protobuf at all");
    assert!(err.contains("not a valid ONNX model"), "{err}");
    let err = convert_err(&[]);
    assert!(err.contains("no graph"), "{err}");
}

#[test]
fn raw_data_size_mismatch() {
    let mut w = f32_tensor("w", &[4], &[1.0, 2.0, 3.0, 4.0]);
    w.raw_data.as_mut().unwrap().truncate(8);
    let bytes =
        model(vec![value("z", 1, &["N", "4"])], vec![node("Mul", "m", &["z", "w"], &["y"], vec![])], vec![w], "y");
    let err = convert_err(&bytes);
    assert!(err.contains(r#"tensor "w": raw data has 8 bytes but shape [4] of float needs 16"#), "{err}");
}

#[test]
fn hostile_sizes_and_opsets() {
    // Dimensions whose product overflows, or exceeds the element cap.
    let huge = TensorProto {
        name: Some("w".into()),
        dims: vec![1 << 20, 1 << 20, 1 << 20],
        data_type: Some(1),
        ..Default::default()
    };
    let bytes =
        model(vec![value("z", 1, &["N", "4"])], vec![node("Mul", "m", &["z", "w"], &["y"], vec![])], vec![huge], "y");
    let err = convert_err(&bytes);
    assert!(err.contains("tensor \"w\""), "{err}");
    let neg = TensorProto { name: Some("w".into()), dims: vec![-4], data_type: Some(1), ..Default::default() };
    let bytes =
        model(vec![value("z", 1, &["N", "4"])], vec![node("Mul", "m", &["z", "w"], &["y"], vec![])], vec![neg], "y");
    assert!(convert_err(&bytes).contains("negative dimension"));

    // A ConstantOfShape asked for 2^40 values.
    let bytes = model(
        vec![value("z", 1, &["N", "4"])],
        vec![node("ConstantOfShape", "big", &["s"], &["c"], vec![]), node("Mul", "m", &["z", "c"], &["y"], vec![])],
        vec![i64_tensor("s", &[2], &[1 << 20, 1 << 20])],
        "y",
    );
    let err = convert_err(&bytes);
    assert!(err.contains(r#"node "big" (ConstantOfShape)"#) && err.contains("at most"), "{err}");

    let bytes =
        model_with(11, vec![value("z", 1, &["N", "4"])], vec![node("Relu", "r", &["z"], &["y"], vec![])], vec![], "y");
    let err = convert_err(&bytes);
    assert!(err.contains("opset 11 is not supported"), "{err}");

    // Dynamic image size.
    let bytes =
        model(vec![value("x", 1, &["N", "3", "H", "W"])], vec![node("Relu", "r", &["x"], &["y"], vec![])], vec![], "y");
    let err = convert_err(&bytes);
    assert!(err.contains(r#"graph input "x""#) && err.contains("dynamic"), "{err}");

    // A grouped conv and a batch-moving reshape name their nodes.
    let bytes = model(
        vec![value("x", 1, &["N", "4", "4", "4"])],
        vec![node("Conv", "/dw/Conv", &["x", "w"], &["y"], vec![attr_i("group", 4)])],
        vec![f32_tensor("w", &[4, 1, 3, 3], &seq(36, 0.1))],
        "y",
    );
    let err = convert_err(&bytes);
    assert!(err.contains(r#"node "/dw/Conv" (Conv): group 4 is not supported"#), "{err}");
    let bytes = model(
        vec![value("x", 1, &["N", "4", "4", "4"])],
        vec![node("Reshape", "/r", &["x", "s"], &["y"], vec![])],
        vec![i64_tensor("s", &[2], &[4, -1])],
        "y",
    );
    let err = convert_err(&bytes);
    assert!(err.contains(r#"node "/r" (Reshape): reshapes to [4, -1]"#), "{err}");
}

/// A graph with more nodes than `MAX_ONNX_NODES` is refused before any node is looked at.
#[test]
fn too_many_nodes() {
    let n = onnx::MAX_ONNX_NODES + 1;
    let nodes: Vec<NodeProto> =
        (0..n).map(|i| node("Relu", "", &[if i == 0 { "z" } else { "h" }], &["h"], vec![])).collect();
    let err = convert_err(&model(vec![value("z", 1, &["N", "4"])], nodes, vec![], "h"));
    assert!(err.contains(&format!("the graph has {n} nodes; webgan converts at most")), "{err}");
}
