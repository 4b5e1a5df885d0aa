//! Mutated safetensors files (header JSON, header length, data bytes) of the digits weights, and
//! the property that loading them never panics.

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use webgan::Model;
use webgan::model::weights::sha256_hex;

use crate::generators::{ByteEdit, apply_byte_edits, byte_edit, hostile_token, size};
use crate::invariants::check_model;
use crate::json::{JsonEdit, apply_json_edits, json_edit};
use crate::{config, digits};

/// An edit of a safetensors file: of its JSON header (entries, fields), its 8-byte header
/// length, or its bytes.
#[derive(Clone, Debug)]
pub(crate) enum SafetensorsEdit {
    /// Set a field (`dtype`, `shape`, `data_offsets`) of one tensor to raw JSON text.
    Field(Index, u8, String),
    /// Set `data_offsets` of one tensor to a pair of sizes.
    Offsets(Index, usize, usize),
    /// Set `shape` of one tensor to a list of sizes.
    Shape(Index, Vec<usize>),
    /// Any other edit of the header's JSON (remove, duplicate keys, extra fields, …).
    Json(JsonEdit),
    /// Pad the header with trailing spaces (which the format allows).
    Pad(usize),
}

#[derive(Clone, Debug)]
pub(crate) enum LengthEdit {
    Keep,
    Set(u64),
    Add(i64),
}

pub(crate) fn safetensors_edit() -> impl Strategy<Value = SafetensorsEdit> {
    let dtype = prop::sample::select(vec![
        "\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"I8\"", "\"U8\"", "\"I64\"", "\"BOOL\"",
        "\"F8_E4M3\"", "\"f32\"", "\"garbage\"", "\"\"", "32", "null",
    ])
    .prop_map(String::from);
    let field_token = prop_oneof![1 => dtype, 2 => hostile_token()];
    prop_oneof![
        3 => (any::<Index>(), 0u8..3, field_token).prop_map(|(i, f, t)| SafetensorsEdit::Field(i, f, t)),
        3 => (any::<Index>(), size(), size()).prop_map(|(i, a, b)| SafetensorsEdit::Offsets(i, a, b)),
        2 => (any::<Index>(), prop::collection::vec(size(), 0..5)).prop_map(|(i, s)| SafetensorsEdit::Shape(i, s)),
        2 => json_edit().prop_map(SafetensorsEdit::Json),
        1 => (0usize..300).prop_map(SafetensorsEdit::Pad),
    ]
}

pub(crate) fn length_edit() -> impl Strategy<Value = LengthEdit> {
    prop_oneof![
        4 => Just(LengthEdit::Keep),
        1 => prop::sample::select(vec![
            0, 1, 2, 7, 8, 100_000_000, 100_000_001, 1 << 32, 1 << 62, u64::MAX - 8, u64::MAX,
        ])
        .prop_map(LengthEdit::Set),
        1 => any::<u64>().prop_map(LengthEdit::Set),
        1 => (-16i64..=16).prop_map(LengthEdit::Add),
    ]
}

#[derive(Clone, Debug)]
pub(crate) enum DataEdit {
    Keep,
    Truncate(Index),
    Extend(usize, u8),
    Bytes(Vec<ByteEdit>),
}

pub(crate) fn data_edit() -> impl Strategy<Value = DataEdit> {
    prop_oneof![
        3 => Just(DataEdit::Keep),
        1 => any::<Index>().prop_map(DataEdit::Truncate),
        1 => (1usize..5000, any::<u8>()).prop_map(|(n, b)| DataEdit::Extend(n, b)),
        1 => prop::collection::vec(byte_edit(), 1..4).prop_map(DataEdit::Bytes),
    ]
}

/// The digits weights split into (header JSON, data after the header).
pub(crate) fn digits_safetensors() -> &'static (Value, Vec<u8>) {
    static SPLIT: OnceLock<(Value, Vec<u8>)> = OnceLock::new();
    SPLIT.get_or_init(|| {
        let bytes = digits().weights.as_ref().expect("digits weights");
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        let header: Value = serde_json::from_slice(&bytes[8..8 + n]).expect("fixture header is JSON");
        (header, bytes[8 + n..].to_vec())
    })
}

pub(crate) fn mutated_safetensors(edits: &[SafetensorsEdit], length: &LengthEdit, data: &DataEdit) -> Vec<u8> {
    let (header, rest) = digits_safetensors();
    let mut header = header.clone();
    let names: Vec<String> = header
        .as_object()
        .map(|m| m.keys().filter(|k| *k != "__metadata__").cloned().collect())
        .unwrap_or_default();
    let mut json_edits = Vec::new();
    let mut raw: Vec<(String, String)> = Vec::new();
    let mut pad = 0;
    for edit in edits {
        let entry = |header: &mut Value, i: &Index| -> Option<serde_json::Map<String, Value>> {
            let name = i.get(&names);
            header.get_mut(name)?.as_object_mut().map(std::mem::take)
        };
        match edit {
            SafetensorsEdit::Field(i, field, token) => {
                let name = i.get(&names).clone();
                if let Some(mut map) = entry(&mut header, i) {
                    let key = ["dtype", "shape", "data_offsets"][*field as usize % 3];
                    let placeholder = format!("@@webgan-st-{}@@", raw.len());
                    map.insert(key.into(), Value::String(placeholder.clone()));
                    raw.push((placeholder, token.clone()));
                    header[&name] = Value::Object(map);
                }
            }
            SafetensorsEdit::Offsets(i, a, b) => {
                let name = i.get(&names).clone();
                if let Some(mut map) = entry(&mut header, i) {
                    map.insert("data_offsets".into(), serde_json::json!([*a as u64, *b as u64]));
                    header[&name] = Value::Object(map);
                }
            }
            SafetensorsEdit::Shape(i, dims) => {
                let name = i.get(&names).clone();
                if let Some(mut map) = entry(&mut header, i) {
                    let dims: Vec<u64> = dims.iter().map(|&d| d as u64).collect();
                    map.insert("shape".into(), serde_json::json!(dims));
                    header[&name] = Value::Object(map);
                }
            }
            SafetensorsEdit::Json(e) => json_edits.push(e.clone()),
            SafetensorsEdit::Pad(n) => pad += n,
        }
    }
    let mut text = if json_edits.is_empty() {
        serde_json::to_string(&header).expect("serialize header")
    } else {
        apply_json_edits(&header, &json_edits)
    };
    for (placeholder, token) in &raw {
        text = text.replace(&format!("\"{placeholder}\""), token);
    }
    text.push_str(&" ".repeat(pad));
    let len = text.len() as u64;
    let len = match length {
        LengthEdit::Keep => len,
        LengthEdit::Set(v) => *v,
        LengthEdit::Add(d) => len.wrapping_add(*d as u64),
    };
    let mut bytes = len.to_le_bytes().to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(rest);
    match data {
        DataEdit::Keep => {}
        DataEdit::Truncate(i) => {
            let at = i.index(bytes.len());
            bytes.truncate(at);
        }
        DataEdit::Extend(n, b) => bytes.extend(std::iter::repeat_n(*b, *n)),
        DataEdit::Bytes(edits) => apply_byte_edits(&mut bytes, edits),
    }
    bytes
}

/// The digits manifest with the weights' size and hash set to `weights`', so that a mutation
/// gets past those checks to the safetensors parser.
pub(crate) fn digits_manifest_for(weights: &[u8]) -> String {
    let mut manifest: Value = serde_json::from_str(&digits().json).expect("fixture manifest");
    manifest["weights"]["bytes"] = serde_json::json!(weights.len());
    manifest["weights"]["sha256"] = serde_json::json!(sha256_hex(weights));
    serde_json::to_string(&manifest).expect("serialize manifest")
}

proptest! {
    #![proptest_config(config())]

    /// Mutated safetensors files (header length, header JSON: dtypes, shapes, offsets up to
    /// `u64::MAX`, removed, duplicated and extra entries; truncated, extended, flipped bytes),
    /// with the manifest's size and hash updated to match: loading never panics, and a model it
    /// accepts holds every tensor with the right shape and finite values.
    #[test]
    fn mutated_safetensors_never_panic(
        edits in prop::collection::vec(safetensors_edit(), 0..4),
        length in length_edit(),
        data in data_edit(),
    ) {
        let weights = mutated_safetensors(&edits, &length, &data);
        let manifest = digits_manifest_for(&weights);
        if let Ok(model) = Model::from_parts(&manifest, &weights) {
            check_model(&model)?;
        }
    }
}
