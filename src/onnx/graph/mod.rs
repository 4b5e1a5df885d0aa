//! Lowering an ONNX graph to webgan nodes. Each ONNX value is either a constant (folded, see
//! [`fold`]) or an activation: a webgan tensor with its webgan per-sample shape (`[F]` or
//! `[C, H, W]`) and the ONNX per-sample shape it stands for (ONNX's full shape is `[N, …]`). Shape
//! ops on activations only change the ONNX shape; a `reshape` node is emitted when a consumer
//! needs the webgan shape to differ (a conv reading a `[Z]` latent unsqueezed to `[Z, 1, 1]`).

mod conv;
mod elementwise;
mod inputs;
mod layers;
mod lower;
mod order;
mod output;
mod shape;
mod spatial;
mod values;

use conv::{check_dilations, check_sizes, conv_out, conv_pads};
use elementwise::channel_vector;
use layers::{check_len, transpose_node};
use order::{opset, order};
use values::{
    Act, Constant, GELU_ONLY, GeluPart, Value, act, canonical_shape, count, full, konst, konsts, opt_konst, pair,
};

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::limits::{MAX_CLASSES, MAX_KERNEL, MAX_LATENT_DIM, MAX_LAYERS, MAX_PADDING};
use crate::onnx::attr::{self, Msg, node_error};
use crate::onnx::emit::{Imported, Input, Node, Op, Order, PadMode, UpsampleMode, Weight};
use crate::onnx::fold::{self, Budget};
use crate::onnx::proto::{GraphProto, ModelProto, NodeProto, ValueInfoProto, type_proto};
use crate::onnx::tensor::{self, BATCH, Const, ExternalFiles, batch_used};
use crate::onnx::{MAX_FOLDED_ELEMENTS, MAX_ONNX_NODES, OPSETS};

/// Ops on activations that webgan converts (constants fold through [`fold::OPS`] as well).
const LOWERED: &[&str] = &[
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Concat",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "BatchNormalization",
    "InstanceNormalization",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Elu",
    "Gelu",
    "Tanh",
    "Sigmoid",
    "Pad",
    "Resize",
    "Upsample",
    "ReduceMean",
    "GlobalAveragePool",
    "AveragePool",
    "Erf (in GELU)",
    "Sqrt",
    "Reciprocal",
    "Pow",
    "Neg",
    "Clip",
    "Gather",
    "Identity",
    "Dropout",
    "Cast",
    "Shape",
    "Expand",
];

/// Converts `model`'s graph.
pub(crate) fn import(model: &ModelProto, files: &mut ExternalFiles) -> Result<Imported> {
    let graph = model.graph.as_ref().ok_or_else(|| Error::Input("the model has no graph; export it again".into()))?;
    let opset = opset(model)?;
    if graph.node.len() > MAX_ONNX_NODES {
        return Err(Error::Input(format!(
            "the graph has {} nodes; webgan converts at most {MAX_ONNX_NODES}",
            graph.node.len()
        )));
    }
    if !graph.sparse_initializer.is_empty() {
        return Err(Error::Input(
            "the graph has sparse initializers, which webgan does not read; export with dense weights".into(),
        ));
    }
    let mut lower = Lower::new(graph);
    for init in &graph.initializer {
        let c = tensor::read(init, files)?;
        lower.values.insert(
            init.name().to_string(),
            Value::Const(Constant { c: Rc::new(c), name: init.name().to_string(), initializer: true }),
        );
    }
    for input in &graph.input {
        if !lower.values.contains_key(input.name()) {
            lower.graph_input(input)?;
        }
    }
    for index in order(graph, &lower.values)? {
        let node = &graph.node[index];
        lower.node(node, index).map_err(|m| node_error(node, m))?;
    }
    lower.finish(graph, opset)
}

/// `name` as a webgan name: `/` becomes `.`, anything but letters, digits, `_`, `-` and `.`
/// becomes `_` (`/gen/conv1/Conv` → `gen.conv1.Conv`, `onnx::Mul_3` → `onnx.Mul_3`).
fn sanitize(name: &str) -> String {
    let name = name.replace("::", "/");
    let mapped: String = name
        .chars()
        .map(|c| match c {
            '/' => '.',
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => c,
            _ => '_',
        })
        .collect();
    let trimmed = mapped.trim_matches('.');
    trimmed.chars().take(200).collect()
}

struct Lower {
    values: HashMap<String, Value>,
    /// How many node inputs (and graph outputs) read each ONNX value.
    uses: HashMap<String, usize>,
    nodes: Vec<Node>,
    by_name: HashMap<String, usize>,
    /// Names taken by inputs and nodes.
    names: HashSet<String>,
    weights: HashMap<String, Weight>,
    /// Reshapes already emitted: (tensor, shape) → node.
    reshapes: HashMap<(String, Vec<usize>), String>,
    /// Constant nodes already emitted: (weight, shape) → node.
    constants: HashMap<(String, Vec<usize>), String>,
    inputs: Vec<Input>,
    /// The fixed batch size of the graph inputs, when the exporter fixed it.
    static_batch: Option<i64>,
    budget: Budget,
}

impl Lower {
    fn new(graph: &GraphProto) -> Lower {
        let mut uses: HashMap<String, usize> = HashMap::new();
        for node in &graph.node {
            for input in node.input.iter().filter(|s| !s.is_empty()) {
                *uses.entry(input.clone()).or_default() += 1;
            }
        }
        for out in &graph.output {
            *uses.entry(out.name().to_string()).or_default() += 1;
        }
        Lower {
            values: HashMap::new(),
            uses,
            nodes: Vec::new(),
            by_name: HashMap::new(),
            names: HashSet::new(),
            weights: HashMap::new(),
            reshapes: HashMap::new(),
            constants: HashMap::new(),
            inputs: Vec::new(),
            static_batch: None,
            budget: Budget::new(MAX_FOLDED_ELEMENTS),
        }
    }

    fn uses(&self, value: &str) -> usize {
        self.uses.get(value).copied().unwrap_or(0)
    }

    /// A free webgan name made from `base`.
    fn fresh_name(&mut self, base: &str) -> String {
        let base = if base.is_empty() { "node".to_string() } else { base.to_string() };
        let mut name = base.clone();
        let mut k = 2;
        while self.names.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        name
    }

    fn emit(&mut self, base: &str, op: Op, inputs: Vec<String>) -> String {
        let name = self.fresh_name(base);
        self.by_name.insert(name.clone(), self.nodes.len());
        self.nodes.push(Node { name: name.clone(), inputs, op });
        name
    }

    /// Stores a weight under a free name made from `base` (or reuses the same tensor's name).
    fn weight(&mut self, base: &str, shape: Vec<usize>, data: Rc<[f32]>) -> String {
        let base = sanitize(base);
        let base = if base.is_empty() { "weight".to_string() } else { base };
        let mut name = base.clone();
        let mut k = 2;
        while let Some(w) = self.weights.get(&name) {
            if Rc::ptr_eq(&w.data, &data) && w.shape == shape {
                return name;
            }
            name = format!("{base}_{k}");
            k += 1;
        }
        self.weights.insert(name.clone(), Weight { shape, data });
        name
    }

    /// A weight made from constant `c` with `shape`: named after the initializer when it is one,
    /// else `NODE.SUFFIX`.
    fn const_weight(&mut self, c: &Constant, node: &str, suffix: &str, shape: Vec<usize>) -> Msg<String> {
        let base = if c.initializer { c.name.clone() } else { format!("{node}.{suffix}") };
        let data = c.c.to_f32()?;
        Ok(self.weight(&base, shape, data))
    }

    /// `a` as a webgan tensor of shape `shape` (same element count), through a `reshape` node
    /// when its webgan shape differs.
    fn as_shape(&mut self, a: &Act, shape: &[usize]) -> String {
        if a.wshape == shape {
            return a.tensor.clone();
        }
        let key = (a.tensor.clone(), shape.to_vec());
        if let Some(name) = self.reshapes.get(&key) {
            return name.clone();
        }
        let base = a.reshape_name.clone().unwrap_or_else(|| format!("{}.reshape", a.tensor));
        let name = self.emit(
            &base,
            Op::Reshape { shape: shape.to_vec(), order: Order::ChannelsFirst },
            vec![a.tensor.clone()],
        );
        self.reshapes.insert(key, name.clone());
        name
    }

    /// `a` in the webgan shape of its ONNX shape (`[F]` or `[C, H, W]`).
    fn canonical(&mut self, a: &Act) -> Msg<(String, Vec<usize>)> {
        let shape = canonical_shape(&a.oshape).ok_or_else(|| {
            format!(
                "its input has per-sample shape {:?} (ONNX {:?}); webgan tensors are [F] or [C, H, W] per sample",
                a.oshape,
                full(&a.oshape)
            )
        })?;
        Ok((self.as_shape(a, &shape), shape))
    }

    /// `a` as a [C, H, W] image.
    fn image(&mut self, a: &Act) -> Msg<(String, [usize; 3])> {
        if a.oshape.len() != 3 {
            return Err(format!("needs an [N, C, H, W] input; it has {:?}", full(&a.oshape)));
        }
        let (t, s) = self.canonical(a)?;
        Ok((t, [s[0], s[1], s[2]]))
    }

    fn node(&mut self, node: &NodeProto, index: usize) -> Msg<()> {
        let domain = node.domain();
        if !(domain.is_empty() || domain == "ai.onnx") {
            return Err(format!(
                "domain \"{domain}\" is not supported; webgan converts ops of the default ONNX domain only (export without custom ops)"
            ));
        }
        let ins: Vec<Option<Value>> =
            node.input.iter().map(|name| if name.is_empty() { None } else { self.values.get(name).cloned() }).collect();
        let all_const = ins.iter().flatten().all(|v| matches!(v, Value::Const(_)));
        if all_const {
            let consts: Vec<Option<Rc<Const>>> = ins
                .iter()
                .map(|v| v.as_ref().and_then(|v| if let Value::Const(c) = v { Some(c.c.clone()) } else { None }))
                .collect();
            let outs = fold::eval(node, &consts, &mut self.budget)?;
            for (i, name) in node.output.iter().enumerate() {
                if name.is_empty() {
                    continue;
                }
                let c =
                    outs.get(i).ok_or_else(|| format!("output {i} is not computed by webgan's constant folding"))?;
                self.values.insert(
                    name.clone(),
                    Value::Const(Constant { c: Rc::new(c.clone()), name: name.clone(), initializer: false }),
                );
            }
            return Ok(());
        }
        let base = if node.name().is_empty() { format!("{}_{index}", node.op_type()) } else { sanitize(node.name()) };
        let value = self.lower(node, &ins, &base)?;
        for (i, name) in node.output.iter().enumerate().skip(1) {
            if !name.is_empty() && self.uses(name) > 0 {
                return Err(format!(
                    "output {i} (\"{name}\") is used; webgan converts only the first output of {}",
                    node.op_type()
                ));
            }
        }
        let out = node.output.first().filter(|o| !o.is_empty()).ok_or("has no output")?;
        self.values.insert(out.clone(), value);
        Ok(())
    }

    /// A `constant` node for weight `w` of shape `shape` (one per weight and shape).
    fn constant_node(&mut self, w: &str, shape: Vec<usize>) -> String {
        let key = (w.to_string(), shape);
        if let Some(n) = self.constants.get(&key) {
            return n.clone();
        }
        let name = self.emit(w, Op::Constant { tensor: w.to_string() }, vec![]);
        self.constants.insert(key, name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(sanitize("/gen/conv1/Conv"), "gen.conv1.Conv");
        assert_eq!(sanitize("onnx::Mul_3"), "onnx.Mul_3");
        assert_eq!(sanitize("a b\"c"), "a_b_c");
    }
}
