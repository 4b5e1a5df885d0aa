//! How a [`GraphPlan`] is laid out: buffers shared by liveness, dispatches past 65,535
//! workgroups in two dimensions, and the errors for bad batches, inputs and limits.

use pollster::block_on;
use serde_json::json;
use webgan::gpu::{Gpu, GraphPlan, Tuning};
use webgan::model::Inputs;
use webgan::{Tensor, cpu};

use crate::common::assert_close;
use crate::{Graph, gpus, request};

#[test]
fn buffers_are_shared_by_liveness() {
    let gpu = block_on(Gpu::with_tuning(Some(Tuning::Emulator))).expect("a GPU adapter");
    let value = 4 * (4 * 5 * 7 * 4) as u64; // batch 4 of a padded [3, 5, 7]
    // A chain: two buffers in turn.
    let mut g = Graph::image(3, 5, 7);
    let mut last = "x".to_string();
    for (i, op) in ["relu", "tanh", "sigmoid", "silu", "relu", "tanh"].iter().enumerate() {
        last = g.op(&format!("n{i}"), op, &[&last], json!({}));
    }
    let plan = block_on(GraphPlan::compile(&gpu, &g.model(&last), 4)).unwrap();
    eprintln!("chain of 6: {} of {} bytes", plan.activation_bytes(), plan.unshared_activation_bytes());
    assert_eq!((plan.activation_bytes(), plan.unshared_activation_bytes()), (2 * value, 7 * value));
    // A skip connection keeps its value alive: x, y = relu(x), t = tanh(y), out = y + t.
    let mut g = Graph::image(3, 5, 7);
    g.op("y", "relu", &["x"], json!({}));
    g.op("t", "tanh", &["y"], json!({}));
    g.op("out", "add", &["y", "t"], json!({}));
    let model = g.model("out");
    let plan = block_on(GraphPlan::compile(&gpu, &model, 4)).unwrap();
    assert_eq!((plan.activation_bytes(), plan.unshared_activation_bytes()), (3 * value, 4 * value));
    // A partial batch runs on the plan of a larger one.
    let inputs = request(&model, 3, 5);
    assert_close("partial batch", &block_on(plan.run(&gpu, &inputs)).unwrap(), &cpu::run(&model, &inputs).unwrap(), 1e-4, 1e-4);
}

#[test]
fn large_batches_dispatch_in_two_dimensions() {
    let gpus = gpus();
    // 1100 samples × 64 instance-norm blocks = 70,400 workgroups of one norm each; a pad and a
    // relu over 1100 × 64·64 vec4s = 70,400 workgroups of 64 threads: both past 65,535.
    let mut g = Graph::image(64, 2, 2);
    g.op("out", "instance_norm", &["x"], json!({"channels": 64, "eps": 1e-5}));
    let norm = g.model("out");
    let mut g = Graph::image(4, 60, 60);
    g.op("p", "pad", &["x"], json!({"pads": [2, 2, 2, 2], "mode": "reflect"}));
    g.op("out", "relu", &["p"], json!({}));
    let elementwise = g.model("out");
    for (what, model) in [("instance_norm", &norm), ("pad + relu", &elementwise)] {
        let inputs = request(model, 1100, 3);
        let expected = cpu::run(model, &inputs).unwrap();
        for gpu in &gpus {
            let plan = block_on(GraphPlan::compile(gpu, model, 1100)).unwrap();
            let got = block_on(plan.run(gpu, &inputs)).unwrap();
            assert_close(&format!("{what} at batch 1100 {:?}", gpu.tuning), &got, &expected, 1e-4, 1e-4);
        }
    }
}

#[test]
fn bad_requests_and_limits_fail_with_the_numbers() {
    let gpu = block_on(Gpu::with_tuning(None)).expect("a GPU adapter");
    let mut g = Graph::image(3, 1024, 1024);
    g.op("out", "relu", &["x"], json!({}));
    let model = g.model("out");
    let err = block_on(GraphPlan::compile(&gpu, &model, 0)).err().expect("batch 0 is refused").to_string();
    assert!(err.contains("between 1 and"), "{err}");
    let err = block_on(GraphPlan::compile(&gpu, &model, 4096)).err().expect("64 GB is refused").to_string();
    assert!(err.contains("`x` at batch 4096") && err.contains("allows at most"), "{err}");
    let mut g = Graph::image(3, 5, 7);
    g.op("out", "relu", &["x"], json!({}));
    let model = g.model("out");
    let plan = block_on(GraphPlan::compile(&gpu, &model, 2)).unwrap();
    let err = block_on(plan.run(&gpu, &request(&model, 3, 1))).unwrap_err().to_string();
    assert!(err.contains("1 to 2"), "{err}");
    let err = block_on(plan.run(&gpu, &Inputs::latents(Tensor::zeros(&[1, 4]), None))).unwrap_err().to_string();
    assert!(err.contains("no latents"), "{err}");
}
