//! Generator inputs from NumPy `.npy` files (native only), C order: latents float32 `[N, latent]`
//! or `[N, latent, 1, 1]`, images float32 `[N, C, H, W]`, class ids integer `[N]`. The header is untrusted: its shape is multiplied with checked
//! arithmetic and bounded by [`MAX_COUNT`] rows before any data is read, and the data must be
//! exactly as long as the shape says.

use std::path::Path;

use crate::error::{Error, Result};
use crate::files::{read_bounded, read_head};
use crate::limits::{MAX_COUNT, MAX_LATENT_DIM, MAX_NPY_BYTES};
use crate::tensor::Tensor;

/// Reads latents for a model with `dim`-long latent vectors from the `.npy` file `path`.
pub fn read_latents(path: &Path, dim: usize) -> Result<Tensor> {
    // A header (at most 64 KB) and MAX_COUNT rows of this model's latents: a larger file is
    // refused from its length, unread.
    let limit = (MAX_COUNT as u64).saturating_mul(dim as u64).saturating_mul(4).saturating_add(HEADER_BYTES).min(MAX_NPY_BYTES);
    let name = path.display().to_string();
    match read_bounded(path, "the latents file", limit) {
        Ok(bytes) => parse_latents(&bytes, dim, &name),
        // Too long: its header alone usually says why (too many rows), which is the clearer error.
        Err(too_long @ Error::Input(_)) => match read_head(path, HEADER_BYTES) {
            Ok(head) => Err(parse_latents(&head, dim, &name).err().unwrap_or(too_long)),
            Err(_) => Err(too_long),
        },
        Err(e) => Err(e),
    }
}

/// The most a `.npy` header takes here (numpy writes 128 bytes for latents).
const HEADER_BYTES: u64 = 65536;

/// Parses the bytes of a latents `.npy` file (`what` names it in errors).
pub fn parse_latents(bytes: &[u8], dim: usize, what: &str) -> Result<Tensor> {
    let expected = format!("latents must be [N, {dim}] or [N, {dim}, 1, 1] with N from 1 to {MAX_COUNT}");
    if dim == 0 || dim > MAX_LATENT_DIM {
        return Err(Error::Input(format!("a latent size of {dim} is out of range 1 to {MAX_LATENT_DIM}")));
    }
    let rows = |shape: &[u64]| match shape {
        [n, d] | [n, d, 1, 1] if *d == dim as u64 => Some(*n),
        _ => None,
    };
    let (npy, rows) = open(bytes, what, &rows, &expected, "<f4", 4, dim)?;
    let data = finite(npy.into_vec::<f32>().map_err(|e| Error::Input(format!("{what}: {e}")))?, what)?;
    Tensor::new(&[rows, dim], data)
}

/// Reads images float32 `[N, C, H, W]` for a model whose image input is `[C, H, W]`.
pub fn read_images(path: &Path, chw: [usize; 3]) -> Result<Tensor> {
    let per = chw.iter().product::<usize>() as u64;
    let limit = (MAX_COUNT as u64).saturating_mul(per).saturating_mul(4).saturating_add(HEADER_BYTES);
    let bytes = read_bounded(path, "the images file", limit)?;
    parse_images(&bytes, chw, &path.display().to_string())
}

/// Parses an images `.npy` file: float32 `[N, C, H, W]` (`what` names it in errors).
pub fn parse_images(bytes: &[u8], chw: [usize; 3], what: &str) -> Result<Tensor> {
    let [c, h, w] = chw;
    let expected = format!("images must be float32 [N, {c}, {h}, {w}] with N from 1 to {MAX_COUNT}");
    let rows = |shape: &[u64]| match shape {
        [n, cc, hh, ww] if [*cc, *hh, *ww] == [c as u64, h as u64, w as u64] => Some(*n),
        _ => None,
    };
    let (npy, rows) = open(bytes, what, &rows, &expected, "<f4", 4, c * h * w)?;
    let data = finite(npy.into_vec::<f32>().map_err(|e| Error::Input(format!("{what}: {e}")))?, what)?;
    Tensor::new(&[rows, c, h, w], data)
}

/// Reads class ids: an integer `.npy` `[N]` (int64, int32 or uint8).
pub fn read_classes(path: &Path) -> Result<Vec<u32>> {
    let limit = (MAX_COUNT as u64) * 8 + HEADER_BYTES;
    let bytes = read_bounded(path, "the classes file", limit)?;
    parse_classes(&bytes, &path.display().to_string())
}

/// Parses a class-ids `.npy` file `[N]` of int64, int32 or uint8 (`what` names it in errors).
pub fn parse_classes(bytes: &[u8], what: &str) -> Result<Vec<u32>> {
    let expected = format!("classes must be integers [N] with N from 1 to {MAX_COUNT}");
    let rows = |shape: &[u64]| match shape {
        [n] => Some(*n),
        _ => None,
    };
    // The dtype is picked from the header text; `open` checks everything before npyz reads it
    // (anything else is checked as int64, and refused there with the dtype it holds).
    let header = split_header(bytes).map_or("", |(h, _)| h);
    let descr = ["'<i4'", "'|u1'"].into_iter().find(|d| header.contains(d)).unwrap_or("'<i8'");
    let ids: Vec<i64> = match descr {
        "'<i4'" => open(bytes, what, &rows, &expected, "<i4", 4, 1)?.0.into_vec::<i32>().map(|v| v.into_iter().map(i64::from).collect()),
        "'|u1'" => open(bytes, what, &rows, &expected, "|u1", 1, 1)?.0.into_vec::<u8>().map(|v| v.into_iter().map(i64::from).collect()),
        _ => open(bytes, what, &rows, &expected, "<i8", 8, 1)?.0.into_vec::<i64>(),
    }
    .map_err(|e| Error::Input(format!("{what}: {e}")))?;
    ids.into_iter()
        .map(|k| u32::try_from(k).map_err(|_| Error::Input(format!("{what} holds class {k}; class ids are 0 to {}", u32::MAX))))
        .collect()
}

/// Checks a `.npy` file before npyz reads it: the header's shape is accepted by `rows` (which
/// returns N, at most [`MAX_COUNT`]), C order, dtype `descr`, and exactly N × `per_row` values
/// of `size` bytes after the header. npyz multiplies the shape (and its strides) unchecked: a
/// debug build panics, a release build wraps, so only checked shapes ever reach it.
fn open<'a>(
    bytes: &'a [u8],
    what: &str,
    rows: &dyn Fn(&[u64]) -> Option<u64>,
    expected: &str,
    descr: &str,
    size: u64,
    per_row: usize,
) -> Result<(npyz::NpyFile<&'a [u8]>, usize)> {
    let not_npy = |why: &str| Error::Input(format!("{what} is not a .npy file: {why}"));
    let (header, data_start) = split_header(bytes).ok_or_else(|| not_npy("no valid header"))?;
    let shape = header_shape(header).ok_or_else(|| not_npy("its header has no readable shape"))?;
    let n = rows(&shape).ok_or_else(|| Error::Input(format!("{what} has shape {shape:?}; {expected}")))?;
    if n == 0 || n > MAX_COUNT as u64 {
        return Err(Error::Input(format!("{what} has {n} rows; {expected} (split longer runs)")));
    }
    let n = n as usize;
    let npy = npyz::NpyFile::new(bytes).map_err(|e| not_npy(&e.to_string()))?;
    if npy.shape() != shape.as_slice() {
        return Err(not_npy("its header is ambiguous"));
    }
    if npy.order() == npyz::Order::Fortran {
        return Err(Error::Input(format!("{what} is in Fortran order; save it C-contiguous")));
    }
    let dtype = npy.dtype();
    if dtype != npyz::DType::Plain(descr.parse().map_err(|_| Error::Input("npy dtype".into()))?) {
        return Err(Error::Input(format!("{what} holds {}; it must be '{descr}'", dtype.descr())));
    }
    // n ≤ MAX_COUNT and per_row is a checked model size: the product fits in u64.
    let values = n as u64 * per_row as u64;
    let data_bytes = (bytes.len() - data_start) as u64;
    if data_bytes != values * size {
        return Err(Error::Input(format!(
            "{what} should hold {values} values ({} bytes) after its header but has {data_bytes} bytes",
            values * size
        )));
    }
    Ok((npy, n))
}

fn finite(data: Vec<f32>, what: &str) -> Result<Vec<f32>> {
    if data.iter().any(|v| !v.is_finite()) {
        return Err(Error::Input(format!("{what} holds NaN or infinite values")));
    }
    Ok(data)
}

/// The header text of a `.npy` file and where its data starts (format versions 1 to 3).
fn split_header(bytes: &[u8]) -> Option<(&str, usize)> {
    let rest = bytes.strip_prefix(b"\x93NUMPY")?;
    let (len, start) = match rest.first()? {
        1 => (u16::from_le_bytes([*rest.get(2)?, *rest.get(3)?]) as usize, 10usize),
        2 | 3 => (u32::from_le_bytes(rest.get(2..6)?.try_into().ok()?) as usize, 12),
        _ => return None,
    };
    let end = start.checked_add(len)?;
    let header = std::str::from_utf8(bytes.get(start..end)?).ok()?;
    Some((header, end))
}

/// The `shape` tuple of a header dict such as `{'descr': '<f4', 'fortran_order': False,
/// 'shape': (4, 100), }`; None when the key is missing, repeated, or not a tuple of integers.
fn header_shape(header: &str) -> Option<Vec<u64>> {
    let mut keys = header.match_indices("shape");
    let (at, _) = keys.next()?;
    if keys.next().is_some() {
        return None;
    }
    let after = &header[at + "shape".len()..];
    let open = after.find('(')?;
    let close = after.find(')')?;
    if close < open || !after[..open].chars().all(|c| matches!(c, '\'' | '"' | ':' | ' ')) {
        return None;
    }
    after[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_end_matches('L').parse::<u64>().ok())
        .collect()
}
