//! Properties of manifests: mutated `model.json` text, hostile numbers in its fields, and extra
//! (duplicate or unknown) keys.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;
use webgan::Model;
use webgan::model::{Manifest, shape};

use crate::generators::{apply_byte_edits, byte_edit, hostile_token, size};
use crate::invariants::{check_forward, check_model, check_shapes};
use crate::json::{JsonEdit, apply_json_edits, json_edit};
use crate::{bases, config};

proptest! {
    #![proptest_config(config())]

    /// Mutated manifests (byte edits, hostile values in any field, removed, duplicated and extra
    /// keys): parsing and shape inference never panic; what they accept keeps every shape within
    /// the caps and ends at `output_shape`; and the digits weights then load or fail cleanly.
    #[test]
    fn mutated_manifests_never_panic(
        base in 0usize..2,
        json_edits in prop_oneof![1 => Just(vec![]), 4 => prop::collection::vec(json_edit(), 1..4)],
        byte_edits in prop_oneof![3 => Just(vec![]), 1 => prop::collection::vec(byte_edit(), 1..5)],
    ) {
        let base = &bases()[base];
        let text = if json_edits.is_empty() {
            base.json.clone()
        } else {
            let value: Value = serde_json::from_str(&base.json).expect("fixture manifest is JSON");
            apply_json_edits(&value, &json_edits)
        };
        let mut bytes = text.into_bytes();
        apply_byte_edits(&mut bytes, &byte_edits);
        let text = String::from_utf8_lossy(&bytes);
        check_loaded(&text, base.weights.as_deref())?;
    }

    /// Hostile numbers (0, 1, caps ± 1, 2^32, 2^62, `usize::MAX`, negatives, floats) in place of
    /// one to three of a manifest's numbers — sizes, paddings, strides, shapes, eps — so that
    /// nearly every case reaches shape inference (and, for the digits model, weight loading).
    #[test]
    fn hostile_numbers_in_manifests_never_panic(
        base in 0usize..2,
        edits in prop::collection::vec(
            (any::<Index>(), prop_oneof![
                6 => size().prop_map(|v| v.to_string()),
                1 => prop::sample::select(vec!["-1", "-0", "0.5", "1e-05", "1e400", "18446744073709551616", "-9223372036854775808"])
                    .prop_map(String::from),
            ]).prop_map(|(i, t)| JsonEdit::ReplaceNumber(i, t)),
            1..4,
        ),
    ) {
        let base = &bases()[base];
        let value: Value = serde_json::from_str(&base.json).expect("fixture manifest is JSON");
        let text = apply_json_edits(&value, &edits);
        check_loaded(&text, base.weights.as_deref())?;
    }

    /// Strictness: every object of the fixtures' manifests spells out all its fields, so one
    /// more key anywhere (top level, `weights`, any layer) is a duplicate or an unknown field,
    /// and either must be rejected, whatever its value.
    #[test]
    fn duplicate_keys_and_unknown_fields_are_rejected(
        base in 0usize..2,
        object in any::<Index>(),
        key in any::<Index>(),
        token in hostile_token(),
    ) {
        let base = &bases()[base];
        let value: Value = serde_json::from_str(&base.json).expect("fixture manifest is JSON");
        let text = apply_json_edits(&value, &[JsonEdit::AddKey(object, key, token)]);
        let parsed = Manifest::parse(&text);
        prop_assert!(parsed.is_err(), "accepted a manifest with an extra key:\n{}", text);
    }
}

/// Whatever of `text` the loader accepts keeps its invariants: the shapes, and with `weights`
/// the loaded model and one forward pass.
fn check_loaded(text: &str, weights: Option<&[u8]>) -> Result<(), TestCaseError> {
    let Ok(manifest) = Manifest::parse(text) else { return Ok(()) };
    let Ok(shapes) = shape::infer(&manifest) else { return Ok(()) };
    check_shapes(&manifest, &shapes)?;
    if let Some(weights) = weights {
        if let Ok(model) = Model::from_parts(text, weights) {
            prop_assert_eq!(&model.shapes, &shapes);
            check_model(&model)?;
            check_forward(&model)?;
        }
    }
    Ok(())
}
