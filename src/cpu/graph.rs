//! Runs a checked graph on the CPU: nodes in execution order, each value freed after the last
//! node that reads it (so a chain holds two activations at a time, as before graphs).

use crate::cpu::broadcast::{self, Binary};
use crate::cpu::pad::PadMode as CpuPad;
use crate::cpu::unary::{self, Unary};
use crate::cpu::{avg_pool, concat, embedding, norm, reduce, resize, upsample};
use crate::error::{Error, Result};
use crate::model::graph::Input;
use crate::model::graph_op::{GeluApproximate, PadMode, UpsampleMode};
use crate::model::graph_shape::Kind;
use crate::model::{GraphOp, Model, NodeOp};
use crate::tensor::Tensor;

/// The request's tensors, by role (already checked against the model).
pub struct Request<'a> {
    pub latents: Option<&'a Tensor>,
    pub classes: Option<&'a [u32]>,
    pub images: Option<&'a Tensor>,
    pub n: usize,
}

/// Evaluates the graph of `model` on a checked request.
pub fn run(model: &Model, request: &Request) -> Result<Tensor> {
    let g = &model.graph;
    let mut values: Vec<Option<Tensor>> = vec![None; g.values.len()];
    for (i, input) in g.graph.inputs.iter().enumerate() {
        values[i] = match input {
            Input::Latent { .. } => request.latents.cloned(),
            Input::Image { .. } => request.images.cloned(),
            // Class ids are read from the request by the ops that take them.
            Input::Class { .. } => Some(Tensor::zeros(&[request.n, 1])),
        };
    }
    for (k, node) in g.graph.nodes.iter().enumerate() {
        let out = {
            let args: Vec<&Tensor> = g.args[k]
                .iter()
                .map(|&id| values[id].as_ref().ok_or_else(|| Error::Input(format!("input {id} was not given"))))
                .collect::<Result<_>>()?;
            let batched: Vec<bool> = g.args[k].iter().map(|&id| g.values[id].kind != Kind::Constant).collect();
            eval(model, &node.op, &args, &batched, request)
                .map_err(|e| match e {
                    Error::Input(m) => Error::node(&node.name, node.op.name(), m),
                    other => other,
                })?
        };
        debug_assert!(g.values[g.node_value(k)].kind == Kind::Constant || out.shape[1..] == g.values[g.node_value(k)].shape.dims()[..]);
        values[g.node_value(k)] = Some(out);
        for &id in &g.args[k] {
            if g.last_use[id] == k {
                values[id] = None;
            }
        }
    }
    values[g.output()].take().ok_or_else(|| Error::Input("the graph produced no output".into()))
}

/// One node's value from its arguments.
fn eval(model: &Model, op: &NodeOp, args: &[&Tensor], batched: &[bool], request: &Request) -> Result<Tensor> {
    let op = match op {
        NodeOp::Layer(layer) => return crate::cpu::run_layer(model, layer, args[0], request.classes),
        NodeOp::Graph(op) => op,
    };
    let values = |name: &Option<String>| -> Result<Option<&[f32]>> {
        name.as_ref().map(|n| model.tensor(n).map(|t| t.data.as_slice())).transpose()
    };
    let x = args.first().copied();
    let x = || x.ok_or_else(|| Error::Input("an input is missing".into()));
    let un = |u: Unary| -> Result<Tensor> { Ok(unary::apply(x()?, u)) };
    Ok(match op {
        GraphOp::Constant { tensor } => model.tensor(tensor)?.clone(),
        GraphOp::Add | GraphOp::Sub | GraphOp::Mul | GraphOp::Div => {
            let kind = match op {
                GraphOp::Add => Binary::Add,
                GraphOp::Sub => Binary::Sub,
                GraphOp::Mul => Binary::Mul,
                _ => Binary::Div,
            };
            broadcast::binary(kind, args[0], batched[0], args[1], batched[1], request.n)
        }
        GraphOp::Concat { axis } => concat::concat(args, *axis),
        GraphOp::InstanceNorm { eps, weight, bias, .. } => norm::instance_norm(x()?, values(weight)?, values(bias)?, *eps),
        GraphOp::PixelNorm { eps } => norm::pixel_norm(x()?, *eps),
        GraphOp::GroupNorm { groups, eps, weight, bias, .. } => {
            norm::group_norm(x()?, *groups, values(weight)?, values(bias)?, *eps)
        }
        GraphOp::LayerNorm { axis, eps, weight, bias, .. } => {
            norm::layer_norm(x()?, *axis, values(weight)?, values(bias)?, *eps)
        }
        GraphOp::ReduceMean { axes, keepdims } => reduce::reduce_mean(x()?, axes, *keepdims),
        GraphOp::Sqrt => un(Unary::Sqrt)?,
        GraphOp::Reciprocal => un(Unary::Reciprocal)?,
        GraphOp::Pow { exponent } => un(Unary::Pow(*exponent))?,
        GraphOp::Relu => un(Unary::Relu)?,
        GraphOp::LeakyRelu { slope } => un(Unary::LeakyRelu(*slope))?,
        GraphOp::Elu { alpha } => un(Unary::Elu(*alpha))?,
        GraphOp::Silu => un(Unary::Silu)?,
        GraphOp::Gelu { approximate: GeluApproximate::None } => un(Unary::Gelu)?,
        GraphOp::Gelu { approximate: GeluApproximate::Tanh } => un(Unary::GeluTanh)?,
        GraphOp::Sigmoid => un(Unary::Sigmoid)?,
        GraphOp::Tanh => un(Unary::Tanh)?,
        GraphOp::Clamp { min, max } => un(Unary::Clamp(*min, *max))?,
        GraphOp::Prelu { weight, .. } => unary::prelu(x()?, &model.tensor(weight)?.data),
        GraphOp::Pad { pads, mode } => {
            let mode = match mode {
                PadMode::Zero => CpuPad::Zero,
                PadMode::Reflect => CpuPad::Reflect,
                PadMode::Replicate => CpuPad::Replicate,
            };
            crate::cpu::pad::pad(x()?, *pads, mode)
        }
        GraphOp::Upsample { scale, mode: UpsampleMode::Nearest, .. } => upsample::upsample(x()?, *scale),
        GraphOp::Upsample { scale, mode: UpsampleMode::Bilinear, align_corners } => {
            resize::bilinear(x()?, *scale, *align_corners)
        }
        GraphOp::Embedding { weight, .. } => {
            let ids = request.classes.ok_or_else(|| Error::Input("class ids are needed".into()))?;
            embedding::embedding(ids, model.tensor(weight)?)
        }
        GraphOp::AvgPool2d { kernel, stride, padding, count_include_pad } => {
            avg_pool::avg_pool2d(x()?, *kernel, *stride, *padding, *count_include_pad)
        }
    })
}
