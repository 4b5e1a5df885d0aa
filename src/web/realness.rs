//! Realness scores in the page: the generator's [`Discriminator`] run on the images on the
//! canvas, on the generator's backend (WebGPU, or the CPU reference). The GPU plan for the last
//! batch size is kept; the weights are uploaded once (`gpu::weight_cache`).

use std::cell::RefCell;

use crate::discriminator::Discriminator;
use crate::error::Result;
use crate::gpu::{Gpu, Plan};
use crate::tensor::Tensor;

pub(super) struct Realness {
    pub discriminator: Discriminator,
    plan: RefCell<Option<Plan>>,
}

impl Realness {
    pub fn new(discriminator: Discriminator) -> Self {
        Realness { discriminator, plan: RefCell::new(None) }
    }

    /// One logit per image of `images` `[N, C, H, W]`; on `gpu` when given.
    pub async fn score(&self, gpu: Option<&Gpu>, images: &Tensor) -> Result<Vec<f32>> {
        let Some(gpu) = gpu else { return self.discriminator.score_cpu(images) };
        let input = self.discriminator.input(images)?;
        let n = images.batch();
        // Taken out of the cell while awaited, so no borrow lives across an await.
        let plan = match self.plan.take() {
            Some(plan) if plan.batch() == n => plan,
            _ => Plan::compile(gpu, &self.discriminator.model, n).await?,
        };
        let logits = plan.generate(gpu, &input, None).await;
        self.plan.replace(Some(plan));
        Ok(logits?.data)
    }
}
