//! Random layer lists (parameters from 0 and 1 up to `usize::MAX`, often fitted to the shape
//! before them) and the property that shape inference never panics on them.

use proptest::prelude::*;
use webgan::model::shape::{self, Shape};
use webgan::model::{Layer, Manifest, Order};

use crate::generators::{float, size};
use crate::invariants::check_shapes;
use crate::{config, digits};

/// The raw material of one layer; `layer_list` turns it into a `Layer`, fitted to the shape
/// before it when `fit` is set (so that deep valid chains are common).
#[derive(Clone, Debug)]
pub(crate) struct LayerSeed {
    kind: u8,
    fit: bool,
    a: usize,
    b: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 4],
    output_padding: [usize; 2],
    dims: Vec<usize>,
    x: f32,
    channels_last: bool,
}

pub(crate) fn window() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 1usize..=5, 1 => size()]
}

pub(crate) fn pad() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 0usize..=2, 1 => size()]
}

pub(crate) fn layer_seed() -> impl Strategy<Value = LayerSeed> {
    (
        (0u8..11, prop::bool::weighted(0.8), size(), size()),
        (
            prop::array::uniform2(window()),
            prop::array::uniform2(window()),
            prop::array::uniform4(pad()),
            prop::array::uniform2(pad()),
        ),
        (prop::collection::vec(size(), 0..5), float(), any::<bool>()),
    )
        .prop_map(|((kind, fit, a, b), (kernel, stride, padding, output_padding), (dims, x, channels_last))| {
            LayerSeed { kind, fit, a, b, kernel, stride, padding, output_padding, dims, x, channels_last }
        })
}

pub(crate) fn name(s: &str) -> String {
    s.to_string()
}

/// Builds the layer list, tracking the shape with `shape::layer_output` as it goes.
pub(crate) fn layer_list(latent_dim: usize, seeds: &[LayerSeed]) -> (Vec<Layer>, Option<Shape>) {
    let mut shape = Some(Shape::Flat(latent_dim));
    let mut layers = Vec::with_capacity(seeds.len());
    for s in seeds {
        let fit = |v: usize, actual: Option<usize>| if s.fit { actual.unwrap_or(v) } else { v };
        let (c_in, h, w) = match shape {
            Some(Shape::Image { c, h, w }) => (Some(c), Some(h), Some(w)),
            Some(Shape::Flat(f)) => (Some(f), None, None),
            None => (None, None, None),
        };
        let elements = shape.map(|s| s.elements());
        let order = if s.channels_last { Order::ChannelsLast } else { Order::ChannelsFirst };
        let layer = match s.kind {
            0 => Layer::ConcatOneHot { classes: s.a },
            1 => Layer::Linear {
                in_features: fit(s.a, elements),
                out_features: if s.fit { s.b % 300 + 1 } else { s.b },
                weight: name("w"),
                bias: s.channels_last.then(|| name("b")),
            },
            2 => Layer::BatchNorm {
                channels: fit(s.a, c_in),
                eps: if s.fit { 1e-5 } else { s.x },
                weight: None,
                bias: Some(name("b")),
                running_mean: name("m"),
                running_var: name("v"),
            },
            3 => Layer::Relu,
            4 => Layer::LeakyRelu { slope: s.x },
            5 => Layer::Tanh,
            6 => Layer::Sigmoid,
            7 => {
                let dims = match (s.fit, elements, s.a % 5) {
                    (true, Some(e), 0) => vec![e],
                    (true, Some(e), 1) => vec![e, 1, 1],
                    (true, Some(e), 2) => vec![1, 1, e],
                    (true, Some(e), 3) => match (c_in, h, w) {
                        (Some(c), Some(h), Some(w)) => vec![w, c, h],
                        _ => vec![1, e, 1],
                    },
                    // The product wraps around 2^64 back to the input's element count.
                    (true, Some(e), _) => vec![e, (1usize << 32) + 1, 18446744069414584321_u64 as usize],
                    _ => s.dims.clone(),
                };
                Layer::Reshape { shape: dims, order }
            }
            8 => Layer::ConvTranspose2d {
                in_channels: fit(s.a, c_in),
                out_channels: if s.fit { s.b % 64 + 1 } else { s.b },
                kernel: s.kernel,
                stride: s.stride,
                padding: s.padding,
                output_padding: s.output_padding,
                weight: name("w"),
                bias: None,
            },
            9 => Layer::Conv2d {
                in_channels: fit(s.a, c_in),
                out_channels: if s.fit { s.b % 64 + 1 } else { s.b },
                kernel: s.kernel,
                stride: s.stride,
                padding: s.padding,
                weight: name("w"),
                bias: Some(name("b")),
            },
            _ => Layer::Upsample { scale: s.kernel },
        };
        // `layer_output` is under test too: a panic here fails the case like one in `infer`.
        shape = shape.and_then(|input| shape::layer_output(&layer, input).ok());
        layers.push(layer);
    }
    (layers, shape)
}

proptest! {
    #![proptest_config(config())]

    /// Random layer lists with parameters from 0 and 1 up to `usize::MAX`: shape inference never
    /// panics, and what it accepts keeps every shape within the caps.
    #[test]
    fn random_layer_lists_never_panic(
        latent_dim in size(),
        seeds in prop::collection::vec(layer_seed(), 0..12),
        num_classes in prop_oneof![2 => Just(None), 1 => size().prop_map(Some), 2 => Just(Some(usize::MAX))],
        output in prop_oneof![4 => Just(None), 1 => prop::collection::vec(size(), 0..4).prop_map(Some)],
    ) {
        let mut manifest = Manifest::parse(&digits().json).expect("fixture manifest parses");
        let (layers, last) = layer_list(latent_dim, &seeds);
        // A conditional model's class count must match its concat_one_hot (usize::MAX above
        // stands for "take the layer's").
        manifest.num_classes = match num_classes {
            Some(usize::MAX) => layers.iter().find_map(|l| match l {
                Layer::ConcatOneHot { classes } => Some(*classes),
                _ => None,
            }),
            other => other,
        };
        manifest.latent_dim = latent_dim;
        manifest.output_shape = match (output, last) {
            (Some(dims), _) => dims,
            (None, Some(shape)) => shape.dims(),
            (None, None) => vec![1],
        };
        manifest.layers = layers;
        if let Ok(shapes) = shape::infer(&manifest) {
            check_shapes(&manifest, &shapes)?;
        }
    }
}
