//! Hand-built `.npy` latents (hostile shapes, dtypes, orders, header lengths, data lengths,
//! flipped bytes), the property that parsing them never panics, and the cases it found.

use proptest::prelude::*;
use webgan::limits::MAX_COUNT;

use crate::config;
use crate::generators::{ByteEdit, apply_byte_edits, byte_edit, float, size};

#[derive(Clone, Debug)]
pub(crate) struct NpySeed {
    pub(crate) magic: u8,
    pub(crate) version: u8,
    pub(crate) descr: String,
    pub(crate) fortran: String,
    pub(crate) shape: String,
    /// Declared header length: the real one, or another.
    pub(crate) header_len: Option<u32>,
    /// Data bytes: the shape's exact size (when small), or another count.
    pub(crate) data_len: DataLen,
    pub(crate) values: Vec<f32>,
    /// Latent length the caller expects.
    pub(crate) dim: usize,
    pub(crate) edits: Vec<ByteEdit>,
}

#[derive(Clone, Debug)]
pub(crate) enum DataLen {
    Exact,
    Fixed(usize),
    ExactPlus(i64),
}

/// Shape tuples for a model with `dim`-long latents: valid ones, and ones of every hostile kind.
pub(crate) fn npy_shape(dim: usize) -> impl Strategy<Value = String> {
    let tuple = |dims: Vec<String>| match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let rows = prop_oneof![3 => 1usize..=6, 1 => size()];
    prop_oneof![
        4 => rows.clone().prop_map(move |n| format!("({n}, {dim})")),
        2 => rows.clone().prop_map(move |n| format!("({n}, {dim}, 1, 1)")),
        1 => prop::sample::select(vec![
            format!("(4611686018427387904, {dim})"),
            format!("(0, {dim})"),
            format!("(100000, {dim})"),
            format!("(4097, {dim})"),
            format!("(4096, {dim})"),
            format!("(18446744073709551615, {dim})"),
            format!("(4294967296, 4294967296)"),
            format!("(4294967297, 18446744069414584321)"),
            format!("(18446744073709551616, {dim})"),
            format!("(-1, {dim})"),
            format!("(1, {dim}, 2, 1)"),
            format!("(1, {dim}, 1)"),
            format!("({dim},)"),
            "()".to_string(),
            "(None, 1)".to_string(),
            "(1.5, 2)".to_string(),
            "[1, 2]".to_string(),
            "(1, 2".to_string(),
            String::new(),
        ]),
        1 => prop::collection::vec(size(), 0..5)
            .prop_map(move |v| tuple(v.iter().map(|d| d.to_string()).collect())),
    ]
}

pub(crate) fn npy_seed() -> impl Strategy<Value = NpySeed> {
    let dim = prop_oneof![3 => 1usize..=8, 1 => Just(100usize), 1 => size()];
    dim.prop_flat_map(|dim| {
        (
            (
                prop_oneof![6 => Just(0u8), 1 => 1u8..4],
                prop_oneof![4 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => any::<u8>()],
                prop_oneof![
                    6 => Just("<f4".to_string()),
                    1 => prop::sample::select(vec!["'>f4'", "'<f8'", "'|u1'", "'<f2'", "'<i4'", "'|b1'", "'O'", "'<U8'", "'garbage'", "''", "'<f4", "42", "None"])
                        .prop_map(|s| s.trim_matches('\'').to_string()),
                ],
                prop_oneof![6 => Just("False".to_string()), 1 => Just("True".to_string()), 1 => Just("0".to_string())],
                npy_shape(dim),
            ),
            (
                prop_oneof![8 => Just(None), 1 => any::<u32>().prop_map(Some), 1 => (0u32..200).prop_map(Some)],
                prop_oneof![
                    6 => Just(DataLen::Exact),
                    1 => prop::sample::select(vec![0usize, 1, 3, 4, 800, 4096]).prop_map(DataLen::Fixed),
                    1 => (-8i64..=8).prop_map(DataLen::ExactPlus),
                ],
                prop::collection::vec(prop_oneof![20 => -4.0f32..4.0, 1 => float()], 0..64),
                prop_oneof![8 => Just(vec![]), 1 => prop::collection::vec(byte_edit(), 1..4)],
            ),
        )
            .prop_map(move |((magic, version, descr, fortran, shape), (header_len, data_len, values, edits))| NpySeed {
                magic,
                version,
                descr,
                fortran,
                shape,
                header_len,
                data_len,
                values,
                dim,
                edits,
            })
    })
}

/// Bytes a declared shape says the data holds, when that is small enough to write.
pub(crate) fn declared_data_bytes(shape: &str, itemsize: usize) -> Option<usize> {
    let inner = shape.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut n = itemsize;
    for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        n = n.checked_mul(part.parse::<usize>().ok()?)?;
    }
    (n <= 1 << 20).then_some(n)
}

pub(crate) fn npy_bytes(seed: &NpySeed) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(match seed.magic {
        0 => b"\x93NUMPY",
        1 => b"\x93NUMPZ",
        2 => b"NUMPY\x93",
        _ => b"\x93NUM",
    });
    out.push(seed.version);
    out.push(0);
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}",
        seed.descr, seed.fortran, seed.shape
    );
    let len_bytes = if seed.version == 1 { 2 } else { 4 };
    // Pad as numpy does: the whole header a multiple of 64 bytes, ending in a newline.
    let unpadded = out.len() + len_bytes + dict.len() + 1;
    let padded = unpadded.div_ceil(64) * 64;
    let mut header = dict.into_bytes();
    header.extend(std::iter::repeat_n(b' ', padded - unpadded));
    header.push(b'\n');
    let declared = seed.header_len.unwrap_or(header.len() as u32);
    if len_bytes == 2 {
        out.extend_from_slice(&(declared as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&declared.to_le_bytes());
    }
    out.extend_from_slice(&header);
    let itemsize = match seed.descr.as_str() {
        "<f8" => 8,
        "|u1" | "|b1" => 1,
        "<f2" => 2,
        _ => 4,
    };
    let exact = declared_data_bytes(&seed.shape, itemsize);
    let n = match seed.data_len {
        DataLen::Exact => exact.unwrap_or(800),
        DataLen::Fixed(n) => n,
        DataLen::ExactPlus(d) => exact.unwrap_or(800).saturating_add_signed(d as isize),
    };
    let big_endian = seed.descr.starts_with('>');
    let values = if seed.values.is_empty() { vec![0.25] } else { seed.values.clone() };
    let mut data = Vec::with_capacity(n);
    for v in values.iter().cycle() {
        if data.len() >= n {
            break;
        }
        let b = match itemsize {
            8 => (*v as f64).to_le_bytes().to_vec(),
            2 => half::f16::from_f32(*v).to_le_bytes().to_vec(),
            1 => vec![*v as u8],
            _ if big_endian => v.to_be_bytes().to_vec(),
            _ => v.to_le_bytes().to_vec(),
        };
        data.extend_from_slice(&b);
    }
    data.truncate(n);
    out.extend_from_slice(&data);
    apply_byte_edits(&mut out, &seed.edits);
    out
}

proptest! {
    #![proptest_config(config())]

    /// Hand-built `.npy` latents (hostile shapes, dtypes, orders, header lengths, truncated or
    /// extended data, flipped bytes): parsing never panics, and accepted latents are `[N, dim]`
    /// with `1 ≤ N ≤ MAX_COUNT`, N·dim values, all finite.
    #[test]
    fn npy_latents_never_panic(seed in npy_seed()) {
        let bytes = npy_bytes(&seed);
        if let Ok(z) = webgan::npy::parse_latents(&bytes, seed.dim, "z.npy") {
            prop_assert_eq!(z.shape.len(), 2, "latents shape {:?}", &z.shape);
            let n = z.shape[0];
            prop_assert!((1..=MAX_COUNT).contains(&n), "{} rows; allowed 1..={}", n, MAX_COUNT);
            prop_assert_eq!(z.shape[1], seed.dim);
            prop_assert_eq!(Some(z.data.len()), n.checked_mul(seed.dim));
            prop_assert!(z.data.iter().all(|v| v.is_finite()), "accepted latents hold NaN or infinity");
        }
    }
}

/// Cases the properties found, kept as plain tests so they run first and by name.
#[test]
fn npy_found_cases() {
    let seed = |shape: &str, dim: usize| NpySeed {
        magic: 0,
        version: 1,
        descr: "<f4".into(),
        fortran: "False".into(),
        shape: shape.into(),
        header_len: None,
        data_len: DataLen::Exact,
        values: vec![],
        dim,
        edits: vec![],
    };
    for (shape, dim) in [
        // rows × dim overflows after the shape was checked (dim is the caller's).
        ("(100, 57615668466658866, 1, 1)", 57615668466658866),
        // The shape's product is 0, but npyz's stride products overflow.
        ("(0, 2, 9223372036854775808)", 6),
        ("(2, 0, 9223372036854775808, 2)", 6),
    ] {
        let s = seed(shape, dim);
        let result = webgan::npy::parse_latents(&npy_bytes(&s), dim, "z.npy");
        assert!(result.is_err(), "shape {shape}, dim {dim}: accepted");
    }
}
