//! `weights.safetensors`: size and hash checks, then every tensor the manifest names, widened to
//! f32 and checked for shape before anything else is allocated.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::manifest::{Manifest, WeightsSpec};
use crate::tensor::Tensor;

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the file against the manifest's size and hash, then reads every tensor the layers use.
pub fn load(manifest: &Manifest, bytes: &[u8]) -> Result<HashMap<String, Tensor>> {
    let file = open(&manifest.weights, bytes)?;
    let wanted = manifest.layers.iter().flat_map(|l| l.tensors()).map(|(n, s)| (n.to_string(), Some(s))).collect();
    read(&file, wanted)
}

/// Checks `bytes` against the size and hash `spec` gives and parses the safetensors header (no
/// tensor is copied yet).
pub fn open<'a>(spec: &WeightsSpec, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    if bytes.len() as u64 != spec.bytes {
        return Err(Error::WeightsSize { expected: spec.bytes, actual: bytes.len() as u64 });
    }
    let actual = sha256_hex(bytes);
    if !actual.eq_ignore_ascii_case(&spec.sha256) {
        return Err(Error::WeightsHash { expected: spec.sha256.clone(), actual });
    }
    SafeTensors::deserialize(bytes).map_err(|e| Error::Safetensors(e.to_string()))
}

/// Every tensor of `file` no name in `used` refers to (a graph model must use them all).
pub fn unused<'a>(file: &'a SafeTensors, used: &[&str]) -> Option<String> {
    let mut names: Vec<String> = file.names().into_iter().filter(|n| !used.contains(n)).map(|n| n.to_string()).collect();
    names.sort();
    names.into_iter().next()
}

/// Reads the `wanted` tensors (name, and the shape it must have when one is fixed), widened to
/// f32. Every name, shape and dtype is checked first so a bad file allocates nothing.
pub fn read(file: &SafeTensors, wanted: Vec<(String, Option<Vec<usize>>)>) -> Result<HashMap<String, Tensor>> {
    let mut checked: Vec<(String, Vec<usize>)> = Vec::with_capacity(wanted.len());
    for (name, shape) in wanted {
        let view = file.tensor(&name).map_err(|_| Error::MissingTensor { name: name.clone() })?;
        if let Some(shape) = &shape {
            if view.shape() != shape.as_slice() {
                return Err(Error::TensorShape { name, expected: shape.clone(), actual: view.shape().to_vec() });
            }
        }
        if !matches!(view.dtype(), Dtype::F32 | Dtype::F16) {
            return Err(Error::TensorDtype { name, dtype: format!("{:?}", view.dtype()) });
        }
        checked.push((name, view.shape().to_vec()));
    }

    let mut tensors = HashMap::with_capacity(checked.len());
    for (name, shape) in checked {
        if tensors.contains_key(&name) {
            continue;
        }
        let view = file.tensor(&name).map_err(|_| Error::MissingTensor { name: name.clone() })?;
        // The data may sit at any byte offset: copy, never cast the file in place.
        let data: Vec<f32> = match view.dtype() {
            Dtype::F16 => view
                .data()
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            _ => view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        };
        if data.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite { name });
        }
        let tensor = Tensor::new(&shape, data)?;
        tensors.insert(name, tensor);
    }
    Ok(tensors)
}
