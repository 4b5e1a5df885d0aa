//! `webgan convert MODEL.onnx OUT_DIR`: an ONNX file (and the external-data files beside it)
//! to a format-2 model folder, through [`webgan::onnx::import`]. Every file is read bounded; the
//! whole conversion happens in memory before anything is written, and each output file is
//! written to a temporary file and renamed, so a failed conversion leaves no partial file.

use std::path::Path;

use webgan::error::{Error, Result};
use webgan::files::{read_bounded, write_atomic};
use webgan::onnx::{self, Dtype, MAX_ONNX_BYTES, Options};

/// Converts `input` (an `.onnx` file) into `out_dir` (created if missing) as `model.json` and
/// `weights.safetensors`, with weights stored as `dtype`.
pub fn convert_onnx(input: &Path, out_dir: &Path, dtype: Dtype) -> Result<()> {
    let bytes = read_bounded(input, "the .onnx file", MAX_ONNX_BYTES)?;
    let folder = match input.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    // The importer has checked that `location` is a plain file name before it asks.
    let mut external = |location: &str| -> Result<Vec<u8>> {
        let path = folder.join(location);
        if !path.exists() {
            return Err(Error::Io { path: path.display().to_string(), source: std::io::ErrorKind::NotFound.into() });
        }
        read_bounded(&path, "external data file", MAX_ONNX_BYTES)
    };
    let name = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "onnx-model".into());
    let source = input.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let converted = onnx::import(&bytes, &mut external, &Options { dtype, name, source })?;

    std::fs::create_dir_all(out_dir).map_err(|e| Error::Io { path: out_dir.display().to_string(), source: e })?;
    let weights_path = out_dir.join("weights.safetensors");
    let manifest_path = out_dir.join("model.json");
    webgan::files::check_writable(&weights_path)?;
    webgan::files::check_writable(&manifest_path)?;
    // Weights first: a folder whose model.json is new always has the weights it names.
    write_atomic(&weights_path, &converted.weights)?;
    write_atomic(&manifest_path, converted.manifest_json.as_bytes())?;
    Ok(())
}
