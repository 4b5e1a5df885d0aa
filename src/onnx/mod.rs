//! ONNX → webgan model format 2 (`docs/model-format-2.md`): a converter in pure Rust that runs
//! natively (`webgan convert`) and on wasm32 (the page converts a dropped `.onnx` file).
//!
//! The `.onnx` bytes are untrusted. Before prost decodes them, `wire` walks the protobuf wire
//! format against the schema and bounds what decoding may allocate (an empty message costs two
//! bytes on disk and hundreds in memory); every tensor size is checked arithmetic against
//! [`crate::limits`]; external data must be a plain file beside the model and lie inside it.
//!
//! The import has three steps:
//! 1. constant folding (`fold`): every node whose inputs are all initializers or constants is
//!    evaluated on N-d f32/i64 arrays, so spectral norm written as ops on the weights,
//!    equalized-learning-rate scales and `Shape → Gather → Concat → Reshape` chains disappear.
//!    `Shape` of an activation is known from static shapes; its batch entry is a marker
//!    (`tensor::BATCH`) that only `Reshape` may consume;
//! 2. lowering (`graph`): every other node becomes webgan nodes, tracking ONNX's full-rank
//!    shapes `[N, …]` beside the per-sample webgan shapes (`reshape`s are emitted only where a
//!    consumer needs a different webgan shape); BatchNormalization folds into the conv or linear
//!    before it when nothing else reads that conv's output;
//! 3. emission (`emit`): the manifest JSON and the safetensors file of every weight a live node
//!    reads, in f32 or f16.
//!
//! Exact GELU written with `Erf` (as both torch exporters write it) becomes one `gelu` node, and
//! `x · sigmoid(x)` one `silu`.
//!
//! Not converted (each is a one-line error naming the node): grouped or dilated convolutions,
//! 1-D/3-D ops, transposes that reorder data, ops over the batch dimension, cubic or
//! non-integer resizing, max pooling, softmax, control flow (If/Loop/Scan), ops of other
//! domains and model-local functions, sparse or string tensors.
//!
//! Every error is one line naming the node (its name and op type) or the tensor and what to do.

pub mod proto;

mod attr;
mod emit;
mod fold;
mod graph;
mod tensor;
mod wire;

use crate::error::{Error, Result};

/// Largest `.onnx` file (and largest external data file) the importer reads, in bytes.
pub const MAX_ONNX_BYTES: u64 = crate::limits::MAX_WEIGHTS_BYTES;
/// Most nodes an ONNX graph may have (a GAN generator has tens to a few thousand, counting the
/// shape arithmetic that folds away).
pub const MAX_ONNX_NODES: usize = 100_000;
/// Most values constant folding may create in all (4 GiB of f32 would not fit in wasm32).
pub const MAX_FOLDED_ELEMENTS: usize = 1 << 29;
/// Lowest and highest opset of the default domain the importer reads.
pub const OPSETS: std::ops::RangeInclusive<i64> = 13..=20;

/// Storage type of the converted weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dtype {
    F16,
    #[default]
    F32,
}

impl Dtype {
    /// `"f16"` or `"f32"`, as written in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::F16 => "f16",
            Dtype::F32 => "f32",
        }
    }
}

impl std::str::FromStr for Dtype {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "f16" => Ok(Dtype::F16),
            "f32" => Ok(Dtype::F32),
            _ => Err(Error::Input(format!("dtype \"{s}\" is not supported; use f16 or f32"))),
        }
    }
}

/// What to convert to.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub dtype: Dtype,
    /// The manifest's `name` (e.g. the file stem).
    pub name: String,
    /// The manifest's `source`: where the model comes from (e.g. the `.onnx` file name).
    pub source: String,
}

/// A converted model: the two files of a format-2 model folder.
#[derive(Clone, Debug)]
pub struct Converted {
    /// `model.json`.
    pub manifest_json: String,
    /// `weights.safetensors`.
    pub weights: Vec<u8>,
}

/// Converts the ONNX model `model` to webgan format 2.
///
/// `external(location)` returns the bytes of the external-data file `location` (a plain file
/// name, checked before the call) beside the model; it is called at most once per file. When the
/// file does not exist it should return `Error::Io` with kind `NotFound`, which becomes
/// `external data file "…" for tensor "…" is missing: put it beside the .onnx`.
pub fn import(model: &[u8], external: &mut dyn FnMut(&str) -> Result<Vec<u8>>, options: &Options) -> Result<Converted> {
    if model.len() as u64 > MAX_ONNX_BYTES {
        return Err(Error::Input(format!(
            "the .onnx file has {} bytes; webgan converts at most {MAX_ONNX_BYTES}",
            model.len()
        )));
    }
    wire::check(model).map_err(|m| {
        Error::Input(format!("the file is not a valid ONNX model ({m}); export it again with torch.onnx.export"))
    })?;
    let decoded = <proto::ModelProto as prost::Message>::decode(model).map_err(|e| {
        Error::Input(format!(
            "the file is not a valid ONNX model (protobuf: {}); export it again with torch.onnx.export",
            e.to_string().replace('\n', " ")
        ))
    })?;
    let mut files = tensor::ExternalFiles::new(external);
    let imported = graph::import(&decoded, &mut files)?;
    emit::write(&imported, &decoded, options)
}
