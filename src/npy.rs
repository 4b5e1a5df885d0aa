//! Latent vectors from NumPy `.npy` files (native only): float32 `[N, latent]` or
//! `[N, latent, 1, 1]`, C order. The header is untrusted: its shape is multiplied with checked
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
    let not_npy = |why: &str| Error::Input(format!("{what} is not a .npy file: {why}"));
    let (header, data_start) = split_header(bytes).ok_or_else(|| not_npy("no valid header"))?;
    let shape = header_shape(header).ok_or_else(|| not_npy("its header has no readable shape"))?;
    let expected = format!("latents must be [N, {dim}] or [N, {dim}, 1, 1] with N from 1 to {MAX_COUNT}");
    if dim == 0 || dim > MAX_LATENT_DIM {
        return Err(Error::Input(format!("a latent size of {dim} is out of range 1 to {MAX_LATENT_DIM}")));
    }
    // npyz multiplies the shape (and its strides) unchecked: a debug build panics, a release
    // build wraps. So the shape is read here first, and only the two accepted forms, with N and
    // the latent size within their caps, ever reach npyz.
    let rows = match shape.as_slice() {
        [n, d] | [n, d, 1, 1] if *d == dim as u64 => *n,
        _ => return Err(Error::Input(format!("{what} has shape {shape:?}; {expected}"))),
    };
    if rows == 0 || rows > MAX_COUNT as u64 {
        return Err(Error::Input(format!("{what} has {rows} rows; {expected} (split longer runs)")));
    }
    let rows = rows as usize;
    let npy = npyz::NpyFile::new(bytes).map_err(|e| not_npy(&e.to_string()))?;
    if npy.shape() != shape.as_slice() {
        return Err(not_npy("its header is ambiguous"));
    }
    if npy.order() == npyz::Order::Fortran {
        return Err(Error::Input(format!("{what} is in Fortran order; save it C-contiguous")));
    }
    let dtype = npy.dtype();
    if dtype != npyz::DType::Plain("<f4".parse().map_err(|_| Error::Input("npy dtype".into()))?) {
        return Err(Error::Input(format!("{what} holds {}; latents must be little-endian float32 ('<f4')", dtype.descr())));
    }
    // rows ≤ MAX_COUNT and dim ≤ MAX_LATENT_DIM: the product fits, and the data must be that
    // long exactly (npyz reads lazily; a short file fails below, a long one here).
    let values = rows * dim;
    let data_bytes = (bytes.len() - data_start) as u64;
    if data_bytes != values as u64 * 4 {
        return Err(Error::Input(format!(
            "{what} should hold {values} float32 values ({} bytes) after its header but has {data_bytes} bytes",
            values * 4
        )));
    }
    let data: Vec<f32> = npy.into_vec::<f32>().map_err(|e| Error::Input(format!("{what}: {e}")))?;
    if data.iter().any(|v| !v.is_finite()) {
        return Err(Error::Input(format!("{what} holds NaN or infinite values")));
    }
    Tensor::new(&[rows, dim], data)
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
