//! Every op on the GPU against the CPU reference, on odd shapes: stride 1, 2 and 3, kernels
//! 3/4/5, asymmetric padding, output padding, batch 1 and 7, both kernel tunings. Runs on
//! lavapipe in CI; a missing adapter fails the test rather than skipping it.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use common::{assert_close, build_model, random};
use serde_json::json;
use webgan::gpu::{Gpu, Plan, Tuning};
use webgan::{Model, cpu, latent};

type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

fn gpus() -> Vec<Gpu> {
    [Tuning::Emulator, Tuning::Gpu]
        .into_iter()
        .map(|t| pollster::block_on(Gpu::with_tuning(Some(t))).expect("a GPU adapter (CI installs lavapipe)"))
        .collect()
}

/// Runs `model` on every GPU tuning at batch 1 and 7 and compares with the CPU reference.
fn check(what: &str, model: &Model, gpus: &[Gpu]) {
    let classes = model.manifest.num_classes.map(|k| (0..7).map(|i| (i % k) as u32).collect::<Vec<_>>());
    for batch in [1, 7] {
        let z = latent::normal_latents(batch as u64, batch, model.manifest.latent_dim);
        let labels = classes.as_ref().map(|c| &c[..batch]);
        let expected = cpu::forward(model, &z, labels).unwrap();
        for gpu in gpus {
            let plan = pollster::block_on(Plan::compile(gpu, model, batch)).unwrap();
            let got = pollster::block_on(plan.generate(gpu, &z, labels)).unwrap();
            assert_close(&format!("{what} batch {batch} {:?}", gpu.tuning), &got, &expected, 1e-4, 1e-4);
        }
    }
}

fn image_input(c: usize, h: usize, w: usize) -> serde_json::Value {
    json!({"op": "reshape", "shape": [c, h, w], "order": "channels_first"})
}

fn bn(name: &str, c: usize, t: &mut Tensors, seed: u64) -> serde_json::Value {
    t.insert(format!("{name}.g"), (vec![c], random(seed, c, 1.0).iter().map(|v| v + 1.5).collect()));
    t.insert(format!("{name}.b"), (vec![c], random(seed + 1, c, 0.5)));
    t.insert(format!("{name}.m"), (vec![c], random(seed + 2, c, 0.3)));
    t.insert(format!("{name}.v"), (vec![c], random(seed + 3, c, 0.5).iter().map(|v| v + 1.0).collect()));
    json!({"op": "batch_norm", "channels": c, "eps": 1e-3, "weight": format!("{name}.g"), "bias": format!("{name}.b"),
           "running_mean": format!("{name}.m"), "running_var": format!("{name}.v")})
}

#[test]
fn conv_transpose2d_matches_cpu() {
    let gpus = gpus();
    // (c_in, c_out, h, w, kernel, stride, padding [t, b, l, r], output_padding, bias)
    let cases: &[(usize, usize, usize, usize, usize, usize, [usize; 4], usize, bool)] = &[
        (5, 7, 3, 4, 3, 1, [1, 1, 1, 1], 0, true),
        (6, 5, 5, 3, 4, 2, [1, 1, 1, 1], 0, false),
        (3, 9, 4, 5, 5, 2, [1, 2, 1, 2], 0, true), // Keras 'same', k5 s2
        (4, 3, 3, 3, 5, 2, [2, 2, 2, 2], 1, true), // output padding
        (9, 13, 2, 3, 3, 2, [0, 0, 0, 0], 0, true),
        (2, 4, 3, 3, 4, 3, [1, 0, 2, 1], 0, true), // stride 3, odd crops
        (100, 6, 1, 1, 4, 1, [0, 0, 0, 0], 0, false), // DCGAN's first layer: one matrix multiply
        (7, 5, 1, 1, 3, 2, [1, 0, 1, 0], 1, true),     // 1×1 input with crop and output padding
    ];
    for (i, &(ci, co, h, w, k, s, pad, op, with_bias)) in cases.iter().enumerate() {
        let mut t = Tensors::new();
        t.insert("w".into(), (vec![ci, co, k, k], random(i as u64, ci * co * k * k, 0.5)));
        if with_bias {
            t.insert("b".into(), (vec![co], random(100 + i as u64, co, 0.5)));
        }
        let layers = json!([image_input(ci, h, w),
            {"op": "conv_transpose2d", "in_channels": ci, "out_channels": co, "kernel": [k, k], "stride": [s, s],
             "padding": pad, "output_padding": [op, op], "weight": "w", "bias": if with_bias { json!("b") } else { json!(null) }}]);
        let model = build_model(ci * h * w, None, layers, &t);
        check(&format!("conv_transpose2d case {i}"), &model, &gpus);
    }
}

#[test]
fn conv2d_matches_cpu() {
    let gpus = gpus();
    let cases: &[(usize, usize, usize, usize, usize, usize, [usize; 4])] = &[
        (5, 7, 9, 8, 3, 1, [1, 1, 1, 1]),
        (3, 6, 11, 7, 5, 2, [1, 2, 1, 2]),
        (6, 5, 8, 8, 4, 2, [1, 1, 1, 1]),
        (4, 17, 7, 9, 3, 3, [0, 2, 1, 0]),
    ];
    for (i, &(ci, co, h, w, k, s, pad)) in cases.iter().enumerate() {
        let mut t = Tensors::new();
        t.insert("w".into(), (vec![co, ci, k, k], random(i as u64, ci * co * k * k, 0.5)));
        t.insert("b".into(), (vec![co], random(50 + i as u64, co, 0.5)));
        let layers = json!([image_input(ci, h, w),
            {"op": "conv2d", "in_channels": ci, "out_channels": co, "kernel": [k, k], "stride": [s, s],
             "padding": pad, "weight": "w", "bias": "b"}]);
        check(&format!("conv2d case {i}"), &build_model(ci * h * w, None, layers, &t), &gpus);
    }
}

#[test]
fn linear_batch_norm_and_activations_fuse() {
    let gpus = gpus();
    let acts = [json!({"op": "relu"}), json!({"op": "leaky_relu", "slope": 0.3}), json!({"op": "tanh"}), json!({"op": "sigmoid"})];
    for (i, act) in acts.iter().enumerate() {
        let mut t = Tensors::new();
        t.insert("w".into(), (vec![19, 37], random(i as u64, 19 * 37, 1.0)));
        t.insert("b".into(), (vec![19], random(9, 19, 1.0)));
        let norm = bn("bn", 19, &mut t, 20);
        let layers = json!([{"op": "linear", "in_features": 37, "out_features": 19, "weight": "w", "bias": "b"}, norm, act]);
        check(&format!("linear+bn+act {i}"), &build_model(37, None, layers, &t), &gpus);
    }
}

#[test]
fn standalone_batch_norm_activation_and_upsample() {
    let gpus = gpus();
    let mut t = Tensors::new();
    let (c, h, w) = (6, 3, 5);
    let n1 = bn("a", c, &mut t, 1);
    let n2 = bn("b", c, &mut t, 5);
    // BN straight after a reshape and after an activation cannot fold: the affine kernel runs.
    let layers = json!([image_input(c, h, w), n1, {"op": "leaky_relu", "slope": 0.2}, n2,
                        {"op": "upsample", "scale": [2, 3]}, {"op": "tanh"}]);
    check("affine + upsample", &build_model(c * h * w, None, layers, &t), &gpus);
}

#[test]
fn reshapes_in_both_orders() {
    let gpus = gpus();
    let mut t = Tensors::new();
    t.insert("w".into(), (vec![30, 5], random(3, 150, 1.0)));
    t.insert("w2".into(), (vec![7, 30], random(4, 210, 1.0)));
    let layers = json!([
        {"op": "linear", "in_features": 5, "out_features": 30, "weight": "w", "bias": null},
        {"op": "reshape", "shape": [5, 2, 3], "order": "channels_last"},   // Keras Reshape
        {"op": "relu"},
        {"op": "reshape", "shape": [3, 5, 2], "order": "channels_first"},  // image → image
        {"op": "reshape", "shape": [30], "order": "channels_last"},       // Keras Flatten
        {"op": "linear", "in_features": 30, "out_features": 7, "weight": "w2", "bias": null},
    ]);
    check("reshapes", &build_model(5, None, layers, &t), &gpus);
    // Channels divisible by 4: the channels-last reshapes are the NHWC layout and run no pass.
    let mut t = Tensors::new();
    t.insert("w".into(), (vec![48, 5], random(5, 240, 1.0)));
    t.insert("w2".into(), (vec![3, 48], random(6, 144, 1.0)));
    let layers = json!([
        {"op": "linear", "in_features": 5, "out_features": 48, "weight": "w", "bias": null},
        {"op": "reshape", "shape": [8, 2, 3], "order": "channels_last"},
        {"op": "leaky_relu", "slope": 0.2},
        {"op": "reshape", "shape": [48], "order": "channels_last"},
        {"op": "linear", "in_features": 48, "out_features": 3, "weight": "w2", "bias": null},
    ]);
    let model = build_model(5, None, layers, &t);
    check("channels-last reshapes without a pass", &model, &gpus);
    let plan = pollster::block_on(Plan::compile(&gpus[0], &model, 1)).unwrap();
    assert_eq!(plan.dispatches(), 3, "linear, leaky_relu (affine), linear");
}

#[test]
fn conditional_concat_one_hot() {
    let gpus = gpus();
    let mut t = Tensors::new();
    t.insert("w".into(), (vec![9, 3, 4, 4], random(11, 3 * 9 * 16, 0.5)));
    let layers = json!([
        {"op": "concat_one_hot", "classes": 4},
        {"op": "reshape", "shape": [9, 1, 1], "order": "channels_first"},
        {"op": "conv_transpose2d", "in_channels": 9, "out_channels": 3, "kernel": [4, 4], "stride": [1, 1],
         "padding": [0, 0, 0, 0], "output_padding": [0, 0], "weight": "w", "bias": null},
    ]);
    check("concat_one_hot", &build_model(5, Some(4), layers, &t), &gpus);
}

#[test]
fn bad_inputs_to_a_plan_are_errors() {
    let gpus = gpus();
    let gpu = &gpus[0];
    let model = Model::load_dir(common::root("www/models/faces64")).unwrap();
    assert!(pollster::block_on(Plan::compile(gpu, &model, 0)).is_err());
    let plan = pollster::block_on(Plan::compile(gpu, &model, 2)).unwrap();
    let too_many = latent::normal_latents(0, 3, 100);
    let e = pollster::block_on(plan.generate(gpu, &too_many, None)).unwrap_err().to_string();
    assert!(e.contains("3 latents given; this plan takes 1 to 2"), "{e}");
    let wrong = latent::normal_latents(0, 1, 99);
    let e = pollster::block_on(plan.generate(gpu, &wrong, None)).unwrap_err().to_string();
    assert!(e.contains("[N, 100]"), "{e}");
    let e = pollster::block_on(plan.generate(gpu, &latent::normal_latents(0, 1, 100), Some(&[1]))).unwrap_err().to_string();
    assert!(e.contains("not conditional"), "{e}");
    // Fewer samples than the plan's batch run fine and return only those.
    let one = pollster::block_on(plan.generate(gpu, &latent::normal_latents(0, 1, 100), None)).unwrap();
    assert_eq!(one.shape, vec![1, 3, 64, 64]);
}

#[test]
fn limits_are_checked_with_numbers() {
    let mut gpu = pollster::block_on(Gpu::new()).expect("a GPU adapter");
    let model = Model::load_dir(common::root("www/models/faces64")).unwrap();
    // Pretend the device allows only 1 MiB per storage binding: batch 64 needs 16 MiB for
    // the 32×32×64 activation.
    gpu.limits.max_storage_buffer_binding_size = 1 << 20;
    let e = pollster::block_on(Plan::compile(&gpu, &model, 64)).err().expect("limit error").to_string();
    assert!(e.contains("1048576") && e.contains("smaller batch"), "{e}");
    let mut gpu = pollster::block_on(Gpu::new()).unwrap();
    gpu.limits.max_compute_workgroups_per_dimension = 8;
    let e = pollster::block_on(Plan::compile(&gpu, &model, 64)).err().expect("limit error").to_string();
    assert!(e.contains("at most 8"), "{e}");
}

#[test]
fn plans_of_one_model_share_its_weights() {
    let gpu = pollster::block_on(Gpu::new()).expect("a GPU adapter");
    let model = Model::load_dir(common::root("www/models/faces64")).unwrap();
    let a = pollster::block_on(Plan::compile(&gpu, &model, 1)).unwrap();
    assert_eq!(gpu.weights.live(), 5, "faces64 has five convolutions");
    let b = pollster::block_on(Plan::compile(&gpu, &model, 8)).unwrap();
    assert_eq!(gpu.weights.live(), 5, "a second batch size uploads no new weights");
    drop((a, b));
    assert_eq!(gpu.weights.live(), 0, "weights are freed with the last plan");
}
