//! `model.json`: the description of a model folder (metadata, weights file, layer list).
//!
//! Tensor layouts follow PyTorch: linear `[out, in]`, conv2d `[out, in, kh, kw]`,
//! conv_transpose2d `[in, out, kh, kw]`; converters from other frameworks permute into these.
//! Padding is `[top, bottom, left, right]` so that Keras' asymmetric 'same' padding fits.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::{MAX_LAYERS, MAX_MANIFEST_BYTES, MAX_WEIGHTS_BYTES};
use crate::model::strict_json;

/// The only manifest format this version reads.
pub const FORMAT: &str = "webgan-model/1";

/// The parsed `model.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub name: String,
    pub description: String,
    /// License of the weights (and notes on the training data).
    pub license: String,
    /// Where the weights come from.
    pub source: String,
    pub latent_dim: usize,
    #[serde(default)]
    pub num_classes: Option<usize>,
    /// Shape of one generated sample: `[C, H, W]` for images, `[F]` for a score vector.
    pub output_shape: Vec<usize>,
    pub weights: WeightsSpec,
    pub layers: Vec<Layer>,
}

/// The weights file a manifest expects, with size and hash to check it by.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightsSpec {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    /// `f16` or `f32`: informative; each tensor carries its own dtype.
    pub dtype: String,
}

/// How a reshape between a flat vector and a `[C, H, W]` image orders elements.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// index = (c·H + h)·W + w (PyTorch `view`).
    ChannelsFirst,
    /// index = (h·W + w)·C + c (Keras `Reshape`, `Flatten` on NHWC).
    ChannelsLast,
}

/// One layer of the generator, as written in `model.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// Appends a one-hot class vector of `classes` entries to a flat input.
    ConcatOneHot { classes: usize },
    /// x `[N, in]` → `[N, out]`, weight `[out, in]`.
    Linear { in_features: usize, out_features: usize, weight: String, bias: Option<String> },
    /// Inference batch normalization over channels (or features of a flat input).
    BatchNorm {
        channels: usize,
        eps: f32,
        weight: Option<String>,
        bias: Option<String>,
        running_mean: String,
        running_var: String,
    },
    Relu,
    LeakyRelu { slope: f32 },
    Tanh,
    Sigmoid,
    /// Flat ↔ image. `shape` is the per-sample target shape: `[C, H, W]` or `[F]`.
    Reshape { shape: Vec<usize>, order: Order },
    /// x `[N, C_in, H, W]` → `[N, C_out, (H-1)·s + k - top - bottom + output_padding, …]`.
    ConvTranspose2d {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
        output_padding: [usize; 2],
        weight: String,
        bias: Option<String>,
    },
    /// x `[N, C_in, H, W]` → `[N, C_out, (H + top + bottom - k) / s + 1, …]`.
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 4],
        weight: String,
        bias: Option<String>,
    },
    /// Nearest-neighbour upsampling by integer factors `[sh, sw]`.
    Upsample { scale: [usize; 2] },
}

/// Names of every op, for error messages.
pub const OPS: &[&str] = &[
    "concat_one_hot",
    "linear",
    "batch_norm",
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "reshape",
    "conv_transpose2d",
    "conv2d",
    "upsample",
];

impl Layer {
    /// The op name as written in `model.json`.
    pub fn op(&self) -> &'static str {
        match self {
            Layer::ConcatOneHot { .. } => "concat_one_hot",
            Layer::Linear { .. } => "linear",
            Layer::BatchNorm { .. } => "batch_norm",
            Layer::Relu => "relu",
            Layer::LeakyRelu { .. } => "leaky_relu",
            Layer::Tanh => "tanh",
            Layer::Sigmoid => "sigmoid",
            Layer::Reshape { .. } => "reshape",
            Layer::ConvTranspose2d { .. } => "conv_transpose2d",
            Layer::Conv2d { .. } => "conv2d",
            Layer::Upsample { .. } => "upsample",
        }
    }

    /// Every tensor this layer reads, with the shape it must have.
    pub fn tensors(&self) -> Vec<(&str, Vec<usize>)> {
        let mut out = Vec::new();
        match self {
            Layer::Linear { in_features, out_features, weight, bias } => {
                out.push((weight.as_str(), vec![*out_features, *in_features]));
                if let Some(b) = bias {
                    out.push((b.as_str(), vec![*out_features]));
                }
            }
            Layer::BatchNorm { channels, weight, bias, running_mean, running_var, .. } => {
                for name in [weight.as_ref(), bias.as_ref(), Some(running_mean), Some(running_var)]
                    .into_iter()
                    .flatten()
                {
                    out.push((name.as_str(), vec![*channels]));
                }
            }
            Layer::ConvTranspose2d { in_channels, out_channels, kernel, weight, bias, .. } => {
                out.push((weight.as_str(), vec![*in_channels, *out_channels, kernel[0], kernel[1]]));
                if let Some(b) = bias {
                    out.push((b.as_str(), vec![*out_channels]));
                }
            }
            Layer::Conv2d { in_channels, out_channels, kernel, weight, bias, .. } => {
                out.push((weight.as_str(), vec![*out_channels, *in_channels, kernel[0], kernel[1]]));
                if let Some(b) = bias {
                    out.push((b.as_str(), vec![*out_channels]));
                }
            }
            _ => {}
        }
        out
    }
}

impl Manifest {
    /// Parses `model.json`, reporting an unknown op or a bad field with the layer's index.
    /// Strict: the text is at most [`MAX_MANIFEST_BYTES`], a duplicate key or an unknown field
    /// anywhere is an error, and no list (so not `layers` either) has over [`MAX_LAYERS`]
    /// entries, refused while parsing.
    pub fn parse(json: &str) -> Result<Self> {
        if json.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(Error::Manifest(format!(
                "model.json has {} bytes; webgan reads manifests of at most {MAX_MANIFEST_BYTES}",
                json.len()
            )));
        }
        let mut value = strict_json::parse(json, MAX_LAYERS).map_err(|e| Error::Manifest(e.to_string()))?;
        // Parse layers one by one so an error names the layer rather than a byte offset.
        let raw_layers = match value.get_mut("layers") {
            Some(serde_json::Value::Array(layers)) => std::mem::take(layers),
            Some(_) => return Err(Error::Manifest("`layers` must be a list".into())),
            None => return Err(Error::Manifest("missing field `layers`".into())),
        };
        let mut layers = Vec::with_capacity(raw_layers.len());
        for (index, raw) in raw_layers.into_iter().enumerate() {
            let op = raw.get("op").and_then(|v| v.as_str()).unwrap_or("").to_string();
            if !OPS.contains(&op.as_str()) {
                return Err(Error::layer(
                    index,
                    if op.is_empty() { "?" } else { &op },
                    format!("unsupported op `{op}`; webgan supports {}", OPS.join(", ")),
                ));
            }
            // serde ignores extra fields of a unit variant (`relu`, `tanh`, `sigmoid`) even under
            // deny_unknown_fields: check those by hand so every layer is equally strict.
            if let Some(extra) = raw.as_object().and_then(|o| o.keys().find(|k| *k != "op")) {
                if matches!(op.as_str(), "relu" | "tanh" | "sigmoid") {
                    return Err(Error::layer(index, &op, format!("unknown field `{extra}`; `{op}` takes no fields")));
                }
            }
            let layer: Layer =
                serde_json::from_value(raw).map_err(|e| Error::layer(index, &op, e.to_string()))?;
            layers.push(layer);
        }
        value["layers"] = serde_json::Value::Array(vec![]);
        let mut manifest: Manifest =
            serde_json::from_value(value).map_err(|e| Error::Manifest(e.to_string()))?;
        manifest.layers = layers;
        if manifest.format != FORMAT {
            return Err(Error::Manifest(format!(
                "format is `{}` but this webgan reads `{FORMAT}`",
                manifest.format
            )));
        }
        manifest.weights.check()?;
        Ok(manifest)
    }
}

impl WeightsSpec {
    /// The file is a plain name inside the model folder, its size is within
    /// [`MAX_WEIGHTS_BYTES`] and its hash is 64 hex digits: checked before anything is read.
    pub(crate) fn check(&self) -> Result<()> {
        let plain = !self.file.is_empty()
            && !self.file.starts_with('.')
            && !self.file.contains(['/', '\\', '\0', ':'])
            && self.file.len() <= 255;
        if !plain {
            return Err(Error::Manifest(format!(
                "weights file `{}` must be a plain file name inside the model folder",
                self.file.escape_debug()
            )));
        }
        if self.bytes == 0 || self.bytes > MAX_WEIGHTS_BYTES {
            return Err(Error::Manifest(format!(
                "weights.bytes is {}; webgan loads weights files of 1 to {MAX_WEIGHTS_BYTES} bytes",
                self.bytes
            )));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Manifest("weights.sha256 must be 64 hexadecimal digits".into()));
        }
        Ok(())
    }
}
