//! The schedule of a graph on the GPU: one step per node, except that a batch norm that is the
//! only reader of a linear/convolution's output is folded into its weights, and an activation
//! (relu, leaky_relu, tanh, sigmoid) that is the only reader of a GEMM's or batch norm's output
//! becomes that step's epilogue, as the format-1 fold does for chains. Reshapes that move
//! nothing in the padded layout become aliases of their input.

use crate::gpu::ops::reshape::is_identity;
use crate::model::{Activation, GraphOp, Layer, Model, NodeOp};

/// One GPU step.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// The node (index in execution order) whose op the step runs.
    pub node: usize,
    /// The value the step writes: the node's own, or that of the last node fused into it.
    pub value: usize,
    /// A batch norm folded into this GEMM step (its node index).
    pub batch_norm: Option<usize>,
    /// The epilogue activation.
    pub act: Activation,
    /// An identity reshape: no dispatch, the value shares its input's buffer.
    pub alias: bool,
}

/// The activation a node applies, when it is one the epilogues know.
pub fn activation(op: &NodeOp) -> Option<Activation> {
    match op {
        NodeOp::Layer(Layer::Relu) | NodeOp::Graph(GraphOp::Relu) => Some(Activation::Relu),
        NodeOp::Layer(Layer::LeakyRelu { slope }) | NodeOp::Graph(GraphOp::LeakyRelu { slope }) => {
            Some(Activation::LeakyRelu(*slope))
        }
        NodeOp::Layer(Layer::Tanh) | NodeOp::Graph(GraphOp::Tanh) => Some(Activation::Tanh),
        NodeOp::Layer(Layer::Sigmoid) | NodeOp::Graph(GraphOp::Sigmoid) => Some(Activation::Sigmoid),
        _ => None,
    }
}

/// True for the ops that run as a GEMM.
pub fn is_gemm(op: &NodeOp) -> bool {
    matches!(op, NodeOp::Layer(Layer::Linear { .. } | Layer::Conv2d { .. } | Layer::ConvTranspose2d { .. }))
}

/// The steps of `model`'s graph, in execution order.
pub fn schedule(model: &Model) -> Vec<Step> {
    let g = &model.graph;
    let nodes = &g.graph.nodes;
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); g.values.len()];
    for (k, args) in g.args.iter().enumerate() {
        for &v in args {
            readers[v].push(k);
        }
    }
    // The one node reading `v`, when exactly one read exists.
    let sole = |v: usize| match readers[v].as_slice() {
        [k] => Some(*k),
        _ => None,
    };
    let mut fused = vec![false; nodes.len()];
    let mut steps = Vec::with_capacity(nodes.len());
    for (k, node) in nodes.iter().enumerate() {
        if fused[k] {
            continue;
        }
        let mut step = Step { node: k, value: g.node_value(k), batch_norm: None, act: Activation::Identity, alias: false };
        let is_bn = |j: usize| matches!(nodes[j].op, NodeOp::Layer(Layer::BatchNorm { .. }));
        let head_bn = is_bn(k);
        if is_gemm(&node.op) {
            if let Some(j) = sole(step.value).filter(|&j| is_bn(j)) {
                step.batch_norm = Some(j);
                fused[j] = true;
                step.value = g.node_value(j);
            }
        }
        if is_gemm(&node.op) || head_bn {
            if let Some((j, act)) = sole(step.value).and_then(|j| activation(&nodes[j].op).map(|a| (j, a))) {
                step.act = act;
                fused[j] = true;
                step.value = g.node_value(j);
            }
        }
        if let NodeOp::Layer(Layer::Reshape { order, .. }) = &node.op {
            let from = g.values[g.args[k][0]].shape;
            step.alias = is_identity(from, g.values[step.value].shape, *order);
        }
        steps.push(step);
    }
    steps
}
