//! Constant tensors of the import (N-d f32 or i64 arrays) and reading them from ONNX
//! `TensorProto`s: raw data, typed fields or external data, every size checked before allocating.

use std::collections::HashMap;
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::limits::{MAX_DIM, MAX_ELEMENTS};
use crate::onnx::MAX_ONNX_BYTES;
use crate::onnx::proto::{TensorProto, tensor_proto::DataLocation};

/// The batch size N in an i64 shape tensor computed by `Shape` of an activation: far from any
/// real size and from the `0`/`-1` that `Reshape` reads specially.
pub(crate) const BATCH: i64 = -(1 << 62);

/// The values of a constant tensor, shared between tensors that only differ in shape.
#[derive(Clone, Debug)]
pub(crate) enum Data {
    F32(Rc<[f32]>),
    I64(Rc<[i64]>),
}

/// A constant N-d tensor in row-major order.
#[derive(Clone, Debug)]
pub(crate) struct Const {
    pub shape: Vec<usize>,
    pub data: Data,
}

impl Const {
    pub fn f32(shape: Vec<usize>, values: Vec<f32>) -> Const {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Const { shape, data: Data::F32(values.into()) }
    }

    pub fn i64(shape: Vec<usize>, values: Vec<i64>) -> Const {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Const { shape, data: Data::I64(values.into()) }
    }

    pub fn len(&self) -> usize {
        match &self.data {
            Data::F32(v) => v.len(),
            Data::I64(v) => v.len(),
        }
    }

    pub fn is_i64(&self) -> bool {
        matches!(self.data, Data::I64(_))
    }

    /// The same values with another shape (of as many elements).
    pub fn reshaped(&self, shape: Vec<usize>) -> Const {
        Const { shape, data: self.data.clone() }
    }

    /// The values as f32; an i64 tensor converts unless it holds the batch size.
    pub fn to_f32(&self) -> std::result::Result<Rc<[f32]>, String> {
        match &self.data {
            Data::F32(v) => Ok(v.clone()),
            Data::I64(v) => {
                if v.contains(&BATCH) {
                    return Err(batch_used());
                }
                Ok(v.iter().map(|&x| x as f32).collect())
            }
        }
    }

    /// The values as i64 (f32 truncates toward zero, as ONNX `Cast` does).
    pub fn to_i64(&self) -> std::result::Result<Rc<[i64]>, String> {
        match &self.data {
            Data::I64(v) => Ok(v.clone()),
            Data::F32(v) => {
                if v.iter().any(|x| !x.is_finite()) {
                    return Err("a non-finite value is used as an integer".into());
                }
                Ok(v.iter().map(|&x| x as i64).collect())
            }
        }
    }

    /// The single value of a one-element tensor.
    pub fn scalar_f32(&self) -> std::result::Result<f32, String> {
        if self.len() != 1 {
            return Err(format!("expects one value but the constant has shape {:?}", self.shape));
        }
        Ok(self.to_f32()?[0])
    }

    /// The values of a 0-d or 1-d integer tensor (axes, pads, shapes).
    pub fn ints(&self) -> std::result::Result<Vec<i64>, String> {
        if self.shape.len() > 1 {
            return Err(format!("expects a list of integers but the constant has shape {:?}", self.shape));
        }
        Ok(self.to_i64()?.to_vec())
    }
}

pub(crate) fn batch_used() -> String {
    "computes with the batch size, which webgan keeps symbolic; export with a fixed batch or use x.flatten(1) / x.view(x.size(0), ...)".into()
}

/// External-data files beside the model, each read once through the caller's function.
pub(crate) struct ExternalFiles<'a> {
    read: &'a mut dyn FnMut(&str) -> Result<Vec<u8>>,
    files: HashMap<String, Vec<u8>>,
    total: u64,
}

impl<'a> ExternalFiles<'a> {
    pub fn new(read: &'a mut dyn FnMut(&str) -> Result<Vec<u8>>) -> Self {
        ExternalFiles { read, files: HashMap::new(), total: 0 }
    }

    fn get(&mut self, location: &str, tensor: &str) -> Result<&[u8]> {
        check_location(location, tensor)?;
        if !self.files.contains_key(location) {
            let bytes = (self.read)(location).map_err(|e| match e {
                Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => Error::Input(format!(
                    "external data file \"{location}\" for tensor \"{tensor}\" is missing: put it beside the .onnx"
                )),
                other => other,
            })?;
            self.total = self.total.saturating_add(bytes.len() as u64);
            if self.total > MAX_ONNX_BYTES {
                return Err(Error::Input(format!(
                    "external data files hold more than {MAX_ONNX_BYTES} bytes in all; webgan converts models up to that size"
                )));
            }
            self.files.insert(location.to_string(), bytes);
        }
        Ok(self.files.get(location).map(Vec::as_slice).unwrap_or(&[]))
    }
}

/// An external-data location must be a plain file name beside the model: no folders, no `..`,
/// no hidden files, no drive letters.
fn check_location(location: &str, tensor: &str) -> Result<()> {
    let plain = !location.is_empty()
        && location.len() <= 255
        && !location.starts_with('.')
        && !location.contains(['/', '\\', ':', '\0'])
        && !location.contains("..");
    if plain {
        Ok(())
    } else {
        Err(Error::Input(format!(
            "tensor \"{tensor}\": external data location \"{}\" is not a plain file name; webgan reads external data only from files beside the .onnx",
            location.escape_debug()
        )))
    }
}

/// Element type of an ONNX tensor and its size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Elem {
    F32,
    F64,
    F16,
    Bf16,
    Int { bytes: usize, signed: bool },
    Bool,
}

impl Elem {
    fn from_onnx(code: i32) -> Option<Elem> {
        Some(match code {
            1 => Elem::F32,
            2 => Elem::Int { bytes: 1, signed: false },
            3 => Elem::Int { bytes: 1, signed: true },
            4 => Elem::Int { bytes: 2, signed: false },
            5 => Elem::Int { bytes: 2, signed: true },
            6 => Elem::Int { bytes: 4, signed: true },
            7 => Elem::Int { bytes: 8, signed: true },
            9 => Elem::Bool,
            10 => Elem::F16,
            11 => Elem::F64,
            12 => Elem::Int { bytes: 4, signed: false },
            13 => Elem::Int { bytes: 8, signed: false },
            16 => Elem::Bf16,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Elem::F32 => 4,
            Elem::F64 => 8,
            Elem::F16 | Elem::Bf16 => 2,
            Elem::Int { bytes, .. } => bytes,
            Elem::Bool => 1,
        }
    }

    fn is_float(self) -> bool {
        matches!(self, Elem::F32 | Elem::F64 | Elem::F16 | Elem::Bf16)
    }
}

/// Name of an ONNX element type code, for messages.
pub(crate) fn dtype_name(code: i32) -> String {
    let name = match code {
        1 => "float",
        2 => "uint8",
        3 => "int8",
        4 => "uint16",
        5 => "int16",
        6 => "int32",
        7 => "int64",
        8 => "string",
        9 => "bool",
        10 => "float16",
        11 => "double",
        12 => "uint32",
        13 => "uint64",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        _ => return format!("type {code}"),
    };
    name.to_string()
}

/// Whether an ONNX element type code is a floating-point type webgan reads.
pub(crate) fn is_float_type(code: i32) -> bool {
    Elem::from_onnx(code).is_some_and(Elem::is_float)
}

/// Whether an ONNX element type code is an integer type (class ids).
pub(crate) fn is_int_type(code: i32) -> bool {
    matches!(Elem::from_onnx(code), Some(Elem::Int { .. }))
}

/// Checked dims of a tensor from untrusted input and their element count.
pub(crate) fn checked_dims(dims: &[i64], what: &str) -> std::result::Result<(Vec<usize>, usize), String> {
    let mut shape = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| format!("{what} has a negative dimension in {dims:?}"))?;
        if d > MAX_DIM {
            return Err(format!("{what} has dimension {d}; webgan allows at most {MAX_DIM}"));
        }
        shape.push(d);
    }
    if shape.len() > 8 {
        return Err(format!("{what} has {} dimensions; webgan reads at most 8", shape.len()));
    }
    let count = crate::limits::product(what, &shape)?;
    if count > MAX_ELEMENTS {
        return Err(format!("{what} has {count} elements; webgan allows at most {MAX_ELEMENTS}"));
    }
    Ok((shape, count))
}

/// Reads an initializer or a `Constant`'s tensor.
pub(crate) fn read(t: &TensorProto, files: &mut ExternalFiles) -> Result<Const> {
    let name = t.name();
    let bad = |m: String| Error::Input(format!("tensor \"{name}\": {m}"));
    let code = t.data_type();
    let elem = Elem::from_onnx(code).ok_or_else(|| {
        bad(format!(
            "element type {} is not supported; webgan reads float, float16, double and integer tensors",
            dtype_name(code)
        ))
    })?;
    if t.segment.is_some() {
        return Err(bad("is stored in segments, which webgan does not read; re-export the model".into()));
    }
    let (shape, count) = checked_dims(&t.dims, "the tensor").map_err(bad)?;
    let bytes_needed = crate::limits::mul("the tensor's size", count, elem.size()).map_err(bad)?;

    let raw: Option<&[u8]> = if t.data_location() == DataLocation::External {
        let mut location = None;
        let mut offset = 0u64;
        let mut length = None;
        for entry in &t.external_data {
            let number = |v: &str| {
                v.parse::<u64>().map_err(|_| bad(format!("external data {} \"{v}\" is not a number", entry.key())))
            };
            match entry.key() {
                "location" => location = Some(entry.value().to_string()),
                "offset" => offset = number(entry.value())?,
                "length" => length = Some(number(entry.value())?),
                _ => {}
            }
        }
        let location = location.ok_or_else(|| bad("is external but names no location".into()))?;
        let file = files.get(&location, name)?;
        let length = length.unwrap_or(bytes_needed as u64);
        if length != bytes_needed as u64 {
            return Err(bad(format!(
                "external data has {length} bytes but shape {shape:?} of {} needs {bytes_needed}; the model is corrupt, export it again",
                dtype_name(code)
            )));
        }
        let end = offset.checked_add(length).filter(|&e| e <= file.len() as u64).ok_or_else(|| {
            bad(format!(
                "external data at offset {offset}, {length} bytes, lies past the end of \"{location}\" ({} bytes); the file is truncated or not this model's",
                file.len()
            ))
        })?;
        Some(&file[offset as usize..end as usize])
    } else {
        t.raw_data.as_deref()
    };

    if let Some(raw) = raw {
        if raw.len() != bytes_needed {
            return Err(bad(format!(
                "raw data has {} bytes but shape {shape:?} of {} needs {bytes_needed}; the model is corrupt, export it again",
                raw.len(),
                dtype_name(code)
            )));
        }
        return Ok(from_raw(shape, elem, raw));
    }

    let typed_len = match elem {
        Elem::F32 => t.float_data.len(),
        Elem::F64 => t.double_data.len(),
        Elem::Int { bytes: 8, signed: true } => t.int64_data.len(),
        Elem::Int { bytes: 4 | 8, signed: false } => t.uint64_data.len(),
        _ => t.int32_data.len(),
    };
    if typed_len != count {
        return Err(bad(format!(
            "holds {typed_len} values but shape {shape:?} needs {count}; the model is corrupt, export it again"
        )));
    }
    Ok(match elem {
        Elem::F32 => Const::f32(shape, t.float_data.clone()),
        Elem::F64 => Const::f32(shape, t.double_data.iter().map(|&x| x as f32).collect()),
        Elem::F16 => Const::f32(shape, t.int32_data.iter().map(|&x| half::f16::from_bits(x as u16).to_f32()).collect()),
        Elem::Bf16 => {
            Const::f32(shape, t.int32_data.iter().map(|&x| half::bf16::from_bits(x as u16).to_f32()).collect())
        }
        Elem::Int { bytes: 8, signed: true } => Const::i64(shape, t.int64_data.clone()),
        Elem::Int { bytes: 4 | 8, signed: false } => {
            let values: std::result::Result<Vec<i64>, _> = t.uint64_data.iter().map(|&x| i64::try_from(x)).collect();
            Const::i64(shape, values.map_err(|_| bad("holds a uint64 too large for webgan".into()))?)
        }
        Elem::Bool => Const::i64(shape, t.int32_data.iter().map(|&x| i64::from(x != 0)).collect()),
        _ => Const::i64(shape, t.int32_data.iter().map(|&x| i64::from(x)).collect()),
    })
}

fn from_raw(shape: Vec<usize>, elem: Elem, raw: &[u8]) -> Const {
    match elem {
        Elem::F32 => {
            Const::f32(shape, raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        Elem::F64 => Const::f32(
            shape,
            raw.chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
                .collect(),
        ),
        Elem::F16 => {
            Const::f32(shape, raw.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
        }
        Elem::Bf16 => {
            Const::f32(shape, raw.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
        }
        Elem::Bool => Const::i64(shape, raw.iter().map(|&b| i64::from(b != 0)).collect()),
        Elem::Int { bytes, signed } => Const::i64(
            shape,
            raw.chunks_exact(bytes)
                .map(|b| {
                    let mut le = [0u8; 8];
                    le[..bytes].copy_from_slice(b);
                    if signed && b[bytes - 1] & 0x80 != 0 {
                        le[bytes..].fill(0xff);
                    }
                    // A uint64 above i64::MAX wraps; no real shape or index is that large.
                    i64::from_le_bytes(le)
                })
                .collect(),
        ),
    }
}
