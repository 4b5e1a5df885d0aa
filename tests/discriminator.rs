//! Discriminators paired with generators: the pairing checks (input size, one logit, image
//! output) and the trained emoji56 discriminator against PyTorch's logits for the golden
//! generator images (tests/fixtures/emoji56_golden_*), on the CPU (1e-4) and the GPU (1e-3).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{assert_close, read_npy, root};
use webgan::discriminator::most_real_first;
use webgan::gpu::{Gpu, Plan, Tuning};
use webgan::model::Shape;
use webgan::{Discriminator, Model, Tensor};

fn load(dir: &str) -> Model {
    Model::load_dir(root(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"))
}

fn emoji_image() -> Shape {
    Shape::Image { c: 3, h: 56, w: 56 }
}

#[test]
fn pairs_only_with_images_of_its_input_size() {
    let keras = load("tests/fixtures/keras_discriminator");
    // The Keras fixture takes one 3×56×56 image: the keras generator's (and emoji56's) output.
    let generator = load("tests/fixtures/keras_generator");
    assert_eq!(generator.output_shape(), emoji_image());
    Discriminator::new(keras.clone(), generator.output_shape()).expect("pairs with a 56×56 RGB generator");

    let digits = load("tests/fixtures/digits");
    let e = Discriminator::new(keras.clone(), digits.output_shape()).unwrap_err().to_string();
    assert!(e.contains("9408 inputs") && e.contains("784"), "{e}");

    let e = Discriminator::new(keras, Shape::Flat(9408)).unwrap_err().to_string();
    assert!(e.contains("not an image"), "{e}");

}

#[test]
fn rejects_a_model_without_one_logit() {
    // keras_generator takes 100 values: pretend it scores 1×10×10 images; it outputs an image.
    let generator = load("tests/fixtures/keras_generator");
    let e = Discriminator::new(generator, Shape::Image { c: 1, h: 10, w: 10 }).unwrap_err().to_string();
    assert!(e.contains("one logit"), "{e}");
}

#[test]
fn input_is_the_flattened_batch_and_wrong_images_are_refused() {
    let d = Discriminator::new(load("tests/fixtures/keras_discriminator"), emoji_image()).unwrap();
    let images = Tensor::new(&[2, 3, 56, 56], (0..2 * 9408).map(|i| i as f32).collect()).unwrap();
    let x = d.input(&images).unwrap();
    assert_eq!(x.shape, vec![2, 9408]);
    assert_eq!(x.data, images.data);
    let e = d.input(&Tensor::zeros(&[2, 1, 28, 28])).unwrap_err().to_string();
    assert!(e.contains("[2, 1, 28, 28]"), "{e}");
}

#[test]
fn emoji56_discriminator_matches_pytorch() {
    let generator = load("www/models/emoji56");
    let d = Discriminator::new(load("www/models/emoji56/discriminator"), generator.output_shape()).unwrap();
    let images = read_npy(&root("tests/fixtures/emoji56_golden_out_f16.npy"));
    let want = read_npy(&root("tests/fixtures/emoji56_golden_d_logits.npy"));
    let n = images.batch();
    let cpu = Tensor::new(&[n, 1], d.score_cpu(&images).unwrap()).unwrap();
    assert_close("emoji56 discriminator cpu", &cpu, &want, 1e-4, 0.0);
    for tuning in [Tuning::Gpu, Tuning::Emulator] {
        let gpu = pollster::block_on(Gpu::with_tuning(Some(tuning))).expect("a GPU adapter (CI installs lavapipe)");
        let plan = pollster::block_on(Plan::compile(&gpu, &d.model, n)).unwrap();
        let out = pollster::block_on(plan.generate(&gpu, &d.input(&images).unwrap(), None)).unwrap();
        assert_close(&format!("emoji56 discriminator gpu {tuning:?}"), &out, &want, 1e-3, 0.0);
    }
}

#[test]
fn most_real_first_sorts_descending_and_keeps_ties_in_order() {
    assert_eq!(most_real_first(&[0.5, 2.0, -1.0, 2.0]), vec![1, 3, 0, 2]);
    assert_eq!(most_real_first(&[]), Vec::<usize>::new());
}

/// `webgan generate --sort-by-realness D` prints the logits and writes the images most real
/// first; a discriminator of another image size is refused before generating.
#[test]
fn cli_sorts_by_realness() {
    let out = std::env::temp_dir().join(format!("webgan-realness-{}.npy", std::process::id()));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_webgan"))
        .args(["generate", "--model", &root("www/models/emoji56"), "--backend", "cpu"])
        .args(["--latents", &root("tests/fixtures/emoji56_golden_z.npy"), "--out", out.to_str().unwrap()])
        .args(["--sort-by-realness", &root("www/models/emoji56/discriminator")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let images = read_npy(&root("tests/fixtures/emoji56_golden_out_f16.npy"));
    let logits = read_npy(&root("tests/fixtures/emoji56_golden_d_logits.npy"));
    let order = most_real_first(&logits.data);
    let table = String::from_utf8_lossy(&o.stdout);
    let printed: Vec<usize> =
        table.lines().skip(1).map(|l| l.split('\t').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(printed, order, "{table}");
    assert_close("sorted images", &read_npy(out.to_str().unwrap()), &images.samples(&order).unwrap(), 1e-4, 0.0);
    std::fs::remove_file(&out).ok();

    let o = std::process::Command::new(env!("CARGO_BIN_EXE_webgan"))
        .args(["generate", "--model", &root("www/models/faces64"), "--backend", "cpu", "--out", "/tmp/x.png"])
        .args(["--sort-by-realness", &root("www/models/emoji56/discriminator")])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("12288"), "{err}");
}
