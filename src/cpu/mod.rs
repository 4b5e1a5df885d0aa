//! The CPU reference: every op in plain Rust, run node by node exactly as the model says
//! (batch norm unfolded; a format-1 chain runs as its lowered graph). It is the oracle for the
//! GPU tests and the fallback without WebGPU.

pub mod activation;
pub mod avg_pool;
pub mod batch_norm;
pub mod broadcast;
pub mod concat;
pub mod concat_one_hot;
pub mod conv2d;
pub mod conv_transpose2d;
pub mod embedding;
pub mod graph;
pub mod linear;
pub mod norm;
pub mod pad;
pub mod reduce;
pub mod reshape;
pub mod resize;
pub mod unary;
pub mod upsample;

use crate::error::{Error, Result};
use crate::limits::{CPU_MEMORY_BUDGET, MAX_COUNT};
use crate::model::{Inputs, Layer, Model};
use crate::tensor::Tensor;

pub use activation::Activation;

/// Runs the generator: `latents` `[N, latent_dim]` (and one class per sample for conditional
/// models) → `[N, …output_shape]`.
pub fn forward(model: &Model, latents: &Tensor, classes: Option<&[u32]>) -> Result<Tensor> {
    run_request(model, Some(latents), classes, None)
}

/// Runs the model on any checked request ([`Inputs`]): latents, classes, images.
pub fn run(model: &Model, inputs: &Inputs) -> Result<Tensor> {
    run_request(model, inputs.latents.as_ref(), inputs.classes.as_deref(), inputs.images.as_ref())
}

fn run_request(model: &Model, latents: Option<&Tensor>, classes: Option<&[u32]>, images: Option<&Tensor>) -> Result<Tensor> {
    let n = model.check_request(latents, classes, images)?;
    check_budget(model, n)?;
    let out = graph::run(model, &graph::Request { latents, classes, images, n })?;
    debug_assert_eq!(out.batch(), n);
    Ok(out)
}

/// The most samples one CPU run takes for `model` within [`CPU_MEMORY_BUDGET`] (the values
/// alive together at the graph's peak), at most [`MAX_COUNT`]; 0 when even one is over.
pub fn budget_batch(model: &Model) -> usize {
    let per_sample = (model.peak_elements_per_sample() as u64).saturating_mul(4).max(1);
    (CPU_MEMORY_BUDGET / per_sample).min(MAX_COUNT as u64) as usize
}

/// Fails when `n` samples (already checked by [`Model::check_input`]) exceed [`budget_batch`].
fn check_budget(model: &Model, n: usize) -> Result<()> {
    let fits = budget_batch(model);
    if n > fits {
        let bytes = (n as u64).saturating_mul(model.peak_elements_per_sample() as u64).saturating_mul(4);
        return Err(Error::Input(format!(
            "{n} images of `{}` need {} MB of activations on the CPU, over the budget of {} MB; \
             generate at most {fits} per call",
            model.manifest.name,
            bytes >> 20,
            CPU_MEMORY_BUDGET >> 20
        )));
    }
    Ok(())
}

/// One format-1 layer on the CPU.
pub(crate) fn run_layer(model: &Model, layer: &Layer, x: &Tensor, classes: Option<&[u32]>) -> Result<Tensor> {
    let bias = |name: &Option<String>| name.as_ref().map(|b| model.tensor(b)).transpose();
    Ok(match layer {
        Layer::ConcatOneHot { classes: k } => {
            let labels = classes.ok_or_else(|| Error::Input("a class label is needed".into()))?;
            concat_one_hot::concat_one_hot(x, labels, *k)
        }
        Layer::Linear { weight, bias: b, .. } => linear::linear(x, model.tensor(weight)?, bias(b)?),
        Layer::BatchNorm { eps, weight, bias: b, running_mean, running_var, .. } => {
            batch_norm::batch_norm(
                x,
                bias(weight)?,
                bias(b)?,
                model.tensor(running_mean)?,
                model.tensor(running_var)?,
                *eps,
            )
        }
        Layer::Relu => activation::apply(x, Activation::Relu),
        Layer::LeakyRelu { slope } => activation::apply(x, Activation::LeakyRelu(*slope)),
        Layer::Tanh => activation::apply(x, Activation::Tanh),
        Layer::Sigmoid => activation::apply(x, Activation::Sigmoid),
        Layer::Reshape { shape, order } => reshape::reshape(x, shape, *order),
        Layer::ConvTranspose2d { stride, padding, output_padding, weight, bias: b, .. } => {
            conv_transpose2d::conv_transpose2d(
                x,
                model.tensor(weight)?,
                bias(b)?,
                *stride,
                *padding,
                *output_padding,
            )
        }
        Layer::Conv2d { stride, padding, weight, bias: b, .. } => {
            conv2d::conv2d(x, model.tensor(weight)?, bias(b)?, *stride, *padding)
        }
        Layer::Upsample { scale } => upsample::upsample(x, *scale),
    })
}
