//! Graphs: named inputs with a role, nodes naming the tensors they read, one output. Format 2
//! (`webgan-model/2`, docs/model-format-2.md) is parsed here; a format-1 layer chain is lowered
//! to the same form, so the CPU reference runs one kind of model.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::limits::{MAX_LAYERS, MAX_MANIFEST_BYTES};
use crate::model::graph_op::{FIELDLESS, GRAPH_OPS, GraphOp, NodeOp};
use crate::model::manifest::{Manifest, WeightsSpec};
use crate::model::{Layer, strict_json};

/// The graph manifest format.
pub const FORMAT2: &str = "webgan-model/2";

/// Format-1 ops a graph node may use as they are (the rest have graph forms in [`GraphOp`]).
const LAYER_OPS: &[&str] = &["linear", "batch_norm", "reshape", "conv_transpose2d", "conv2d", "concat_one_hot"];

/// A graph input and its role.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum Input {
    /// A float vector `[Z]` per sample.
    Latent { name: String, shape: Vec<usize> },
    /// One integer id in `0..classes` per sample.
    Class { name: String, classes: usize },
    /// A float image `[C, H, W]` per sample, in [-1, 1].
    Image { name: String, shape: Vec<usize> },
}

impl Input {
    /// The input's name.
    pub fn name(&self) -> &str {
        match self {
            Input::Latent { name, .. } | Input::Class { name, .. } | Input::Image { name, .. } => name,
        }
    }

    /// `latent`, `class` or `image`.
    pub fn role(&self) -> &'static str {
        match self {
            Input::Latent { .. } => "latent",
            Input::Class { .. } => "class",
            Input::Image { .. } => "image",
        }
    }
}

/// One node: an op, the names of the values it reads, and its own name (its output's).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub inputs: Vec<String>,
    pub op: NodeOp,
}

/// A parsed graph (not yet checked: see `graph_check`).
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub inputs: Vec<Input>,
    pub nodes: Vec<Node>,
    pub output: String,
}

/// The fields of a format-2 manifest besides `nodes`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    format: String,
    name: String,
    description: String,
    license: String,
    source: String,
    weights: WeightsSpec,
    inputs: Vec<Input>,
    nodes: Vec<Value>,
    output: String,
}

/// The `format` field of a manifest's text (to pick the parser), if it has one.
pub fn format_of(json: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Format {
        format: String,
    }
    serde_json::from_str::<Format>(json).ok().map(|f| f.format)
}

/// Parses a format-2 `model.json` into its metadata (a [`Manifest`] with no layers; latent_dim,
/// num_classes and output_shape are filled in by the checks) and its graph. Strict as format 1:
/// bounded text, no duplicate keys, no unknown fields, at most [`MAX_LAYERS`] nodes.
pub fn parse(json: &str) -> Result<(Manifest, Graph)> {
    if json.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::Manifest(format!(
            "model.json has {} bytes; webgan reads manifests of at most {MAX_MANIFEST_BYTES}",
            json.len()
        )));
    }
    let value = strict_json::parse(json, MAX_LAYERS).map_err(|e| Error::Manifest(e.to_string()))?;
    let head: Head = serde_json::from_value(value).map_err(|e| Error::Manifest(e.to_string()))?;
    if head.format != FORMAT2 {
        return Err(Error::Manifest(format!("format is `{}` but this parser reads `{FORMAT2}`", head.format)));
    }
    head.weights.check()?;
    let nodes = head.nodes.into_iter().enumerate().map(|(i, raw)| parse_node(i, raw)).collect::<Result<Vec<_>>>()?;
    let manifest = Manifest {
        format: head.format,
        name: head.name,
        description: head.description,
        license: head.license,
        source: head.source,
        latent_dim: 0,
        num_classes: None,
        output_shape: vec![],
        weights: head.weights,
        layers: vec![],
    };
    Ok((manifest, Graph { inputs: head.inputs, nodes, output: head.output }))
}

/// One node object: `name`, `inputs`, `op` and the op's fields.
fn parse_node(index: usize, raw: Value) -> Result<Node> {
    let Value::Object(mut fields) = raw else {
        return Err(Error::Manifest(format!("node {index} is not an object")));
    };
    let name = match fields.remove("name") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => return Err(Error::Manifest(format!("node {index} needs a non-empty string `name`"))),
    };
    let op = fields.get("op").and_then(Value::as_str).unwrap_or("").to_string();
    let err = |message: String| Error::node(&name, if op.is_empty() { "?" } else { &op }, message);
    let inputs = match fields.remove("inputs") {
        Some(Value::Array(list)) => list
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(err(format!("inputs must be names, not {other}"))),
            })
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(err("needs a list `inputs` of value names".into())),
    };
    let extra = fields.keys().find(|k| *k != "op").cloned();
    let raw = Value::Object(fields);
    let node_op = if GRAPH_OPS.contains(&op.as_str()) {
        if let (true, Some(extra)) = (FIELDLESS.contains(&op.as_str()), extra) {
            return Err(err(format!("unknown field `{extra}`; `{op}` takes no fields")));
        }
        NodeOp::Graph(serde_json::from_value::<GraphOp>(raw).map_err(|e| err(e.to_string()))?)
    } else if LAYER_OPS.contains(&op.as_str()) {
        NodeOp::Layer(serde_json::from_value::<Layer>(raw).map_err(|e| err(e.to_string()))?)
    } else {
        let mut all: Vec<&str> = LAYER_OPS.iter().chain(GRAPH_OPS).copied().collect();
        all.sort_unstable();
        return Err(err(format!("unsupported op `{op}`; webgan supports {}", all.join(", "))));
    };
    Ok(Node { name, inputs, op: node_op })
}

/// The graph of a format-1 chain: input `z` (and `class` for conditional models), one node per
/// layer named `layer{i}`, each reading the one before.
pub fn lower(manifest: &Manifest) -> Graph {
    let mut inputs = vec![Input::Latent { name: "z".into(), shape: vec![manifest.latent_dim] }];
    if let Some(classes) = manifest.num_classes {
        inputs.push(Input::Class { name: "class".into(), classes });
    }
    let mut previous = "z".to_string();
    let mut nodes = Vec::with_capacity(manifest.layers.len());
    for (i, layer) in manifest.layers.iter().enumerate() {
        let name = format!("layer{i}");
        let mut reads = vec![previous.clone()];
        if matches!(layer, Layer::ConcatOneHot { .. }) {
            reads.push("class".into());
        }
        nodes.push(Node { name: name.clone(), inputs: reads, op: NodeOp::Layer(layer.clone()) });
        previous = name;
    }
    Graph { inputs, nodes, output: previous }
}
