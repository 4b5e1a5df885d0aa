//! Shared generators: sizes and floats from untrusted input (0, 1, every cap and integer width),
//! hostile JSON tokens, and byte-level edits of a text or a file.

use proptest::prelude::*;
use proptest::sample::Index;

/// A size from untrusted input: mostly small (so that valid chains occur), often 0 or 1, and
/// regularly at or past every cap and integer width, up to `usize::MAX`.
pub(crate) fn size() -> impl Strategy<Value = usize> {
    let big = |v: u64| v as usize;
    prop_oneof![
        3 => 0usize..=4,
        3 => 1usize..=100,
        1 => 100usize..=70_000,
        2 => prop::sample::select(vec![
            7, 28, 32, 63, 64, 65, 100, 1023, 1024, 1025, 3136, 4096, 65536, 65537,
            1 << 24, (1 << 24) + 1, 1 << 28, (1 << 28) + 1, big(1 << 31), big(1 << 32),
            big((1 << 32) + 1), big(1 << 62), big(18446744069414584321), usize::MAX / 2,
            usize::MAX / 2 + 1, usize::MAX - 1, usize::MAX,
        ]),
        1 => any::<usize>(),
    ]
}

pub(crate) fn float() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => prop::sample::select(vec![
            0.0, -0.0, 1e-5, 1e-3, 0.2, 1.0, -1.0, -1e-5, 1e-45, f32::MIN_POSITIVE, f32::MAX,
            f32::MIN, f32::NAN, f32::INFINITY, f32::NEG_INFINITY,
        ]),
        1 => any::<f32>(),
    ]
}

/// Raw JSON text for a value: integers at and past every cap and integer width, negatives,
/// floats (finite and not), strings, nested arrays, objects, and text that is not JSON at all.
pub(crate) fn hostile_token() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "0", "1", "-1", "2", "3", "4", "7", "10", "28", "32", "42", "64", "65", "100", "1024", "1025",
        "3136", "4096", "4097", "65536", "65537", "16777216", "16777217", "268435456", "268435457",
        "4294967295", "4294967296", "4294967297", "4611686018427387904", "9223372036854775807",
        "9223372036854775808", "18446744069414584321", "18446744073709551615", "18446744073709551616",
        "340282366920938463463374607431768211456", "-9223372036854775808", "-0", "1e400", "-1e400",
        "0.5", "1.5", "0.0", "-0.0", "1e-05", "1e-45", "3.4e38", "3.5e38", "1e308", "2e-308",
        "NaN", "Infinity", "-Infinity", "null", "true", "false", "\"\"", "\"relu\"", "\"f32\"",
        "\"f16\"", "\"../weights.safetensors\"", "\"/dev/zero\"", "\"weights.safetensors\"",
        "\"channels_last\"", "\"channels_first\"", "\"webgan-model/1\"", "\"fc.weight\"", "\"\\u0000\"",
        "[]", "[0]", "[1]", "[1,1]", "[0,0]", "[4,4]", "[2,2]", "[64,64]", "[65,65]", "[0,0,0,0]",
        "[1,1,1,1]", "[1024,1024,1024,1024]", "[18446744073709551615,1,1,1]", "[3,64,64]",
        "[1,28,28]", "[64,7,7]", "[3136]", "[4294967296,4294967296,2]",
        "[3136,4294967297,18446744069414584321]", "[100,4294967297,18446744069414584321]",
        "[4611686018427387904,100]", "[[[[[[[[[[[[]]]]]]]]]]]]", "{}", "{\"op\":\"relu\"}",
        "{\"op\":\"relu\",\"slope\":0.2}", "{\"op\":\"upsample\",\"scale\":[65536,65536]}",
        "[{\"op\":\"relu\"}]", "\"", "{", "]", "",
    ])
    .prop_map(String::from);
    prop_oneof![
        6 => fixed,
        1 => any::<u64>().prop_map(|v| v.to_string()),
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| format!("{v:?}")),
        1 => prop::collection::vec(size(), 0..6).prop_map(|v| {
            format!("[{}]", v.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","))
        }),
        1 => prop::sample::select(vec![100usize, 127, 128, 129, 1000, 100_000])
            .prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d))),
        1 => prop::collection::vec(any::<char>(), 0..12)
            .prop_map(|v| serde_json::to_string(&v.into_iter().collect::<String>()).expect("string")),
    ]
}

/// A byte-level edit of a text or a file.
#[derive(Clone, Debug)]
pub(crate) enum ByteEdit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
}

pub(crate) fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    let json_byte = prop::sample::select(b"{}[]\":,0123456789-+.eE \\nul".to_vec());
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| ByteEdit::Flip(i, 1 << b)),
        (any::<Index>(), json_byte.clone()).prop_map(|(i, b)| ByteEdit::Set(i, b)),
        (any::<Index>(), prop_oneof![json_byte, any::<u8>()]).prop_map(|(i, b)| ByteEdit::Insert(i, b)),
        any::<Index>().prop_map(ByteEdit::Delete),
    ]
}

pub(crate) fn apply_byte_edits(bytes: &mut Vec<u8>, edits: &[ByteEdit]) {
    for edit in edits {
        if bytes.is_empty() {
            bytes.push(b'{');
        }
        match edit {
            ByteEdit::Flip(i, mask) => {
                let i = i.index(bytes.len());
                bytes[i] ^= mask;
            }
            ByteEdit::Set(i, b) => {
                let i = i.index(bytes.len());
                bytes[i] = *b;
            }
            ByteEdit::Insert(i, b) => {
                let i = i.index(bytes.len() + 1);
                bytes.insert(i, *b);
            }
            ByteEdit::Delete(i) => {
                let i = i.index(bytes.len());
                bytes.remove(i);
            }
        }
    }
}
