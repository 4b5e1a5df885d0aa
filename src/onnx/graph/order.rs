//! The model's opset, and the nodes in an order where every value is defined before it is read.

use super::*;

/// The default domain's opset, which must be one webgan reads.
pub(super) fn opset(model: &ModelProto) -> Result<i64> {
    let version = model
        .opset_import
        .iter()
        .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
        .map(|o| o.version())
        .ok_or_else(|| Error::Input("the model imports no opset of the default ONNX domain; export it again".into()))?;
    if !OPSETS.contains(&version) {
        return Err(Error::Input(format!(
            "opset {version} is not supported; webgan converts opsets {} to {}: export with torch.onnx.export(..., opset_version=17)",
            OPSETS.start(),
            OPSETS.end()
        )));
    }
    Ok(version)
}

/// The nodes in an order where every input is defined before it is read (ONNX requires files
/// to be sorted; this sorts those that are not, and names a node on a cycle or reading an
/// undefined value).
pub(super) fn order(graph: &GraphProto, values: &HashMap<String, Value>) -> Result<Vec<usize>> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (i, node) in graph.node.iter().enumerate() {
        for out in node.output.iter().filter(|o| !o.is_empty()) {
            if producer.insert(out, i).is_some() || values.contains_key(out.as_str()) {
                return Err(node_error(
                    node,
                    format!("output \"{out}\" is defined twice; the graph is not valid ONNX"),
                ));
            }
        }
    }
    let mut waiting = vec![0usize; graph.node.len()];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); graph.node.len()];
    for (i, node) in graph.node.iter().enumerate() {
        for input in node.input.iter().filter(|s| !s.is_empty()) {
            match producer.get(input.as_str()) {
                Some(&p) => {
                    waiting[i] += 1;
                    readers[p].push(i);
                }
                None if values.contains_key(input.as_str()) => {}
                None => {
                    return Err(node_error(
                        node,
                        format!(
                            "input \"{input}\" is not defined by any node, initializer or graph input; the graph is not valid ONNX"
                        ),
                    ));
                }
            }
        }
    }
    let mut ready: std::collections::VecDeque<usize> = (0..graph.node.len()).filter(|&i| waiting[i] == 0).collect();
    let mut out = Vec::with_capacity(graph.node.len());
    while let Some(i) = ready.pop_front() {
        out.push(i);
        for &r in &readers[i] {
            waiting[r] -= 1;
            if waiting[r] == 0 {
                ready.push_back(r);
            }
        }
    }
    if let Some(stuck) = (0..graph.node.len()).find(|&i| waiting[i] > 0) {
        return Err(node_error(&graph.node[stuck], "is part of a cycle; the graph is not valid ONNX"));
    }
    Ok(out)
}
