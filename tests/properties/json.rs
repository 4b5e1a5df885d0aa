//! Structural edits of a JSON document (replace any node or number with raw text, add duplicate
//! or unknown keys, remove and duplicate items), applied to manifests and safetensors headers.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

use crate::generators::hostile_token;

/// One step of the path to a node of a JSON tree.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Key(String),
    At(usize),
}

/// Every node of `value` (pre-order), as the path from the root.
pub(crate) fn paths(value: &Value) -> Vec<Vec<Step>> {
    fn walk(value: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(here.clone());
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    here.push(Step::Key(k.clone()));
                    walk(v, here, out);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    here.push(Step::At(i));
                    walk(v, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

pub(crate) fn node_mut<'a>(value: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    let mut node = value;
    for step in path {
        node = match step {
            Step::Key(k) => node.as_object_mut()?.get_mut(k)?,
            Step::At(i) => node.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(node)
}

/// Placeholders that never occur in the fixtures; replaced by raw text after serializing.
pub(crate) fn value_placeholder(i: usize) -> String {
    format!("@@webgan-value-{i}@@")
}
pub(crate) fn key_placeholder(i: usize) -> String {
    format!("@@webgan-key-{i}@@")
}

/// A structural edit of a JSON document.
#[derive(Clone, Debug)]
pub(crate) enum JsonEdit {
    /// Replace the node at (an index into) the node list with raw text.
    Replace(Index, String),
    /// Replace one of the numbers (sizes, paddings, eps, …) with raw text.
    ReplaceNumber(Index, String),
    /// Add `"key": raw` to an object: `key` picks one of the object's own keys (a duplicate key)
    /// or, past them, a new field.
    AddKey(Index, Index, String),
    /// Remove a key of an object, or an item of an array.
    Remove(Index),
    /// Duplicate an item of an array (e.g. a layer) in place.
    DuplicateItem(Index),
}

pub(crate) fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        3 => (any::<Index>(), hostile_token()).prop_map(|(i, t)| JsonEdit::Replace(i, t)),
        4 => (any::<Index>(), hostile_token()).prop_map(|(i, t)| JsonEdit::ReplaceNumber(i, t)),
        2 => (any::<Index>(), any::<Index>(), hostile_token()).prop_map(|(o, k, t)| JsonEdit::AddKey(o, k, t)),
        1 => any::<Index>().prop_map(JsonEdit::Remove),
        1 => any::<Index>().prop_map(JsonEdit::DuplicateItem),
    ]
}

/// New field names an `AddKey` may add besides an object's own keys.
pub(crate) const EXTRA_KEYS: &[&str] = &["slope", "extra", "op", "eps", "shape", "weights", "layers", "latent_dim", "bias", ""];

/// `value` with `edits` applied, serialized, with the raw replacements spliced in.
pub(crate) fn apply_json_edits(value: &Value, edits: &[JsonEdit]) -> String {
    let mut value = value.clone();
    let mut raw_values: Vec<String> = Vec::new();
    let mut raw_keys: Vec<String> = Vec::new();
    for edit in edits {
        // Paths of the tree as it is now, so every edit lands on an existing node.
        let all = paths(&value);
        match edit {
            JsonEdit::Replace(at, token) => {
                let path = at.get(&all).clone();
                if let Some(node) = node_mut(&mut value, &path) {
                    *node = Value::String(value_placeholder(raw_values.len()));
                    raw_values.push(token.clone());
                }
            }
            JsonEdit::ReplaceNumber(at, token) => {
                let numbers: Vec<&Vec<Step>> =
                    all.iter().filter(|p| matches!(node_ref(&value, p), Some(Value::Number(_)))).collect();
                if numbers.is_empty() {
                    continue;
                }
                let path = at.get(&numbers).to_vec();
                if let Some(node) = node_mut(&mut value, &path) {
                    *node = Value::String(value_placeholder(raw_values.len()));
                    raw_values.push(token.clone());
                }
            }
            JsonEdit::AddKey(at, key, token) => {
                let objects: Vec<&Vec<Step>> =
                    all.iter().filter(|p| matches!(node_ref(&value, p), Some(Value::Object(_)))).collect();
                if objects.is_empty() {
                    continue;
                }
                let path = at.get(&objects).to_vec();
                let Some(Value::Object(map)) = node_mut(&mut value, &path) else { continue };
                let mut names: Vec<String> = map.keys().cloned().collect();
                names.extend(EXTRA_KEYS.iter().map(|s| s.to_string()));
                let name = key.get(&names).clone();
                map.insert(key_placeholder(raw_keys.len()), Value::String(value_placeholder(raw_values.len())));
                raw_keys.push(name);
                raw_values.push(token.clone());
            }
            JsonEdit::Remove(at) => {
                let path = at.get(&all).clone();
                if let Some((last, parent)) = path.split_last() {
                    match (node_mut(&mut value, parent), last) {
                        (Some(Value::Object(map)), Step::Key(k)) => {
                            map.remove(k);
                        }
                        (Some(Value::Array(items)), Step::At(i)) if *i < items.len() => {
                            items.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            JsonEdit::DuplicateItem(at) => {
                let path = at.get(&all).clone();
                if let Some((Step::At(i), parent)) = path.split_last() {
                    if let Some(Value::Array(items)) = node_mut(&mut value, parent) {
                        if let Some(item) = items.get(*i).cloned() {
                            items.insert(*i, item);
                        }
                    }
                }
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&value).expect("serialize");
    for (i, name) in raw_keys.iter().enumerate() {
        let quoted = serde_json::to_string(name).expect("key");
        text = text.replace(&format!("\"{}\"", key_placeholder(i)), &quoted);
    }
    for (i, raw) in raw_values.iter().enumerate() {
        text = text.replace(&format!("\"{}\"", value_placeholder(i)), raw);
    }
    text
}

pub(crate) fn node_ref<'a>(value: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut node = value;
    for step in path {
        node = match step {
            Step::Key(k) => node.as_object()?.get(k)?,
            Step::At(i) => node.as_array()?.get(*i)?,
        };
    }
    Some(node)
}
