//! Reading and writing files whose names and contents come from untrusted input (native only).
//!
//! Reads: only regular files (a FIFO would hang, `/dev/zero` never ends), the size is checked
//! from the metadata before reading, and at most one byte past the limit is ever read, so a
//! file that grows or lies about its length cannot make webgan read more. Writes go to a
//! temporary file beside the target and are renamed over it only once complete, so a failed
//! command never leaves a truncated or partial file, and an existing file that is not a
//! regular file (a device, a FIFO, a folder) is never replaced.

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

/// The bytes of the regular file `path`, which must hold at most `limit` bytes (`what` names
/// it in errors, e.g. "model.json").
pub fn read_bounded(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>> {
    let len = regular_len(path, what)?;
    if len > limit {
        return Err(Error::Input(format!(
            "{what} ({}) has {len} bytes; webgan reads at most {limit}",
            path.display()
        )));
    }
    read_exactly(path, what, len, limit)
}

/// The bytes of the regular file `path`, which must hold exactly `expected` bytes (a weights
/// file against its manifest): the size is compared before a byte is read.
pub fn read_expected(path: &Path, what: &str, expected: u64) -> Result<Vec<u8>> {
    let len = regular_len(path, what)?;
    if len != expected {
        return Err(Error::WeightsSize { expected, actual: len });
    }
    read_exactly(path, what, len, expected)
}

/// At most the first `limit` bytes of the regular file `path`.
pub fn read_head(path: &Path, limit: u64) -> Result<Vec<u8>> {
    regular_len(path, "the file")?;
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
    Ok(bytes)
}

/// Length of `path`, which must be a regular file (symbolic links are followed).
fn regular_len(path: &Path, what: &str) -> Result<u64> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_file() {
        return Err(Error::Input(format!(
            "{what} ({}) is not a regular file; give a plain file",
            path.display()
        )));
    }
    Ok(meta.len())
}

/// Reads `path`, expecting `len` bytes, and fails if it holds more than `limit` by the time it
/// is read (it may have changed since its metadata was read).
fn read_exactly(path: &Path, what: &str, len: u64, limit: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let capacity = usize::try_from(len).map_err(|_| Error::Input(format!("{what} is too large for this machine")))?;
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 != len {
        return Err(Error::Input(format!(
            "{what} ({}) changed while it was read ({len} bytes before, {} now); try again",
            path.display(),
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// Checks that `path` can be written as a new or replaced regular file: its folder exists and
/// it is not an existing folder, device or FIFO. Call before any work whose result goes there.
pub fn check_writable(path: &Path) -> Result<()> {
    let folder = parent(path);
    if !folder.is_dir() {
        return Err(Error::Input(format!("cannot write {}: the folder {} does not exist", path.display(), folder.display())));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => Err(Error::Input(format!(
            "cannot write {}: it exists and is not a regular file; choose another name",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then
/// renamed over `path`. On any failure `path` is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    check_writable(path)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".webgan-")
        .suffix(".part")
        .tempfile_in(parent(path))
        .map_err(|e| io_error(path, e))?;
    temp.write_all(bytes).map_err(|e| io_error(path, e))?;
    // A temporary file is private (0600); the result gets the mode a plain create would give,
    // or keeps the mode of the file it replaces.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o644);
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| io_error(path, e))?;
    }
    temp.as_file().sync_all().map_err(|e| io_error(path, e))?;
    temp.persist(path).map_err(|e| io_error(path, e.error))?;
    Ok(())
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
