//! Finishing the lowering: the graph's one output, dead nodes dropped, the inputs and weights the
//! live nodes read.

use super::*;

impl Lower {
    /// The graph's output, dead nodes dropped, and the weights the live nodes read.
    pub(super) fn finish(mut self, graph: &GraphProto, opset: i64) -> Result<Imported> {
        if graph.output.len() != 1 {
            return Err(Error::Input(format!(
                "the graph has {} outputs; webgan converts models with exactly one output (the image)",
                graph.output.len()
            )));
        }
        let out_name = graph.output[0].name();
        let bad = |m: String| Error::Input(format!("graph output \"{}\": {m}", out_name.escape_debug()));
        let a = match self.values.get(out_name) {
            Some(Value::Act(a)) if !a.class => a.clone(),
            Some(Value::Act(_)) => return Err(bad("is the class input; webgan outputs images".into())),
            Some(Value::Const(_)) => return Err(bad("is a constant; it does not depend on the inputs".into())),
            Some(Value::Gelu(..)) => return Err(bad(GELU_ONLY.into())),
            None => return Err(bad("is not computed by any node".into())),
        };
        let output = match a.oshape.len() {
            1 | 3 => self.as_shape(&a, &a.oshape.clone()),
            0 => self.as_shape(&a, &[1]),
            _ => {
                return Err(bad(format!(
                    "has shape {:?}; webgan outputs are [N, C, H, W] images or [N, F] vectors",
                    full(&a.oshape)
                )));
            }
        };
        // A graph input straight to the output would leave no node.
        let output = if self.by_name.contains_key(&output) {
            output
        } else {
            let shape = a.wshape.clone();
            self.emit("output", Op::Reshape { shape, order: Order::ChannelsFirst }, vec![output])
        };
        // Live nodes: those the output depends on.
        let mut live = vec![false; self.nodes.len()];
        let mut used_inputs: HashSet<String> = HashSet::new();
        let mut stack = vec![output.clone()];
        while let Some(name) = stack.pop() {
            match self.by_name.get(&name) {
                Some(&i) if !live[i] => {
                    live[i] = true;
                    stack.extend(self.nodes[i].inputs.iter().cloned());
                }
                Some(_) => {}
                None => {
                    used_inputs.insert(name);
                }
            }
        }
        let nodes: Vec<Node> = self.nodes.iter().zip(&live).filter(|(_, l)| **l).map(|(n, _)| n.clone()).collect();
        if nodes.len() > MAX_LAYERS {
            return Err(Error::Input(format!(
                "the converted model has {} nodes; webgan models have at most {MAX_LAYERS}",
                nodes.len()
            )));
        }
        let inputs: Vec<Input> = self.inputs.iter().filter(|i| used_inputs.contains(input_name(i))).cloned().collect();
        if inputs.is_empty() {
            return Err(bad("does not depend on any graph input".into()));
        }
        for i in &inputs {
            if let Input::Class { name, classes: 0 } = i {
                return Err(Error::Input(format!(
                    "class input \"{name}\" feeds no embedding; webgan needs a Gather on a [K, D] table to know the number of classes"
                )));
            }
        }
        let mut weights = Vec::new();
        let mut seen = HashSet::new();
        for node in &nodes {
            for w in node.op.weights() {
                if seen.insert(w.to_string()) {
                    let data = self
                        .weights
                        .get(w)
                        .cloned()
                        .ok_or_else(|| Error::Input(format!("internal: weight {w} is missing")))?;
                    weights.push((w.to_string(), data));
                }
            }
        }
        Ok(Imported { inputs, nodes, output, weights, opset })
    }
}

fn input_name(i: &Input) -> &str {
    match i {
        Input::Latent { name, .. } | Input::Class { name, .. } | Input::Image { name, .. } => name,
    }
}
