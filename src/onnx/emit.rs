//! Writing the converted graph: the format-2 `model.json` (docs/model-format-2.md) and the
//! safetensors file of every weight a node reads, in f32 or f16.

use std::rc::Rc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::onnx::proto::ModelProto;
use crate::onnx::{Converted, Dtype, Options};

/// A webgan node: its name (also its output's), the values it reads, its op.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub name: String,
    pub inputs: Vec<String>,
    pub op: Op,
}

/// How a `reshape` orders elements (the importer only writes `channels_first`: ONNX is NCHW).
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Order {
    ChannelsFirst,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PadMode {
    Zero,
    Reflect,
    Replicate,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UpsampleMode {
    Nearest,
    Bilinear,
}

/// A webgan op with its fields, serialized as model.json writes it.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub(crate) enum Op {
    Constant {
        tensor: String,
    },
    Linear {
        in_features: usize,
        out_features: usize,
        weight: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        bias: Option<String>,
    },
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
        weight: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        bias: Option<String>,
    },
    ConvTranspose2d {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
        output_padding: [usize; 2],
        weight: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        bias: Option<String>,
    },
    BatchNorm {
        channels: usize,
        eps: f32,
        #[serde(skip_serializing_if = "Option::is_none")]
        weight: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        bias: Option<String>,
        running_mean: String,
        running_var: String,
    },
    Reshape {
        shape: Vec<usize>,
        order: Order,
    },
    Upsample {
        scale: [usize; 2],
        mode: UpsampleMode,
        align_corners: bool,
    },
    Add,
    Sub,
    Mul,
    Div,
    Concat {
        axis: usize,
    },
    InstanceNorm {
        channels: usize,
        eps: f32,
        #[serde(skip_serializing_if = "Option::is_none")]
        weight: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        bias: Option<String>,
    },
    ReduceMean {
        axes: Vec<usize>,
        keepdims: bool,
    },
    Sqrt,
    Reciprocal,
    Pow {
        exponent: f32,
    },
    Relu,
    LeakyRelu {
        slope: f32,
    },
    Elu {
        alpha: f32,
    },
    Silu,
    Gelu {
        approximate: &'static str,
    },
    Sigmoid,
    Tanh,
    Clamp {
        min: f32,
        max: f32,
    },
    Prelu {
        channels: usize,
        weight: String,
    },
    Pad {
        pads: [usize; 4],
        mode: PadMode,
    },
    Embedding {
        classes: usize,
        dim: usize,
        weight: String,
    },
    AvgPool2d {
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
        count_include_pad: bool,
    },
}

impl Op {
    /// Names of the weights tensors the op reads.
    pub fn weights(&self) -> Vec<&str> {
        fn opt<'a>(w: &'a Option<String>, out: &mut Vec<&'a str>) {
            if let Some(w) = w {
                out.push(w);
            }
        }
        let mut out: Vec<&str> = Vec::new();
        match self {
            Op::Constant { tensor } => out.push(tensor),
            Op::Linear { weight, bias, .. }
            | Op::Conv2d { weight, bias, .. }
            | Op::ConvTranspose2d { weight, bias, .. } => {
                out.push(weight);
                opt(bias, &mut out);
            }
            Op::BatchNorm { weight, bias, running_mean, running_var, .. } => {
                opt(weight, &mut out);
                opt(bias, &mut out);
                out.push(running_mean);
                out.push(running_var);
            }
            Op::InstanceNorm { weight, bias, .. } => {
                opt(weight, &mut out);
                opt(bias, &mut out);
            }
            Op::Prelu { weight, .. } | Op::Embedding { weight, .. } => out.push(weight),
            _ => {}
        }
        out
    }

    /// Every float field, to check it is finite (JSON has no NaN or infinity).
    fn floats(&self) -> Vec<f32> {
        match self {
            Op::BatchNorm { eps, .. } | Op::InstanceNorm { eps, .. } => vec![*eps],
            Op::Pow { exponent } => vec![*exponent],
            Op::LeakyRelu { slope } => vec![*slope],
            Op::Elu { alpha } => vec![*alpha],
            Op::Clamp { min, max } => vec![*min, *max],
            _ => vec![],
        }
    }
}

/// A graph input and its role.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub(crate) enum Input {
    Latent { name: String, shape: Vec<usize> },
    Class { name: String, classes: usize },
    Image { name: String, shape: Vec<usize> },
}

/// A weights tensor: shape and values.
#[derive(Clone, Debug)]
pub(crate) struct Weight {
    pub shape: Vec<usize>,
    pub data: Rc<[f32]>,
}

/// The lowered graph, ready to write.
#[derive(Debug)]
pub(crate) struct Imported {
    pub inputs: Vec<Input>,
    pub nodes: Vec<Node>,
    pub output: String,
    /// Every weight a node reads, by name.
    pub weights: Vec<(String, Weight)>,
    pub opset: i64,
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Input(format!("cannot write model.json: {e}")))
}

/// One node as a JSON object: `name`, `op`, `inputs`, then the op's fields.
fn node_json(node: &Node) -> Result<String> {
    if let Some(bad) = node.op.floats().into_iter().find(|x| !x.is_finite()) {
        return Err(Error::Input(format!(
            "node \"{}\": a parameter is {bad}, which model.json cannot hold",
            node.name
        )));
    }
    let op = json(&node.op)?;
    // `{"op":"NAME"` then `}` or `,FIELDS}`.
    let body = op.strip_prefix('{').unwrap_or(&op);
    let (op_part, rest) = match body.find(',') {
        Some(i) if body[..i].starts_with("\"op\":") => (&body[..i], &body[i..]),
        _ => (body.strip_suffix('}').unwrap_or(body), "}"),
    };
    Ok(format!("{{\"name\":{},{op_part},\"inputs\":{}{rest}", json(&node.name)?, json(&node.inputs)?))
}

/// The manifest and weights of `graph`.
pub(crate) fn write(graph: &Imported, model: &ModelProto, options: &Options) -> Result<Converted> {
    let weights = safetensors_bytes(&graph.weights, options.dtype)?;
    let sha = Sha256::digest(&weights);
    let sha_hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();

    let mut producer = model.producer_name().to_string();
    if !model.producer_version().is_empty() {
        producer = format!("{producer} {}", model.producer_version());
    }
    let producer = if producer.trim().is_empty() { "unknown producer".to_string() } else { producer };
    let description = format!("converted from ONNX (opset {}, producer {producer})", graph.opset);
    let name = if options.name.is_empty() { "onnx-model" } else { &options.name };

    let mut out = String::from("{\n");
    out += "  \"format\": \"webgan-model/2\",\n";
    out += &format!("  \"name\": {},\n", json(name)?);
    out += &format!("  \"description\": {},\n", json(&description)?);
    out += "  \"license\": \"unknown: set by the model's author\",\n";
    out += &format!("  \"source\": {},\n", json(&options.source)?);
    out += &format!(
        "  \"weights\": {{\"file\": \"weights.safetensors\", \"bytes\": {}, \"sha256\": \"{sha_hex}\", \"dtype\": \"{}\"}},\n",
        weights.len(),
        options.dtype.as_str()
    );
    let inputs: Vec<String> = graph.inputs.iter().map(json).collect::<Result<_>>()?;
    out += &format!("  \"inputs\": [\n    {}\n  ],\n", inputs.join(",\n    "));
    let nodes: Vec<String> = graph.nodes.iter().map(node_json).collect::<Result<_>>()?;
    out += &format!("  \"nodes\": [\n    {}\n  ],\n", nodes.join(",\n    "));
    out += &format!("  \"output\": {}\n}}\n", json(&graph.output)?);
    Ok(Converted { manifest_json: out, weights })
}

/// The safetensors file of `weights`; every value must be finite (and fit f16 when asked).
fn safetensors_bytes(weights: &[(String, Weight)], dtype: Dtype) -> Result<Vec<u8>> {
    let mut buffers = Vec::with_capacity(weights.len());
    for (name, w) in weights {
        if w.data.iter().any(|x| !x.is_finite()) {
            return Err(Error::Input(format!(
                "tensor \"{name}\" holds a NaN or infinite value; the model's weights are corrupt"
            )));
        }
        let bytes: Vec<u8> = match dtype {
            Dtype::F32 => w.data.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Dtype::F16 => {
                if let Some(big) = w.data.iter().find(|x| x.abs() > f32::from(half::f16::MAX)) {
                    return Err(Error::Input(format!(
                        "tensor \"{name}\" holds {big}, which does not fit f16; convert with --dtype f32"
                    )));
                }
                w.data.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect()
            }
        };
        buffers.push(bytes);
    }
    let st_dtype = match dtype {
        Dtype::F32 => safetensors::Dtype::F32,
        Dtype::F16 => safetensors::Dtype::F16,
    };
    let mut views = Vec::with_capacity(weights.len());
    for ((name, w), bytes) in weights.iter().zip(&buffers) {
        let view = safetensors::tensor::TensorView::new(st_dtype, w.shape.clone(), bytes)
            .map_err(|e| Error::Input(format!("tensor \"{name}\": {e}")))?;
        views.push((name.clone(), view));
    }
    safetensors::tensor::serialize(views, None).map_err(|e| Error::Input(format!("cannot write the weights: {e}")))
}
