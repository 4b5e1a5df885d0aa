//! Load-time fusion, the first step of the GPU lowering: the layer list becomes a shorter list
//! of steps. Batch norm is folded into the preceding linear/convolution's weights and bias, and
//! an activation that follows becomes that step's epilogue, so kernels see weights, bias and
//! one activation only.

use crate::error::Result;
use crate::model::{Activation, Layer, Model, Order, Shape};
use crate::tensor::Tensor;

/// What kind of matrix-multiply-shaped layer a [`Gemm`] step is.
#[derive(Clone, Debug, PartialEq)]
pub enum GemmKind {
    /// weight `[out, in]`.
    Linear,
    /// weight `[C_out, C_in, kh, kw]`.
    Conv2d { stride: [usize; 2], padding: [usize; 4] },
    /// weight `[C_in, C_out, kh, kw]`. Only the top/left crop is kept: the bottom/right crop and
    /// output_padding are implied by the output shape.
    ConvTranspose2d { stride: [usize; 2], top: usize, left: usize },
}

/// A linear or convolution layer with batch norm and activation folded in.
#[derive(Clone, Debug)]
pub struct Gemm {
    pub kind: GemmKind,
    /// Weight in the manifest's layout, already scaled by any folded batch norm.
    pub weight: Tensor,
    /// One bias per output channel (zeros when the layer had none).
    pub bias: Vec<f32>,
    pub act: Activation,
    pub input: Shape,
    pub output: Shape,
}

/// One GPU step.
#[derive(Clone, Debug)]
pub enum Step {
    Gemm(Gemm),
    /// y = act(x · scale[c] + shift[c]): a batch norm or activation with no layer to fold into.
    Affine { scale: Vec<f32>, shift: Vec<f32>, act: Activation, shape: Shape },
    Reshape { from: Shape, to: Shape, order: Order },
    Upsample { scale: [usize; 2], from: Shape, to: Shape },
    ConcatOneHot { classes: usize, from: Shape, to: Shape },
}

/// Folds the model's layers into GPU steps.
pub fn fold(model: &Model) -> Result<Vec<Step>> {
    let mut steps: Vec<Step> = Vec::new();
    for (index, layer) in model.manifest.layers.iter().enumerate() {
        let input = model.shape_before(index);
        let output = model.shapes[index];
        let bias_or_zeros = |name: &Option<String>, n: usize| -> Result<Vec<f32>> {
            Ok(match name {
                Some(b) => model.tensor(b)?.data.clone(),
                None => vec![0.0; n],
            })
        };
        match layer {
            Layer::Linear { weight, bias, out_features, .. } => steps.push(Step::Gemm(Gemm {
                kind: GemmKind::Linear,
                weight: model.tensor(weight)?.clone(),
                bias: bias_or_zeros(bias, *out_features)?,
                act: Activation::Identity,
                input,
                output,
            })),
            Layer::Conv2d { weight, bias, out_channels, stride, padding, .. } => {
                steps.push(Step::Gemm(Gemm {
                    kind: GemmKind::Conv2d { stride: *stride, padding: *padding },
                    weight: model.tensor(weight)?.clone(),
                    bias: bias_or_zeros(bias, *out_channels)?,
                    act: Activation::Identity,
                    input,
                    output,
                }))
            }
            Layer::ConvTranspose2d { weight, bias, out_channels, stride, padding, .. } => {
                steps.push(Step::Gemm(Gemm {
                    kind: GemmKind::ConvTranspose2d { stride: *stride, top: padding[0], left: padding[2] },
                    weight: model.tensor(weight)?.clone(),
                    bias: bias_or_zeros(bias, *out_channels)?,
                    act: Activation::Identity,
                    input,
                    output,
                }))
            }
            Layer::BatchNorm { channels, eps, weight, bias, running_mean, running_var } => {
                let mean = &model.tensor(running_mean)?.data;
                let var = &model.tensor(running_var)?.data;
                let gamma = weight.as_ref().map(|w| model.tensor(w)).transpose()?;
                let beta = bias.as_ref().map(|b| model.tensor(b)).transpose()?;
                let scale: Vec<f32> = (0..*channels)
                    .map(|c| gamma.map_or(1.0, |g| g.data[c]) / (var[c] + eps).sqrt())
                    .collect();
                let shift: Vec<f32> = (0..*channels)
                    .map(|c| beta.map_or(0.0, |b| b.data[c]) - mean[c] * scale[c])
                    .collect();
                match steps.last_mut() {
                    Some(Step::Gemm(g)) if g.act == Activation::Identity => fold_scale(g, &scale, &shift),
                    Some(Step::Affine { scale: s, shift: t, act: Activation::Identity, .. }) => {
                        for c in 0..*channels {
                            s[c] *= scale[c];
                            t[c] = t[c] * scale[c] + shift[c];
                        }
                    }
                    _ => steps.push(Step::Affine { scale, shift, act: Activation::Identity, shape: output }),
                }
            }
            Layer::Relu | Layer::LeakyRelu { .. } | Layer::Tanh | Layer::Sigmoid => {
                let act = match layer {
                    Layer::Relu => Activation::Relu,
                    Layer::LeakyRelu { slope } => Activation::LeakyRelu(*slope),
                    Layer::Tanh => Activation::Tanh,
                    _ => Activation::Sigmoid,
                };
                match steps.last_mut() {
                    Some(Step::Gemm(Gemm { act: a @ Activation::Identity, .. }))
                    | Some(Step::Affine { act: a @ Activation::Identity, .. }) => *a = act,
                    _ => {
                        let c = output.channels();
                        steps.push(Step::Affine { scale: vec![1.0; c], shift: vec![0.0; c], act, shape: output })
                    }
                }
            }
            Layer::Reshape { order, .. } => steps.push(Step::Reshape { from: input, to: output, order: *order }),
            Layer::Upsample { scale } => steps.push(Step::Upsample { scale: *scale, from: input, to: output }),
            Layer::ConcatOneHot { classes } => {
                steps.push(Step::ConcatOneHot { classes: *classes, from: input, to: output })
            }
        }
    }
    Ok(steps)
}

/// Scales output channel `c` of a gemm's weights by `scale[c]` and maps its bias through the
/// affine transform.
fn fold_scale(g: &mut Gemm, scale: &[f32], shift: &[f32]) {
    let w = &mut g.weight;
    match g.kind {
        GemmKind::Linear | GemmKind::Conv2d { .. } => {
            // Output channel is the leading dimension.
            let per = w.len() / w.shape[0];
            for (i, v) in w.data.iter_mut().enumerate() {
                *v *= scale[i / per];
            }
        }
        GemmKind::ConvTranspose2d { .. } => {
            let (co, k) = (w.shape[1], w.shape[2] * w.shape[3]);
            for (i, v) in w.data.iter_mut().enumerate() {
                *v *= scale[(i / k) % co];
            }
        }
    }
    for (c, b) in g.bias.iter_mut().enumerate() {
        *b = *b * scale[c] + shift[c];
    }
}
