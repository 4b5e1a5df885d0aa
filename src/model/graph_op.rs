//! The ops only graph models (format 2) have, as written in `model.json`: broadcasts, concat,
//! norms, elementwise functions, padding, resizing, embedding and pooling. A graph node holds
//! either one of these or a format-1 [`Layer`](crate::model::Layer) (see [`NodeOp`]).

use serde::{Deserialize, Serialize};

use crate::model::Layer;

/// How `upsample` interpolates.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UpsampleMode {
    #[default]
    Nearest,
    Bilinear,
}

/// What `pad` fills the border with.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    Zero,
    Reflect,
    Replicate,
}

/// `gelu`'s formula: exact (erf) or PyTorch's tanh approximation.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GeluApproximate {
    #[default]
    None,
    Tanh,
}

/// A graph-only op (the format-2 additions of docs/model-format-2.md).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum GraphOp {
    /// A weights tensor as a value shared by the whole batch.
    Constant { tensor: String },
    Add,
    Sub,
    Mul,
    Div,
    /// Concatenation on a per-sample axis (0: channels or features).
    Concat { axis: usize },
    InstanceNorm { channels: usize, eps: f32, weight: Option<String>, bias: Option<String> },
    PixelNorm { eps: f32 },
    GroupNorm { groups: usize, channels: usize, eps: f32, weight: Option<String>, bias: Option<String> },
    /// Normalizes per-sample dims `axis..`, which hold `features` values; affine of `[features]`.
    LayerNorm { axis: usize, features: usize, eps: f32, weight: Option<String>, bias: Option<String> },
    ReduceMean { axes: Vec<usize>, keepdims: bool },
    Sqrt,
    Reciprocal,
    Pow { exponent: f32 },
    Relu,
    LeakyRelu { slope: f32 },
    Elu { alpha: f32 },
    Silu,
    Gelu {
        #[serde(default)]
        approximate: GeluApproximate,
    },
    Sigmoid,
    Tanh,
    Clamp { min: f32, max: f32 },
    /// Learned negative slope per channel (`channels` = C) or shared (`channels` = 1).
    Prelu { channels: usize, weight: String },
    Pad { pads: [usize; 4], mode: PadMode },
    Upsample {
        scale: [usize; 2],
        #[serde(default)]
        mode: UpsampleMode,
        #[serde(default)]
        align_corners: bool,
    },
    Embedding { classes: usize, dim: usize, weight: String },
    AvgPool2d { kernel: [usize; 2], stride: [usize; 2], padding: [usize; 4], count_include_pad: bool },
}

/// The op names [`GraphOp`] parses (format-1 names not listed here parse as a [`Layer`]).
pub const GRAPH_OPS: &[&str] = &[
    "constant", "add", "sub", "mul", "div", "concat", "instance_norm", "pixel_norm", "group_norm",
    "layer_norm", "reduce_mean", "sqrt", "reciprocal", "pow", "relu", "leaky_relu", "elu", "silu",
    "gelu", "sigmoid", "tanh", "clamp", "prelu", "pad", "upsample", "embedding", "avg_pool2d",
];

/// Ops without fields (extra fields on them are refused by hand: serde ignores them).
pub const FIELDLESS: &[&str] = &["add", "sub", "mul", "div", "sqrt", "reciprocal", "relu", "silu", "sigmoid", "tanh"];

/// What a graph node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeOp {
    /// A format-1 layer (linear, convolutions, batch norm, reshape, concat_one_hot).
    Layer(Layer),
    Graph(GraphOp),
}

impl GraphOp {
    /// The op name as written in `model.json`.
    pub fn name(&self) -> &'static str {
        match self {
            GraphOp::Constant { .. } => "constant",
            GraphOp::Add => "add",
            GraphOp::Sub => "sub",
            GraphOp::Mul => "mul",
            GraphOp::Div => "div",
            GraphOp::Concat { .. } => "concat",
            GraphOp::InstanceNorm { .. } => "instance_norm",
            GraphOp::PixelNorm { .. } => "pixel_norm",
            GraphOp::GroupNorm { .. } => "group_norm",
            GraphOp::LayerNorm { .. } => "layer_norm",
            GraphOp::ReduceMean { .. } => "reduce_mean",
            GraphOp::Sqrt => "sqrt",
            GraphOp::Reciprocal => "reciprocal",
            GraphOp::Pow { .. } => "pow",
            GraphOp::Relu => "relu",
            GraphOp::LeakyRelu { .. } => "leaky_relu",
            GraphOp::Elu { .. } => "elu",
            GraphOp::Silu => "silu",
            GraphOp::Gelu { .. } => "gelu",
            GraphOp::Sigmoid => "sigmoid",
            GraphOp::Tanh => "tanh",
            GraphOp::Clamp { .. } => "clamp",
            GraphOp::Prelu { .. } => "prelu",
            GraphOp::Pad { .. } => "pad",
            GraphOp::Upsample { .. } => "upsample",
            GraphOp::Embedding { .. } => "embedding",
            GraphOp::AvgPool2d { .. } => "avg_pool2d",
        }
    }

    /// Every weights tensor this op reads with the shape it must have (a constant's shape is
    /// whatever the file holds: `None`).
    pub fn tensors(&self) -> Vec<(&str, Option<Vec<usize>>)> {
        fn both<'a>(out: &mut Vec<(&'a str, Option<Vec<usize>>)>, w: &'a Option<String>, b: &'a Option<String>, n: usize) {
            for name in [w, b].into_iter().flatten() {
                out.push((name.as_str(), Some(vec![n])));
            }
        }
        let mut out = Vec::new();
        match self {
            GraphOp::InstanceNorm { channels, weight, bias, .. } => both(&mut out, weight, bias, *channels),
            GraphOp::GroupNorm { channels, weight, bias, .. } => both(&mut out, weight, bias, *channels),
            GraphOp::LayerNorm { features, weight, bias, .. } => both(&mut out, weight, bias, *features),
            GraphOp::Constant { tensor } => out.push((tensor.as_str(), None)),
            GraphOp::Prelu { channels, weight } => out.push((weight.as_str(), Some(vec![*channels]))),
            GraphOp::Embedding { classes, dim, weight } => out.push((weight.as_str(), Some(vec![*classes, *dim]))),
            _ => {}
        }
        out
    }
}

impl NodeOp {
    /// The op name as written in `model.json`.
    pub fn name(&self) -> &'static str {
        match self {
            NodeOp::Layer(layer) => layer.op(),
            NodeOp::Graph(op) => op.name(),
        }
    }

    /// Every weights tensor the node reads, with its shape when the op fixes it.
    pub fn tensors(&self) -> Vec<(&str, Option<Vec<usize>>)> {
        match self {
            NodeOp::Layer(layer) => layer.tensors().into_iter().map(|(n, s)| (n, Some(s))).collect(),
            NodeOp::Graph(op) => op.tensors(),
        }
    }
}
