//! One schedule step ([`Step`]) → its dispatches: GEMM ops through the shared gemm kernels
//! (with a folded batch norm and the epilogue activation), batch norm through the affine pass,
//! reshape, nearest upsample and concat_one_hot through the format-1 passes, and every other
//! op through its graph kernel.

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::gpu::fold::GemmKind;
use crate::gpu::layout::chw;
use crate::gpu::ops::{self, Pass};
use crate::model::graph_op::UpsampleMode;
use crate::model::{GraphOp, Layer, Model, NodeOp};
use crate::tensor::Tensor;

use super::elementwise::{self, binary_code, operand, unary_code};
use super::fuse::Step;
use super::gather;
use super::norm::{self, Norm};
use super::spatial;

/// What the passes of one plan bind: the buffer holding each value (`None` for values that
/// never take one: fused away) and the class ids.
pub struct Bindings<'a> {
    pub gpu: &'a Gpu,
    pub model: &'a Model,
    pub batch: usize,
    pub values: &'a [Option<wgpu::Buffer>],
    pub labels: &'a wgpu::Buffer,
}

impl Bindings<'_> {
    fn buffer(&self, value: usize) -> Result<&wgpu::Buffer> {
        self.values[value].as_ref().ok_or_else(|| Error::Gpu(format!("value {value} has no buffer (a bug in the graph plan)")))
    }
}

/// The scale and shift of an inference batch norm: y = x · scale[c] + shift[c].
pub fn batch_norm_affine(model: &Model, layer: &Layer) -> Result<(Vec<f32>, Vec<f32>)> {
    let Layer::BatchNorm { channels, eps, weight, bias, running_mean, running_var } = layer else {
        return Err(Error::Gpu("not a batch norm".into()));
    };
    let mean = &model.tensor(running_mean)?.data;
    let var = &model.tensor(running_var)?.data;
    let gamma = weight.as_ref().map(|w| model.tensor(w)).transpose()?;
    let beta = bias.as_ref().map(|b| model.tensor(b)).transpose()?;
    let scale: Vec<f32> = (0..*channels).map(|c| gamma.map_or(1.0, |g| g.data[c]) / (var[c] + eps).sqrt()).collect();
    let shift = (0..*channels).map(|c| beta.map_or(0.0, |b| b.data[c]) - mean[c] * scale[c]).collect();
    Ok((scale, shift))
}

/// The dispatches of `step`.
pub fn passes(b: &Bindings, step: &Step) -> Result<Vec<Pass>> {
    let (gpu, model, batch) = (b.gpu, b.model, b.batch);
    let g = &model.graph;
    let node = &g.graph.nodes[step.node];
    let args = &g.args[step.node];
    let label = format!("{}:{}", node.name, node.op.name());
    let shape = |i: usize| g.values[args[i]].shape;
    let to = g.values[step.value].shape;
    let out = b.buffer(step.value)?;
    let x = || b.buffer(args[0]);
    let floats = |name: &Option<String>| -> Result<Option<&[f32]>> {
        name.as_ref().map(|n| model.tensor(n).map(|t| t.data.as_slice())).transpose()
    };
    if let Some(code) = unary_code(&node.op) {
        return Ok(vec![elementwise::unary(gpu, &label, code, to, batch, x()?, out)?]);
    }
    let pass = match &node.op {
        NodeOp::Layer(layer) => match layer {
            Layer::Linear { .. } | Layer::Conv2d { .. } | Layer::ConvTranspose2d { .. } => gemm(b, step, &label)?,
            Layer::BatchNorm { .. } => {
                let (scale, shift) = batch_norm_affine(model, layer)?;
                ops::affine::pass(gpu, &label, &scale, &shift, step.act, to, batch, x()?, out)?
            }
            Layer::Reshape { .. } if step.alias => return Ok(vec![]),
            Layer::Reshape { order, .. } => ops::reshape::pass(gpu, &label, shape(0), to, *order, batch, x()?, out)?,
            Layer::Upsample { scale } => ops::upsample::pass(gpu, &label, *scale, shape(0), to, batch, x()?, out)?,
            Layer::ConcatOneHot { classes } => {
                ops::concat_one_hot::pass(gpu, &label, shape(0).elements(), *classes, batch, x()?, b.labels, out)?
            }
            Layer::Relu | Layer::LeakyRelu { .. } | Layer::Tanh | Layer::Sigmoid => {
                return Err(Error::node(&node.name, node.op.name(), "is element-wise and runs as unary (a bug in the graph plan)"));
            }
        },
        NodeOp::Graph(op) => match op {
            GraphOp::Constant { .. } => return Ok(vec![]),
            GraphOp::Add | GraphOp::Sub | GraphOp::Mul | GraphOp::Div => {
                let code = binary_code(op).unwrap_or(0);
                let side = |i: usize| -> Result<(&wgpu::Buffer, elementwise::Operand)> {
                    let info = &g.values[args[i]];
                    let batched = info.kind == crate::model::graph_shape::Kind::Batched;
                    Ok((b.buffer(args[i])?, operand(info.shape, batched, to)))
                };
                elementwise::binary(gpu, &label, code, side(0)?, side(1)?, to, batch, out)?
            }
            GraphOp::Concat { axis } => {
                let parts = (0..args.len()).map(|i| Ok((b.buffer(args[i])?, shape(i)))).collect::<Result<Vec<_>>>()?;
                return gather::concat(gpu, &label, *axis, &parts, to, batch, out);
            }
            GraphOp::InstanceNorm { channels, eps, weight, bias } => {
                let spec = Norm::groups(to, *channels, *eps, floats(weight)?, floats(bias)?);
                norm::norm(gpu, &label, &spec, to, batch, x()?, out)?
            }
            GraphOp::GroupNorm { groups, eps, weight, bias, .. } => {
                let spec = Norm::groups(to, *groups, *eps, floats(weight)?, floats(bias)?);
                norm::norm(gpu, &label, &spec, to, batch, x()?, out)?
            }
            GraphOp::LayerNorm { axis, eps, weight, bias, .. } => {
                let spec = Norm::layer(to, *axis, *eps, floats(weight)?, floats(bias)?);
                norm::norm(gpu, &label, &spec, to, batch, x()?, out)?
            }
            GraphOp::PixelNorm { eps } => norm::pixel_norm(gpu, &label, *eps, to, batch, x()?, out)?,
            GraphOp::ReduceMean { axes, keepdims } => {
                norm::reduce_mean(gpu, &label, axes, *keepdims, shape(0), to, batch, x()?, out)?
            }
            GraphOp::Prelu { weight, .. } => {
                elementwise::prelu(gpu, &label, &model.tensor(weight)?.data, to, batch, x()?, out)?
            }
            GraphOp::Pad { pads, mode } => spatial::pad(gpu, &label, *pads, *mode, shape(0), to, batch, x()?, out)?,
            GraphOp::Upsample { scale, mode: UpsampleMode::Nearest, .. } => {
                ops::upsample::pass(gpu, &label, *scale, shape(0), to, batch, x()?, out)?
            }
            GraphOp::Upsample { scale, mode: UpsampleMode::Bilinear, align_corners } => {
                spatial::resize(gpu, &label, *scale, *align_corners, shape(0), to, batch, x()?, out)?
            }
            GraphOp::Embedding { dim, weight, .. } => {
                gather::embedding(gpu, &label, &model.tensor(weight)?.data, *dim, batch, b.labels, out)?
            }
            GraphOp::AvgPool2d { kernel, stride, padding, count_include_pad } => spatial::avg_pool2d(
                gpu,
                &label,
                *kernel,
                *stride,
                *padding,
                *count_include_pad,
                (shape(0), to),
                batch,
                x()?,
                out,
            )?,
            _ => return Err(Error::node(&node.name, node.op.name(), "has no GPU kernel (a bug in the graph plan)")),
        },
    };
    Ok(vec![pass])
}

/// A linear or convolution step: packed weights (a fused batch norm folded in) uploaded once
/// per device and model, shared by plans of every batch size.
fn gemm(b: &Bindings, step: &Step, label: &str) -> Result<Pass> {
    let (gpu, model) = (b.gpu, b.model);
    let g = &model.graph;
    let node = &g.graph.nodes[step.node];
    let input = g.values[g.args[step.node][0]].shape;
    let output = g.values[step.value].shape;
    let NodeOp::Layer(layer) = &node.op else { return Err(Error::Gpu(format!("{label} is not a GEMM layer"))) };
    let (weight, bias, kind) = match layer {
        Layer::Linear { weight, bias, .. } => (weight, bias, GemmKind::Linear),
        Layer::Conv2d { weight, bias, stride, padding, .. } => {
            (weight, bias, GemmKind::Conv2d { stride: *stride, padding: *padding })
        }
        Layer::ConvTranspose2d { weight, bias, stride, padding, .. } => {
            (weight, bias, GemmKind::ConvTranspose2d { stride: *stride, top: padding[0], left: padding[2] })
        }
        _ => return Err(Error::Gpu(format!("{label} is not a GEMM layer"))),
    };
    let folded = step.batch_norm.map(|j| &g.graph.nodes[j]);
    let key = format!(
        "graph:{}#{}:{kind:?}:{input:?}->{output:?}+{}",
        model.manifest.weights.sha256,
        node.name,
        folded.map_or("", |n| n.name.as_str())
    );
    let weights = gpu.weights.get_or_upload(key, || {
        let mut w: Tensor = model.tensor(weight)?.clone();
        let co = output.channels();
        let mut bias_values = match bias {
            Some(name) => model.tensor(name)?.data.clone(),
            None => vec![0.0; co],
        };
        if let Some(NodeOp::Layer(bn)) = folded.map(|n| &n.op) {
            let (scale, shift) = batch_norm_affine(model, bn)?;
            let channel_of: Box<dyn Fn(usize) -> usize> = match kind {
                GemmKind::ConvTranspose2d { .. } => {
                    let k = w.shape[2] * w.shape[3];
                    Box::new(move |i| (i / k) % co)
                }
                _ => {
                    let per = w.len() / w.shape[0].max(1);
                    Box::new(move |i| i / per)
                }
            };
            for (i, v) in w.data.iter_mut().enumerate() {
                *v *= scale[channel_of(i)];
            }
            for (c, v) in bias_values.iter_mut().enumerate() {
                *v = *v * scale[c] + shift[c];
            }
        }
        let ((_, ih, iw), (_, oh, ow)) = (chw(input), chw(output));
        let spec = match kind {
            GemmKind::Linear => ops::linear::spec(&w),
            GemmKind::Conv2d { stride, padding } => ops::conv2d::spec(&w, stride, padding, [oh, ow]),
            GemmKind::ConvTranspose2d { stride, top, left } => {
                ops::conv_transpose2d::spec(&w, stride, top, left, [ih, iw], [oh, ow])
            }
        };
        ops::gemm::upload(gpu, label, spec, &bias_values, output)
    })?;
    ops::gemm::pass(gpu, label, &weights, step.act, input, output, b.batch, b.buffer(g.args[step.node][0])?, b.buffer(step.value)?)
}
