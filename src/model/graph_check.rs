//! Checks a graph before anything is allocated: unique names, every read defined, no cycle
//! (nodes are sorted into an execution order), every node and input used, and the per-sample
//! shape of every value (through [`graph_shape`](crate::model::graph_shape)). Errors name the
//! node.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::limits::{MAX_CLASSES, MAX_LATENT_DIM};
use crate::model::graph::{Graph, Input, Node};
use crate::model::graph_op::NodeOp;
use crate::model::graph_shape::{self, Kind, ValueInfo};
use crate::model::{Layer, Shape, shape};

/// A checked graph: nodes in execution order, the value ids each reads (inputs are values
/// `0..inputs.len()`, node `k` of the order is value `inputs.len() + k`), and every value's
/// shape.
#[derive(Clone, Debug)]
pub struct Checked {
    pub graph: Graph,
    pub args: Vec<Vec<usize>>,
    pub values: Vec<ValueInfo>,
    /// For each value, the index (in execution order) of the last node reading it; the output
    /// lives to the end (`usize::MAX`).
    pub last_use: Vec<usize>,
}

impl Checked {
    /// The value id of the graph output (the last node of the order).
    pub fn output(&self) -> usize {
        self.values.len() - 1
    }

    /// Value id of node `k` of the execution order.
    pub fn node_value(&self, k: usize) -> usize {
        self.graph.inputs.len() + k
    }
}

/// Checks `graph`; `tensor_shape` gives the stored shape of a weights tensor (for constants).
pub fn check(graph: Graph, tensor_shape: &dyn Fn(&str) -> Option<Vec<usize>>) -> Result<Checked> {
    if graph.inputs.is_empty() {
        return Err(Error::Manifest("the graph has no inputs; give it a latent, class or image input".into()));
    }
    if graph.nodes.is_empty() {
        return Err(Error::Manifest("the graph has no nodes".into()));
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut input_values = Vec::with_capacity(graph.inputs.len());
    for (i, input) in graph.inputs.iter().enumerate() {
        if ids.insert(input.name(), i).is_some() || input.name().is_empty() {
            return Err(Error::Manifest(format!("input name `{}` is empty or used twice", input.name())));
        }
        if graph.inputs[..i].iter().any(|other| other.role() == input.role()) {
            return Err(Error::Manifest(format!("the graph has two `{}` inputs; give at most one", input.role())));
        }
        input_values.push(input_info(input)?);
    }
    let base = graph.inputs.len();
    for (k, node) in graph.nodes.iter().enumerate() {
        if ids.insert(node.name.as_str(), base + k).is_some() {
            return Err(Error::node(&node.name, node.op.name(), "this name is used twice; names must be unique"));
        }
    }
    let mut reads: Vec<Vec<usize>> = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let resolved = node.inputs.iter().map(|name| {
            ids.get(name.as_str()).copied().ok_or_else(|| {
                Error::node(&node.name, node.op.name(), format!("reads `{name}`, which no node or input defines"))
            })
        });
        reads.push(resolved.collect::<Result<_>>()?);
    }
    let output = *ids
        .get(graph.output.as_str())
        .filter(|&&id| id >= base)
        .ok_or_else(|| Error::Manifest(format!("output `{}` is not the name of a node", graph.output)))?;
    let order = sort(&graph, &reads)?;

    // Renumber into execution order; the output must come last so it is the final value.
    let mut order: Vec<usize> = order.into_iter().filter(|&k| base + k != output).collect();
    order.push(output - base);
    let mut position = vec![0usize; graph.nodes.len()];
    for (p, &k) in order.iter().enumerate() {
        position[k] = p;
    }
    let renumber = |id: usize| if id < base { id } else { base + position[id - base] };
    let mut nodes = graph.nodes;
    let mut slots: Vec<_> = nodes.drain(..).map(Some).collect();
    let sorted: Vec<_> = order.iter().map(|&k| slots[k].take().expect("each node once")).collect();
    let args: Vec<Vec<usize>> = order.iter().map(|&k| reads[k].iter().map(|&id| renumber(id)).collect()).collect();

    let mut values = input_values;
    for (node, node_args) in sorted.iter().zip(&args) {
        let infos: Vec<ValueInfo> = node_args.iter().map(|&id| values[id].clone()).collect();
        let info = node_output(&node.op, &infos, tensor_shape)
            .map_err(|m| Error::node(&node.name, node.op.name(), m))?;
        values.push(info);
    }
    check_used(&graph.inputs, &sorted, &args, values.len() - 1)?;
    let out = values.last().expect("a node");
    if out.kind != Kind::Batched {
        return Err(Error::Manifest(format!("output `{}` must be computed from the inputs", graph.output)));
    }
    let mut last_use = vec![0usize; values.len()];
    for (p, node_args) in args.iter().enumerate() {
        for &id in node_args {
            last_use[id] = p;
        }
    }
    *last_use.last_mut().expect("a value") = usize::MAX;
    Ok(Checked { graph: Graph { inputs: graph.inputs, nodes: sorted, output: graph.output }, args, values, last_use })
}

/// The shape of a graph input, with its sizes checked.
fn input_info(input: &Input) -> Result<ValueInfo> {
    let bad = |m: String| Error::Manifest(format!("input `{}`: {m}", input.name()));
    match input {
        Input::Latent { shape, .. } => match shape.as_slice() {
            [z] if (1..=MAX_LATENT_DIM).contains(z) => Ok(ValueInfo::batched(Shape::Flat(*z))),
            _ => Err(bad(format!("a latent shape is [Z] with Z from 1 to {MAX_LATENT_DIM}, not {shape:?}"))),
        },
        Input::Class { classes, .. } if (1..=MAX_CLASSES).contains(classes) => {
            Ok(ValueInfo { shape: Shape::Flat(1), kind: Kind::Class(*classes) })
        }
        Input::Class { classes, .. } => Err(bad(format!("classes is {classes}; it must be 1 to {MAX_CLASSES}"))),
        Input::Image { shape, .. } => match shape.as_slice() {
            [c, h, w] => Ok(ValueInfo::batched(
                graph_shape::checked(Shape::Image { c: *c, h: *h, w: *w }).map_err(bad)?,
            )),
            _ => Err(bad(format!("an image shape is [C, H, W], not {shape:?}"))),
        },
    }
}

/// Kahn's algorithm over node indices; a node left over sits on (or after) a cycle.
fn sort(graph: &Graph, reads: &[Vec<usize>]) -> Result<Vec<usize>> {
    let base = graph.inputs.len();
    let n = graph.nodes.len();
    let mut pending: Vec<usize> = reads.iter().map(|r| r.iter().filter(|&&id| id >= base).count()).collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, r) in reads.iter().enumerate() {
        for &id in r.iter().filter(|&&id| id >= base) {
            readers[id - base].push(k);
        }
    }
    let mut ready: Vec<usize> = (0..n).rev().filter(|&k| pending[k] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(k) = ready.pop() {
        order.push(k);
        for &reader in readers[k].iter().rev() {
            pending[reader] -= 1;
            if pending[reader] == 0 {
                ready.push(reader);
            }
        }
    }
    if let Some(k) = (0..n).find(|&k| pending[k] > 0) {
        let node = &graph.nodes[k];
        return Err(Error::node(&node.name, node.op.name(), "is part of a cycle: its inputs depend on its own output"));
    }
    Ok(order)
}

/// Every node feeds the output and every input is read (values numbered as in [`Checked`]).
fn check_used(inputs: &[Input], nodes: &[Node], reads: &[Vec<usize>], output: usize) -> Result<()> {
    let base = inputs.len();
    let mut used = vec![false; base + nodes.len()];
    let mut stack = vec![output];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut used[id], true) || id < base {
            continue;
        }
        stack.extend(&reads[id - base]);
    }
    if let Some(k) = (0..nodes.len()).find(|&k| !used[base + k]) {
        let node = &nodes[k];
        return Err(Error::node(&node.name, node.op.name(), "its output is never used on the way to the output; remove it"));
    }
    if let Some(input) = inputs.iter().zip(&used).find(|(_, u)| !**u).map(|(i, _)| i) {
        return Err(Error::Manifest(format!("input `{}` is never used; remove it", input.name())));
    }
    Ok(())
}

/// The value a node produces from its inputs' values, or why they do not fit.
fn node_output(
    op: &NodeOp,
    args: &[ValueInfo],
    tensor_shape: &dyn Fn(&str) -> Option<Vec<usize>>,
) -> std::result::Result<ValueInfo, String> {
    match op {
        NodeOp::Graph(op) => graph_shape::output(op, args, tensor_shape),
        NodeOp::Layer(Layer::ConcatOneHot { classes }) => match args {
            [x, ValueInfo { kind: Kind::Class(k), .. }] if x.kind == Kind::Batched => {
                if k != classes {
                    return Err(format!("appends {classes} classes but its class input has {k}"));
                }
                let out = shape::layer_output(&Layer::ConcatOneHot { classes: *classes }, x.shape)?;
                Ok(ValueInfo::batched(out))
            }
            _ => Err("reads a flat value and a class input, in that order".into()),
        },
        NodeOp::Layer(layer) => {
            let x = graph_shape::one_batched(args)?;
            Ok(ValueInfo::batched(graph_shape::checked(shape::layer_output(layer, x)?)?))
        }
    }
}
