//! Model constants shared between plans: a model's packed weights are uploaded once per device
//! and reused by the plan of every batch size; they are freed when the last plan using them is.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::error::{Error, Result};
use crate::gpu::ops::gemm::GemmWeights;

/// Uploaded gemm weights by key (the weights file's SHA-256 and the step index).
#[derive(Default)]
pub struct WeightCache {
    entries: Mutex<HashMap<String, Weak<GemmWeights>>>,
}

impl WeightCache {
    /// The weights under `key`, uploading them with `upload` unless a live plan already has.
    pub fn get_or_upload(&self, key: String, upload: impl FnOnce() -> Result<GemmWeights>) -> Result<Arc<GemmWeights>> {
        let mut entries = self.entries.lock().map_err(|_| Error::Gpu("weight cache poisoned".into()))?;
        if let Some(live) = entries.get(&key).and_then(Weak::upgrade) {
            return Ok(live);
        }
        entries.retain(|_, w| w.strong_count() > 0);
        let weights = Arc::new(upload()?);
        entries.insert(key, Arc::downgrade(&weights));
        Ok(weights)
    }

    /// Number of uploaded layers some plan still uses.
    pub fn live(&self) -> usize {
        self.entries.lock().map(|e| e.values().filter(|w| w.strong_count() > 0).count()).unwrap_or(0)
    }
}
