//! What the loader promises about what it accepts: shapes within the caps ending at
//! `output_shape`, every named tensor present and finite, and a CPU forward of the right shape.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use webgan::limits::MAX_ELEMENTS;
use webgan::model::Manifest;
use webgan::model::shape::{self, Shape};
use webgan::{Model, Tensor};

/// What `shape::infer` promises when it accepts a manifest.
pub(crate) fn check_shapes(manifest: &Manifest, shapes: &[Shape]) -> Result<(), TestCaseError> {
    prop_assert_eq!(shapes.len(), manifest.layers.len(), "one shape per layer");
    for (i, s) in shapes.iter().enumerate() {
        let dims = s.dims();
        // Multiplied here with checked arithmetic: `Shape::elements` is what is under test.
        let product = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        prop_assert!(
            matches!(product, Some(n) if (1..=MAX_ELEMENTS).contains(&n)),
            "layer {} ({}) has shape {:?}: its product {:?} is not within 1..={}",
            i,
            manifest.layers[i].op(),
            dims,
            product,
            MAX_ELEMENTS
        );
        prop_assert_eq!(Some(s.elements()), product, "Shape::elements of {:?}", dims);
    }
    let last = shapes.last().map(|s| s.dims());
    prop_assert_eq!(last, Some(manifest.output_shape.clone()), "the last shape is output_shape");
    Ok(())
}

/// What `Model::from_parts` promises when it accepts a model: the shapes above, and every tensor
/// a layer names present with the layer's shape and finite values.
pub(crate) fn check_model(model: &Model) -> Result<(), TestCaseError> {
    let shapes = shape::infer(&model.manifest);
    prop_assert!(shapes.is_ok(), "a loaded model's manifest fails shape inference: {:?}", shapes.err());
    check_shapes(&model.manifest, &model.shapes)?;
    for layer in &model.manifest.layers {
        for (name, expected) in layer.tensors() {
            let tensor = model.tensor(name);
            prop_assert!(tensor.is_ok(), "tensor `{}` of a loaded model is missing", name);
            let tensor = tensor.unwrap();
            prop_assert_eq!(&tensor.shape, &expected, "tensor `{}`", name);
            let n = expected.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            prop_assert_eq!(Some(tensor.data.len()), n, "values of tensor `{}`", name);
            prop_assert!(tensor.data.iter().all(|v| v.is_finite()), "tensor `{}` holds non-finite values", name);
        }
    }
    Ok(())
}

/// Runs a model the loader accepted on one latent, on the CPU, and checks the output's shape.
pub(crate) fn check_forward(model: &Model) -> Result<(), TestCaseError> {
    let dim = model.manifest.latent_dim;
    let z = Tensor::new(&[1, dim], vec![0.5; dim]).expect("latent tensor");
    let classes = model.manifest.num_classes.map(|_| vec![0u32]);
    // An error is allowed (a cap, a budget); a panic is not.
    if let Ok(y) = webgan::cpu::forward(model, &z, classes.as_deref()) {
        let mut expected = vec![1];
        expected.extend_from_slice(&model.manifest.output_shape);
        prop_assert_eq!(&y.shape, &expected, "output of a loaded model");
        prop_assert_eq!(Some(y.data.len()), expected.iter().try_fold(1usize, |a, &d| a.checked_mul(d)));
    }
    Ok(())
}
