//! Models: the manifest, the weights, shape inference and the fused form the GPU runs.

pub mod activation;
pub mod graph;
pub mod graph_check;
pub mod graph_op;
pub mod graph_shape;
pub mod inputs;
pub mod manifest;
pub mod shape;
mod strict_json;
pub mod weights;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::tensor::Tensor;
pub use activation::Activation;
pub use graph_check::Checked;
pub use graph_op::{GraphOp, NodeOp};
pub use inputs::Inputs;
pub use manifest::{Layer, Manifest, Order};
pub use shape::Shape;

/// A checked model: manifest, shapes and the weights, all in f32. Format-1 models also keep
/// their per-layer shapes (what the GPU plan folds); every model has its checked graph (what the
/// CPU reference runs; a format-1 chain lowered to one).
#[derive(Clone, Debug)]
pub struct Model {
    /// The manifest; for a graph model its metadata, with `layers` empty and latent_dim,
    /// num_classes and output_shape taken from the graph.
    pub manifest: Manifest,
    /// Per-sample shape after each layer (format 1; empty for graph models).
    pub shapes: Vec<Shape>,
    pub graph: Checked,
    tensors: HashMap<String, Tensor>,
}

impl Model {
    /// Builds a model from the text of `model.json` (format 1 or 2) and the bytes of its
    /// weights file.
    pub fn from_parts(manifest_json: &str, weights: &[u8]) -> Result<Self> {
        if graph::format_of(manifest_json).as_deref() == Some(graph::FORMAT2) {
            return Self::from_graph_parts(manifest_json, weights);
        }
        let manifest = Manifest::parse(manifest_json)?;
        let shapes = shape::infer(&manifest)?;
        let tensors = weights::load(&manifest, weights)?;
        let graph = graph_check::check(graph::lower(&manifest), &|_| None)?;
        let model = Model { manifest, shapes, graph, tensors };
        model.check_values()?;
        Ok(model)
    }

    /// A format-2 model: the graph is checked against the weights file's header (constants take
    /// their shape from it) before any tensor is copied, and every tensor must be used.
    fn from_graph_parts(manifest_json: &str, weights: &[u8]) -> Result<Self> {
        let (mut manifest, graph) = graph::parse(manifest_json)?;
        let file = weights::open(&manifest.weights, weights)?;
        let stored = |name: &str| file.tensor(name).ok().map(|t| t.shape().to_vec());
        let checked = graph_check::check(graph, &stored)?;
        let wanted: Vec<(String, Option<Vec<usize>>)> = checked
            .graph
            .nodes
            .iter()
            .flat_map(|n| n.op.tensors())
            .map(|(name, shape)| (name.to_string(), shape))
            .collect();
        let used: Vec<&str> = wanted.iter().map(|(n, _)| n.as_str()).collect();
        if let Some(name) = weights::unused(&file, &used) {
            return Err(Error::Manifest(format!(
                "tensor `{name}` of the weights file is not used by any node; remove it or reference it"
            )));
        }
        let tensors = weights::read(&file, wanted)?;
        for input in &checked.graph.inputs {
            match input {
                graph::Input::Latent { shape, .. } => manifest.latent_dim = shape[0],
                graph::Input::Class { classes, .. } => manifest.num_classes = Some(*classes),
                graph::Input::Image { .. } => {}
            }
        }
        manifest.output_shape = checked.values[checked.output()].shape.dims();
        Ok(Model { manifest, shapes: vec![], graph: checked, tensors })
    }

    /// True for a format-2 (graph) model.
    pub fn is_graph(&self) -> bool {
        self.manifest.format == graph::FORMAT2
    }

    /// The image input's per-sample shape `[C, H, W]`, when the model takes one.
    pub fn image_input(&self) -> Option<Shape> {
        self.graph.graph.inputs.iter().position(|i| matches!(i, graph::Input::Image { .. })).map(|i| self.graph.values[i].shape)
    }

    /// True when the model reads a latent vector.
    pub fn takes_latents(&self) -> bool {
        self.graph.graph.inputs.iter().any(|i| matches!(i, graph::Input::Latent { .. }))
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
        let manifest = if graph::format_of(&json).as_deref() == Some(graph::FORMAT2) {
            graph::parse(&json)?.0
        } else {
            Manifest::parse(&json)?
        };
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
        self.graph.values[self.graph.output()].shape
    }

    /// Shape entering layer `index`.
    pub fn shape_before(&self, index: usize) -> Shape {
        if index == 0 { self.input_shape() } else { self.shapes[index - 1] }
    }

    /// Multiply-adds per sample, counted from the layers (for GFLOP/s reports: FLOPs = 2 × this).
    /// In u64 (saturating), since the product can pass 2^32 on wasm32.
    pub fn macs_per_sample(&self) -> u64 {
        let product = |v: &[usize]| v.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
        let g = &self.graph;
        let mut macs = 0u64;
        for (k, node) in g.graph.nodes.iter().enumerate() {
            let out = g.values[g.node_value(k)].shape;
            let input = g.values[g.args[k][0]].shape;
            macs = macs.saturating_add(match &node.op {
                NodeOp::Layer(Layer::Linear { in_features, out_features, .. }) => product(&[*in_features, *out_features]),
                NodeOp::Layer(Layer::Conv2d { in_channels, kernel, .. }) => {
                    product(&[out.elements(), *in_channels, kernel[0], kernel[1]])
                }
                // Every input pixel scatters a full kernel into every output channel.
                NodeOp::Layer(Layer::ConvTranspose2d { out_channels, kernel, .. }) => {
                    product(&[input.elements(), *out_channels, kernel[0], kernel[1]])
                }
                _ => 0,
            });
        }
        macs
    }

    /// The most values one sample holds at once on the CPU: the values alive together at the
    /// peak of the graph's execution (a chain: the input and output of its largest layer).
    pub fn peak_elements_per_sample(&self) -> usize {
        let g = &self.graph;
        let size = |id: usize| if g.values[id].kind == graph_shape::Kind::Batched { g.values[id].shape.elements() } else { 0 };
        let inputs = g.graph.inputs.len();
        let mut live: usize = (0..inputs).map(size).sum();
        let mut peak = live;
        for k in 0..g.graph.nodes.len() {
            live += size(g.node_value(k));
            peak = peak.max(live);
            for id in (0..=g.node_value(k)).filter(|&id| g.last_use[id] == k) {
                live -= size(id);
            }
        }
        peak
    }
}
