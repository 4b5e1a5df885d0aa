//! ONNX import (`webgan::onnx`): small models built here with the generated protobuf types are
//! converted and their format-2 manifests checked node by node; hostile and unsupported files
//! fail with one-line errors that name the node or tensor. The real PyTorch exports under
//! tests/fixtures/onnx/ are converted too (see `fixtures_convert`).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::HashMap;

use prost::Message;
use serde_json::Value;
use webgan::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType, tensor_proto::DataLocation,
    tensor_shape_proto, type_proto,
};
use webgan::onnx::{self, Converted, Dtype, Options};

#[path = "onnx_import/bad_input.rs"]
mod bad_input;
#[path = "onnx_import/conversions.rs"]
mod conversions;
#[path = "onnx_import/fixtures.rs"]
mod fixtures;
#[path = "onnx_import/layers.rs"]
mod layers;

// ---- building models ----

fn f32_tensor(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(1),
        raw_data: Some(values.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

fn i64_tensor(name: &str, dims: &[i64], values: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(7),
        int64_data: values.to_vec(),
        ..Default::default()
    }
}

fn attr_i(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(v),
        ..Default::default()
    }
}

fn attr_f(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(v),
        ..Default::default()
    }
}

fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn attr_s(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::String as i32),
        s: Some(v.as_bytes().to_vec()),
        ..Default::default()
    }
}

fn attr_t(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Tensor as i32),
        t: Some(t),
        ..Default::default()
    }
}

fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(name.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

/// A tensor value: `dims` of numbers, or "N" for the symbolic batch.
fn value(name: &str, elem: i32, dims: &[&str]) -> ValueInfoProto {
    use tensor_shape_proto::{Dimension, dimension::Value as D};
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d.parse::<i64>() {
                Ok(v) => D::DimValue(v),
                Err(_) => D::DimParam(d.to_string()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn model_with(
    opset: i64,
    inputs: Vec<ValueInfoProto>,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    output: &str,
) -> Vec<u8> {
    let graph = GraphProto {
        name: Some("test".into()),
        node: nodes,
        initializer: inits,
        input: inputs,
        output: vec![value(output, 1, &[])],
        ..Default::default()
    };
    ModelProto {
        ir_version: Some(8),
        producer_name: Some("webgan-test".into()),
        producer_version: Some("1".into()),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(opset) }],
        graph: Some(graph),
        ..Default::default()
    }
    .encode_to_vec()
}

fn model(inputs: Vec<ValueInfoProto>, nodes: Vec<NodeProto>, inits: Vec<TensorProto>, output: &str) -> Vec<u8> {
    model_with(17, inputs, nodes, inits, output)
}

fn options(dtype: Dtype) -> Options {
    Options { dtype, name: "test".into(), source: "test.onnx".into() }
}

fn convert_with(bytes: &[u8], files: &HashMap<String, Vec<u8>>, dtype: Dtype) -> webgan::Result<Converted> {
    let mut external = |location: &str| -> webgan::Result<Vec<u8>> {
        files.get(location).cloned().ok_or_else(|| webgan::Error::Io {
            path: location.to_string(),
            source: std::io::ErrorKind::NotFound.into(),
        })
    };
    onnx::import(bytes, &mut external, &options(dtype))
}

fn convert(bytes: &[u8]) -> Converted {
    match convert_with(bytes, &HashMap::new(), Dtype::F32) {
        Ok(c) => c,
        Err(e) => panic!("conversion failed: {e}"),
    }
}

fn convert_err(bytes: &[u8]) -> String {
    match convert_with(bytes, &HashMap::new(), Dtype::F32) {
        Ok(c) => panic!("conversion should fail but gave\n{}", c.manifest_json),
        Err(e) => {
            let s = e.to_string();
            assert!(!s.contains('\n'), "error is not one line: {s}");
            s
        }
    }
}

fn manifest(c: &Converted) -> Value {
    serde_json::from_str(&c.manifest_json).expect("model.json is JSON")
}

fn nodes(c: &Converted) -> Vec<Value> {
    manifest(c)["nodes"].as_array().expect("nodes").clone()
}

fn ops(c: &Converted) -> Vec<String> {
    nodes(c).iter().map(|n| n["op"].as_str().unwrap_or("?").to_string()).collect()
}

fn find<'a>(nodes: &'a [Value], op: &str) -> &'a Value {
    nodes.iter().find(|n| n["op"] == op).unwrap_or_else(|| panic!("no {op} node in {nodes:#?}"))
}

fn weight(c: &Converted, name: &str) -> (Vec<usize>, Vec<f32>) {
    let st = safetensors::SafeTensors::deserialize(&c.weights).expect("safetensors");
    let t = st.tensor(name).unwrap_or_else(|_| panic!("weight {name} missing"));
    let values = match t.dtype() {
        safetensors::Dtype::F32 => {
            t.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        }
        safetensors::Dtype::F16 => {
            t.data().chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()
        }
        d => panic!("dtype {d:?}"),
    };
    (t.shape().to_vec(), values)
}

/// The converted model loads with webgan's own loader; every stored weight is read by a node,
/// and every read weight is stored.
fn check_weights_referenced(c: &Converted) {
    if let Err(e) = webgan::Model::from_parts(&c.manifest_json, &c.weights) {
        panic!("the converted model does not load: {e}\n{}", c.manifest_json);
    }
    let st = safetensors::SafeTensors::deserialize(&c.weights).expect("safetensors");
    let stored: std::collections::BTreeSet<String> = st.names().into_iter().map(|s| s.to_string()).collect();
    let mut read = std::collections::BTreeSet::new();
    for n in nodes(c) {
        for key in ["weight", "bias", "running_mean", "running_var", "tensor"] {
            if let Some(w) = n.get(key).and_then(Value::as_str) {
                read.insert(w.to_string());
            }
        }
    }
    assert_eq!(stored, read, "stored weights differ from the weights nodes read");
    let m = manifest(c);
    assert_eq!(m["weights"]["bytes"].as_u64(), Some(c.weights.len() as u64));
    let sha: String = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&c.weights))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(m["weights"]["sha256"].as_str(), Some(sha.as_str()));
}

fn seq(n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) * scale).collect()
}
