//! Models: the manifest, the weights, shape inference and the fused form the GPU runs.

pub mod activation;
pub mod manifest;
pub mod shape;
mod strict_json;
pub mod weights;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::tensor::Tensor;
pub use activation::Activation;
pub use manifest::{Layer, Manifest, Order};
pub use shape::Shape;

/// A checked model: manifest, per-layer output shapes and the weights, all in f32.
#[derive(Clone, Debug)]
pub struct Model {
    pub manifest: Manifest,
    /// Per-sample shape after each layer.
    pub shapes: Vec<Shape>,
    tensors: HashMap<String, Tensor>,
}

impl Model {
    /// Builds a model from the text of `model.json` and the bytes of its weights file.
    pub fn from_parts(manifest_json: &str, weights: &[u8]) -> Result<Self> {
        let manifest = Manifest::parse(manifest_json)?;
        let shapes = shape::infer(&manifest)?;
        let tensors = weights::load(&manifest, weights)?;
        let model = Model { manifest, shapes, tensors };
        model.check_values()?;
        Ok(model)
    }

    /// Checks what only the weights' values can show: a batch norm's running variance must be
    /// non-negative (with eps > 0, checked by shape inference, folding then never divides by 0
    /// nor takes the root of a negative number).
    fn check_values(&self) -> Result<()> {
        for (index, layer) in self.manifest.layers.iter().enumerate() {
            if let Layer::BatchNorm { running_var, .. } = layer {
                if let Some(v) = self.tensor(running_var)?.data.iter().find(|v| **v < 0.0) {
                    return Err(Error::layer(
                        index,
                        layer.op(),
                        format!("running_var `{running_var}` holds {v}; a variance cannot be negative"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Loads a model folder (`model.json` + the weights file it names).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_dir(dir: impl AsRef<std::path::Path>) -> Result<Self> {
        use crate::files::{read_bounded, read_expected};
        let dir = dir.as_ref();
        let json = read_bounded(&dir.join("model.json"), "model.json", crate::limits::MAX_MANIFEST_BYTES)?;
        let json = String::from_utf8(json)
            .map_err(|_| Error::Manifest("model.json is not UTF-8 text".into()))?;
        // Parsing checks the weights file's name and size, so they can be trusted below.
        let manifest = Manifest::parse(&json)?;
        let spec = &manifest.weights;
        let weights = read_expected(&dir.join(&spec.file), &spec.file, spec.bytes)?;
        Self::from_parts(&json, &weights)
    }

    /// A tensor the manifest names (checked at load time, so present).
    pub fn tensor(&self, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| Error::MissingTensor { name: name.to_string() })
    }

    /// Input shape: the latent vector.
    pub fn input_shape(&self) -> Shape {
        shape::input_shape(&self.manifest)
    }

    /// Output shape per sample (after the last layer).
    pub fn output_shape(&self) -> Shape {
        self.shapes.last().copied().unwrap_or_else(|| self.input_shape())
    }

    /// Shape entering layer `index`.
    pub fn shape_before(&self, index: usize) -> Shape {
        if index == 0 { self.input_shape() } else { self.shapes[index - 1] }
    }

    /// Multiply-adds per sample, counted from the layers (for GFLOP/s reports: FLOPs = 2 × this).
    /// In u64 (saturating), since the product can pass 2^32 on wasm32.
    pub fn macs_per_sample(&self) -> u64 {
        let product = |v: &[usize]| v.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
        let mut macs = 0u64;
        for (i, layer) in self.manifest.layers.iter().enumerate() {
            let out = self.shapes[i];
            macs = macs.saturating_add(match layer {
                Layer::Linear { in_features, out_features, .. } => product(&[*in_features, *out_features]),
                Layer::Conv2d { in_channels, kernel, .. } => {
                    product(&[out.elements(), *in_channels, kernel[0], kernel[1]])
                }
                Layer::ConvTranspose2d { out_channels, kernel, .. } => {
                    // Every input pixel scatters a full kernel into every output channel.
                    let input = self.shape_before(i);
                    product(&[input.elements(), *out_channels, kernel[0], kernel[1]])
                }
                _ => 0,
            });
        }
        macs
    }

    /// The most values one sample holds at any point of the forward pass (the input or the
    /// output of a layer).
    pub fn max_elements_per_sample(&self) -> usize {
        self.shapes.iter().map(Shape::elements).chain([self.input_shape().elements()]).max().unwrap_or(0)
    }

    /// The one validation of a generate request, whatever runs it: latents `[N, latent_dim]`
    /// with 1 ≤ N ≤ [`MAX_COUNT`](crate::limits::MAX_COUNT) and finite values, and one class in
    /// range per sample exactly when the model is conditional. Returns N.
    pub fn check_input(&self, latents: &Tensor, classes: Option<&[u32]>) -> Result<usize> {
        let z = self.manifest.latent_dim;
        let max = crate::limits::MAX_COUNT;
        let n = latents.shape.first().copied().unwrap_or(0);
        if latents.shape.len() != 2 || latents.shape[1] != z || n == 0 || n.checked_mul(z) != Some(latents.len()) {
            return Err(Error::Input(format!("latents must have shape [N, {z}] with N ≥ 1, not {:?}", latents.shape)));
        }
        if n > max {
            return Err(Error::Input(format!("{n} images asked for; give 1 to {max} per call")));
        }
        if latents.data.iter().any(|v| !v.is_finite()) {
            return Err(Error::Input("latents hold NaN or infinite values".into()));
        }
        match classes {
            Some(c) if c.len() != n => Err(Error::Input(format!("{} classes given for {n} latents", c.len()))),
            Some(c) => c.iter().try_for_each(|k| self.check_class(Some(*k))),
            None => self.check_class(None),
        }?;
        Ok(n)
    }

    /// Checks a class label against the model.
    pub fn check_class(&self, class: Option<u32>) -> Result<()> {
        match (self.manifest.num_classes, class) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(Error::Input(format!(
                "model `{}` is not conditional; do not pass a class",
                self.manifest.name
            ))),
            (Some(n), None) => Err(Error::Input(format!(
                "model `{}` is conditional: pass a class between 0 and {}",
                self.manifest.name,
                n - 1
            ))),
            (Some(n), Some(k)) if (k as usize) < n => Ok(()),
            (Some(n), Some(k)) => Err(Error::Input(format!("class {k} is out of range 0..{n}"))),
        }
    }
}
