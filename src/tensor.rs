//! A plain dense f32 tensor: the currency of the CPU reference and of weights after loading.

use crate::error::{Error, Result};

/// Row-major f32 tensor. Images are `[N, C, H, W]`, flat features `[N, F]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Tensor { shape: shape.to_vec(), data: vec![0.0; shape.iter().product()] }
    }

    /// Wraps `data`, checking that its length matches `shape`.
    pub fn new(shape: &[usize], data: Vec<f32>) -> Result<Self> {
        let expected: usize = shape.iter().product();
        if expected != data.len() {
            return Err(Error::Input(format!(
                "tensor of shape {shape:?} needs {expected} values but {} were given",
                data.len()
            )));
        }
        Ok(Tensor { shape: shape.to_vec(), data })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The leading (batch) dimension.
    pub fn batch(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// The samples `indices` of the batch, in that order (e.g. one image, or a sorted batch).
    pub fn samples(&self, indices: &[usize]) -> Result<Tensor> {
        let n = self.batch();
        let per = if n == 0 { 0 } else { self.len() / n };
        let mut data = Vec::with_capacity(indices.len() * per);
        for &i in indices {
            if i >= n {
                return Err(Error::Input(format!("sample {i} does not exist; the batch has {n}")));
            }
            data.extend_from_slice(&self.data[i * per..(i + 1) * per]);
        }
        let mut shape = self.shape.clone();
        shape[0] = indices.len();
        Tensor::new(&shape, data)
    }
}
