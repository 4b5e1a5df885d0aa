//! The values of a graph being lowered: constants, activations (a webgan tensor and the ONNX
//! shape it stands for) and partial GELU expressions, with the helpers that read a node's inputs
//! as one or the other.

use super::*;

/// A constant value and where it comes from (for naming the weights made from it).
#[derive(Clone, Debug)]
pub(super) struct Constant {
    pub(super) c: Rc<Const>,
    /// The ONNX value name.
    pub(super) name: String,
    /// Whether it is an initializer as stored (not computed).
    pub(super) initializer: bool,
}

/// An activation: a webgan tensor standing for an ONNX value.
#[derive(Clone, Debug)]
pub(super) struct Act {
    pub(super) tensor: String,
    /// Per-sample shape of `tensor` in webgan.
    pub(super) wshape: Vec<usize>,
    /// Per-sample ONNX shape (the ONNX shape less its batch dimension).
    pub(super) oshape: Vec<usize>,
    /// An integer class id per sample (only an embedding may read it).
    pub(super) class: bool,
    /// The webgan node whose output this ONNX value is, unchanged (BatchNormalization and bias
    /// `Add`s fold into it).
    pub(super) fresh: Option<usize>,
    /// Name for a `reshape` node, from the ONNX shape op that changed `oshape`.
    pub(super) reshape_name: Option<String>,
}

#[derive(Clone, Debug)]
pub(super) enum Value {
    Const(Constant),
    Act(Act),
    /// Part of the exact GELU `0.5·x·(1 + erf(x/√2))` as TorchScript and onnxscript export it
    /// (webgan has no erf): the stage reached and `x`.
    Gelu(GeluPart, Act),
}

/// How much of `0.5·x·(1 + erf(x/√2))` a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GeluPart {
    /// `erf(x/√2)`
    Erf,
    /// `1 + erf(x/√2)`
    OnePlus,
    /// `0.5·(1 + erf(x/√2))`
    Half,
    /// `x·(1 + erf(x/√2))`
    Times,
}

pub(super) const GELU_ONLY: &str =
    "is part of an Erf expression that is not GELU; webgan converts Erf only in 0.5·x·(1 + erf(x/√2))";

pub(super) fn act(ins: &[Option<Value>], i: usize) -> Msg<&Act> {
    match ins.get(i) {
        Some(Some(Value::Act(a))) if !a.class => Ok(a),
        Some(Some(Value::Act(_))) => {
            Err(format!("input {i} is a class id; webgan reads class inputs only in an embedding (Gather)"))
        }
        Some(Some(Value::Const(c))) => {
            Err(format!("input {i} (\"{}\") is a constant where webgan needs an activation", c.name))
        }
        Some(Some(Value::Gelu(..))) => Err(format!("input {i} {GELU_ONLY}")),
        _ => Err(format!("input {i} is missing")),
    }
}

pub(super) fn konst<'a>(ins: &'a [Option<Value>], i: usize, what: &str) -> Msg<&'a Constant> {
    match ins.get(i) {
        Some(Some(Value::Const(c))) => Ok(c),
        Some(Some(Value::Act(_))) => Err(format!(
            "its {what} (input {i}) is computed from the model's inputs; webgan needs it constant (an initializer, or computed from initializers only)"
        )),
        _ => Err(format!("its {what} (input {i}) is missing")),
    }
}

pub(super) fn opt_konst<'a>(ins: &'a [Option<Value>], i: usize, what: &str) -> Msg<Option<&'a Constant>> {
    match ins.get(i) {
        None | Some(None) => Ok(None),
        _ => konst(ins, i, what).map(Some),
    }
}

/// Pairs `[a, b]` of a two-element attribute, or the default.
pub(super) fn pair(node: &NodeProto, name: &str, default: usize) -> Msg<[usize; 2]> {
    match attr::ints(node, name) {
        None => Ok([default, default]),
        Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 0) => Ok([v[0] as usize, v[1] as usize]),
        Some(v) => Err(format!("{name} {v:?} is not supported; webgan needs two non-negative values (2-D ops only)")),
    }
}

/// The webgan shape standing for ONNX per-sample shape `oshape`, if it has one.
pub(super) fn canonical_shape(oshape: &[usize]) -> Option<Vec<usize>> {
    match oshape.len() {
        0 => Some(vec![1]),
        1 | 3 => Some(oshape.to_vec()),
        _ => None,
    }
}

pub(super) fn count(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The constants among the inputs (for ops that read axes from an input).
pub(super) fn konsts(ins: &[Option<Value>]) -> Vec<Option<Rc<Const>>> {
    ins.iter()
        .map(|v| match v {
            Some(Value::Const(c)) => Some(c.c.clone()),
            _ => None,
        })
        .collect()
}

/// ONNX's full shape `[N, …]` of a per-sample shape, for messages.
pub(super) fn full(oshape: &[usize]) -> Vec<String> {
    std::iter::once("N".to_string()).chain(oshape.iter().map(|d| d.to_string())).collect()
}
