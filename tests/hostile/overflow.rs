//! Integer overflow: reshapes whose product wraps past 2^64 and paddings of `u64::MAX`.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{UNDER_2_GB, assert_mentions, check, limit_for, run};
use crate::model::{assert_no_output, digits_with, generate_args, layers, out_dir};

/// u64::MAX, as the hostile padding.
const U64_MAX: u64 = u64::MAX;

/// 2^32 + 1 and its inverse modulo 2^64: a reshape to `[E, A, B]` has E·A·B ≡ E (mod 2^64), so
/// a product that wraps sees exactly the input's element count.
const A: u64 = (1 << 32) + 1;
const B: u64 = 18446744069414584321;

fn wrapping_reshapes(tmp: &Path, backend: &str) {
    assert_eq!(3136u64.wrapping_mul(A).wrapping_mul(B), 3136, "the wrapped product is the input's");
    let out = out_dir(tmp);
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            // flat 3136 → [3136, 2^32+1, B] (wraps to 3136) → [64, 7, 7]: every later layer fits.
            "wraps to the input's count",
            Box::new(|m: &mut Value| {
                layers(m)[4] = json!({"op": "reshape", "shape": [3136, A, B], "order": "channels_first"});
                layers(m).insert(5, json!({"op": "reshape", "shape": [64, 7, 7], "order": "channels_first"}));
            }),
            "out.png",
        ),
        (
            "[2^32, 2^32, 2] (wraps to 0)",
            Box::new(|m: &mut Value| {
                layers(m)[4] = json!({"op": "reshape", "shape": [1u64 << 32, 1u64 << 32, 2], "order": "channels_first"});
            }),
            "out.png",
        ),
        (
            // As the last layer, so output_shape itself is the nonsense shape (once exit 0).
            "last layer, to .npy",
            Box::new(|m: &mut Value| {
                layers(m).push(json!({"op": "reshape", "shape": [784, A, B], "order": "channels_last"}));
                m["output_shape"] = json!([784, A, B]);
            }),
            "out.npy",
        ),
    ];
    for (i, (what, edit, file)) in cases.into_iter().enumerate() {
        let model = digits_with(tmp, &format!("model{i}"), edit);
        let label = format!("reshape {what} ({backend})");
        let target = out.join(file);
        let args = generate_args(&model, &target, backend, true);
        let message = check(&run(&label, limit_for(backend), &args), UNDER_2_GB);
        assert_mentions(&label, &message, &["reshape"]);
        assert_no_output(&label, &out);
    }
}

#[test]
fn reshape_product_past_2_64_cpu() {
    let tmp = tempfile::tempdir().expect("tempdir");
    wrapping_reshapes(tmp.path(), "cpu");
}

#[test]
fn reshape_product_past_2_64_gpu() {
    let tmp = tempfile::tempdir().expect("tempdir");
    wrapping_reshapes(tmp.path(), "gpu");
}

fn huge_paddings(backend: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = out_dir(tmp.path());
    let conv2d = |padding: [u64; 4]| {
        json!({"op": "conv2d", "in_channels": 1, "out_channels": 1, "kernel": [3, 3], "stride": [1, 1],
               "padding": padding, "weight": "extra.weight", "bias": null})
    };
    let cases: Vec<(&str, Value, Option<Value>)> = vec![
        ("conv_transpose2d padding [u64::MAX, 1, 1, 1]", json!([U64_MAX, 1, 1, 1]), None),
        ("conv_transpose2d padding [1, 1, u64::MAX, u64::MAX]", json!([1, 1, U64_MAX, U64_MAX]), None),
        ("conv2d padding [u64::MAX, 0, 0, 0]", json!([1, 1, 1, 1]), Some(conv2d([U64_MAX, 0, 0, 0]))),
    ];
    for (i, (what, padding, extra)) in cases.into_iter().enumerate() {
        let model = digits_with(tmp.path(), &format!("model{i}"), |m| {
            layers(m)[5]["padding"] = padding;
            if let Some(layer) = extra {
                layers(m).push(layer);
            }
        });
        let label = format!("{what} ({backend})");
        let message = check(&run(&label, limit_for(backend), &generate_args(&model, &out.join("out.png"), backend, true)), UNDER_2_GB);
        assert_mentions(&label, &message, &["padding"]);
        assert_no_output(&label, &out);
    }
}

#[test]
fn padding_u64_max_cpu() {
    huge_paddings("cpu");
}

#[test]
fn padding_u64_max_gpu() {
    huge_paddings("gpu");
}
