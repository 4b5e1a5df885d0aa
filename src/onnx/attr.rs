//! Reading a node's attributes, with ONNX's defaults, and the one-line error that names a node.

use crate::error::Error;
use crate::onnx::proto::{AttributeProto, NodeProto, TensorProto};

/// A message about a node, before it names the node.
pub(crate) type Msg<T> = std::result::Result<T, String>;

/// `node "NAME" (OP): MESSAGE`.
pub(crate) fn node_error(node: &NodeProto, message: impl std::fmt::Display) -> Error {
    Error::Input(format!("node \"{}\" ({}): {message}", node.name().escape_debug(), node.op_type().escape_debug()))
}

fn find<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name() == name)
}

/// Integer attribute `name`, or `default`.
pub(crate) fn int(node: &NodeProto, name: &str, default: i64) -> i64 {
    find(node, name).and_then(|a| a.i).unwrap_or(default)
}

/// Float attribute `name`, or `default`.
pub(crate) fn float(node: &NodeProto, name: &str, default: f32) -> f32 {
    find(node, name).and_then(|a| a.f).unwrap_or(default)
}

/// String attribute `name`, or `default`.
pub(crate) fn string(node: &NodeProto, name: &str, default: &str) -> String {
    match find(node, name).and_then(|a| a.s.as_ref()) {
        Some(s) => String::from_utf8_lossy(s).into_owned(),
        None => default.to_string(),
    }
}

/// Integer-list attribute `name`, if present.
pub(crate) fn ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    find(node, name).map(|a| a.ints.clone())
}

/// Float-list attribute `name`, if present.
pub(crate) fn floats(node: &NodeProto, name: &str) -> Option<Vec<f32>> {
    find(node, name).map(|a| a.floats.clone())
}

/// Tensor attribute `name`, if present.
pub(crate) fn tensor<'a>(node: &'a NodeProto, name: &str) -> Option<&'a TensorProto> {
    find(node, name).and_then(|a| a.t.as_ref())
}

/// Whether attribute `name` is present at all.
pub(crate) fn has(node: &NodeProto, name: &str) -> bool {
    find(node, name).is_some()
}

/// Normalizes a possibly negative axis of a tensor of rank `rank`.
pub(crate) fn axis(a: i64, rank: usize) -> Msg<usize> {
    let r = rank as i64;
    if a < -r || a >= r {
        return Err(format!("axis {a} is out of range for rank {rank}"));
    }
    Ok(if a < 0 { (a + r) as usize } else { a as usize })
}
