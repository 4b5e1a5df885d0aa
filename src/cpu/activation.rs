//! Element-wise activations on a tensor (the functions themselves are [`Activation`]).

pub use crate::model::Activation;
use crate::tensor::Tensor;

/// Applies `act` to every element.
pub fn apply(x: &Tensor, act: Activation) -> Tensor {
    Tensor { shape: x.shape.clone(), data: x.data.iter().map(|&v| act.eval(v)).collect() }
}
