//! Discriminators: a GAN's second network, which scores how real an image looks ("realness",
//! a logit: higher is more real). A discriminator folder is an ordinary model folder whose input
//! is one generator image, flattened in NCHW order (its first layer is a `channels_first`
//! `reshape` back to the image), and whose output is one logit. [`Discriminator`] checks that
//! pairing once, so scoring a batch cannot fail on shapes later.

use crate::error::{Error, Result};
use crate::model::{Model, Shape};
use crate::tensor::Tensor;

/// A discriminator checked against the images of one generator.
#[derive(Clone, Debug)]
pub struct Discriminator {
    pub model: Model,
    image: Shape,
}

impl Discriminator {
    /// Pairs `model` with a generator whose images have shape `image` (its output shape).
    pub fn new(model: Model, image: Shape) -> Result<Self> {
        let name = &model.manifest.name;
        let expected = image.elements();
        let Shape::Image { c, h, w } = image else {
            return Err(Error::Input(format!("the generator's output {image:?} is not an image; only images can be scored")));
        };
        if model.manifest.num_classes.is_some() {
            return Err(Error::Input(format!(
                "discriminator `{name}` is conditional; webgan scores with unconditional discriminators only"
            )));
        }
        if model.manifest.latent_dim != expected {
            return Err(Error::Input(format!(
                "discriminator `{name}` takes {} inputs, but the generator's images have {c}×{h}×{w} = {expected} values; \
                 pair it with the generator it was trained with",
                model.manifest.latent_dim
            )));
        }
        let output = model.output_shape();
        if output != Shape::Flat(1) {
            return Err(Error::Input(format!(
                "discriminator `{name}` outputs {:?} per image; a discriminator outputs one logit",
                output.dims()
            )));
        }
        Ok(Discriminator { model, image })
    }

    /// The discriminator's input for `images` `[N, C, H, W]`: the same values as `[N, C·H·W]`.
    pub fn input(&self, images: &Tensor) -> Result<Tensor> {
        if images.shape.len() != 4 || images.shape[1..] != self.image.dims()[..] || images.batch() == 0 {
            return Err(Error::Input(format!(
                "images of shape {:?} cannot be scored: the discriminator takes [N, {:?}]",
                images.shape,
                self.image.dims()
            )));
        }
        Tensor::new(&[images.batch(), self.image.elements()], images.data.clone())
    }

    /// Realness logits of `images` `[N, C, H, W]` on the CPU reference, one per image.
    pub fn score_cpu(&self, images: &Tensor) -> Result<Vec<f32>> {
        Ok(crate::cpu::forward(&self.model, &self.input(images)?, None)?.data)
    }
}

/// Image indices from the most to the least real (a stable sort: ties keep their order).
pub fn most_real_first(scores: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}
