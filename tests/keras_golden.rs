//! Keras models against Keras' own output. The fixtures (tests/fixtures/keras_*, made by
//! tools/make_keras_fixtures.py with Keras 3 itself) hold the design notes' generator and
//! discriminator (narrower, same layers and shapes) with random BatchNormalization statistics,
//! already converted to model folders by tools/convert.py: nothing is converted at test time.
//! Checked on the CPU reference (1e-4) and the GPU (1e-3; lavapipe in CI, a missing adapter
//! fails), for both GPU tunings.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, read_npy, root};
use webgan::gpu::{Gpu, Plan, Tuning};
use webgan::model::Order;
use webgan::{Model, Tensor, cpu};

struct Case {
    folder: &'static str,
    input: &'static str,
    output: &'static str,
}

/// Dense → BN → LeakyReLU → Reshape(7, 7, C) → 4 × Conv2DTranspose (5×5, 'same', strides 1, 2,
/// 2, 2) → tanh: 100 → [3, 56, 56].
const GENERATOR: Case = Case {
    folder: "tests/fixtures/keras_generator",
    input: "tests/fixtures/keras_generator_z.npy",
    output: "tests/fixtures/keras_generator_out.npy",
};

/// 2 × Conv2D (5×5, stride 2, 'same') → Flatten → Dense(1): the flattened NCHW image → [1].
const DISCRIMINATOR: Case = Case {
    folder: "tests/fixtures/keras_discriminator",
    input: "tests/fixtures/keras_discriminator_x.npy",
    output: "tests/fixtures/keras_discriminator_out.npy",
};

fn load(case: &Case) -> (Model, Tensor, Tensor) {
    let model = Model::load_dir(root(case.folder))
        .unwrap_or_else(|e| panic!("{}: {e}\nregenerate with tools/make_keras_fixtures.py", case.folder));
    (model, read_npy(&root(case.input)), read_npy(&root(case.output)))
}

fn cpu_matches(case: &Case, what: &str) {
    let (model, x, want) = load(case);
    let out = cpu::forward(&model, &x, None).unwrap();
    assert_close(&format!("{what} cpu"), &out, &want, 1e-4, 0.0);
}

fn gpu_matches(case: &Case, what: &str, tuning: Tuning) {
    let gpu = pollster::block_on(Gpu::with_tuning(Some(tuning))).expect("a GPU adapter (CI installs lavapipe)");
    let (model, x, want) = load(case);
    let plan = pollster::block_on(Plan::compile(&gpu, &model, x.batch())).unwrap();
    let out = pollster::block_on(plan.generate(&gpu, &x, None)).unwrap();
    assert_close(&format!("{what} gpu {tuning:?}"), &out, &want, 1e-3, 0.0);
}

#[test]
fn generator_cpu_matches_keras() {
    cpu_matches(&GENERATOR, "keras generator");
}

#[test]
fn discriminator_cpu_matches_keras() {
    cpu_matches(&DISCRIMINATOR, "keras discriminator");
}

#[test]
fn generator_gpu_matches_keras() {
    gpu_matches(&GENERATOR, "keras generator", Tuning::Gpu);
    gpu_matches(&GENERATOR, "keras generator", Tuning::Emulator);
}

#[test]
fn discriminator_gpu_matches_keras() {
    gpu_matches(&DISCRIMINATOR, "keras discriminator", Tuning::Gpu);
    gpu_matches(&DISCRIMINATOR, "keras discriminator", Tuning::Emulator);
}

/// The converted folders use what makes them Keras models (so the checks above cover it):
/// channels-last reshape and flatten, TF's asymmetric 'same' padding, Keras' epsilon and slope.
#[test]
fn fixtures_exercise_keras_semantics() {
    use webgan::model::Layer;
    let (g, _, _) = load(&GENERATOR);
    let layers = &g.manifest.layers;
    assert!(layers.iter().any(|l| matches!(l, Layer::Reshape { shape, order: Order::ChannelsLast } if shape == &vec![16, 7, 7])));
    assert!(layers.iter().any(|l| matches!(l, Layer::ConvTranspose2d { padding: [1, 2, 1, 2], stride: [2, 2], .. })));
    assert!(layers.iter().any(|l| matches!(l, Layer::BatchNorm { eps, .. } if (*eps - 1e-3).abs() < 1e-9)));
    assert!(layers.iter().any(|l| matches!(l, Layer::LeakyRelu { slope } if (*slope - 0.3).abs() < 1e-7)));
    let (d, _, _) = load(&DISCRIMINATOR);
    let layers = &d.manifest.layers;
    assert!(matches!(&layers[0], Layer::Reshape { shape, order: Order::ChannelsFirst } if shape == &vec![3, 56, 56]));
    assert!(layers.iter().any(|l| matches!(l, Layer::Conv2d { padding: [1, 2, 1, 2], .. })));
    assert!(layers.iter().any(|l| matches!(l, Layer::Reshape { shape, order: Order::ChannelsLast } if shape == &vec![16 * 14 * 14])));
    assert_eq!(d.manifest.output_shape, vec![1]);
}
