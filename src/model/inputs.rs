//! A generate request: latents, class ids and images (each present exactly when the model has
//! that input), and its one validation against a model, whatever backend runs it.

use crate::error::{Error, Result};
use crate::limits::MAX_COUNT;
use crate::model::Model;
use crate::tensor::Tensor;

/// The inputs of one generate call, `N` samples each: latents `[N, Z]`, classes `[N]`, images
/// `[N, C, H, W]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inputs {
    pub latents: Option<Tensor>,
    pub classes: Option<Vec<u32>>,
    pub images: Option<Tensor>,
}

impl Inputs {
    /// Latents (and classes) only: what a noise-to-image generator takes.
    pub fn latents(latents: Tensor, classes: Option<Vec<u32>>) -> Self {
        Inputs { latents: Some(latents), classes, images: None }
    }

    /// The number of samples (of whichever input is given).
    pub fn samples(&self) -> usize {
        self.latents.as_ref().or(self.images.as_ref()).map(Tensor::batch).or(self.classes.as_ref().map(Vec::len)).unwrap_or(0)
    }

    /// Samples `start..end` of every input.
    pub fn range(&self, start: usize, end: usize) -> Result<Inputs> {
        let pick: Vec<usize> = (start..end).collect();
        Ok(Inputs {
            latents: self.latents.as_ref().map(|t| t.samples(&pick)).transpose()?,
            classes: self.classes.as_ref().map(|c| c[start..end].to_vec()),
            images: self.images.as_ref().map(|t| t.samples(&pick)).transpose()?,
        })
    }
}

impl Model {
    /// The one validation of a generate request: each input the model has is given, with one
    /// batch size N (1 ≤ N ≤ [`MAX_COUNT`]), the right per-sample shape and finite values, and
    /// class ids in range; an input the model lacks is refused. Returns N.
    pub fn check_request(&self, latents: Option<&Tensor>, classes: Option<&[u32]>, images: Option<&Tensor>) -> Result<usize> {
        let name = &self.manifest.name;
        let n = latents.or(images).map(Tensor::batch).or(classes.map(<[u32]>::len)).unwrap_or(0);
        if n == 0 {
            return Err(Error::Input("nothing to generate from: give latents or images for at least one sample".into()));
        }
        if n > MAX_COUNT {
            return Err(Error::Input(format!("{n} images asked for; give 1 to {MAX_COUNT} per call")));
        }
        match (self.takes_latents(), latents) {
            (true, Some(z)) => {
                let dim = self.manifest.latent_dim;
                if z.shape != [n, dim] {
                    return Err(Error::Input(format!("latents must have shape [N, {dim}] with N ≥ 1, not {:?}", z.shape)));
                }
                if z.data.iter().any(|v| !v.is_finite()) {
                    return Err(Error::Input("latents hold NaN or infinite values".into()));
                }
            }
            (true, None) => return Err(Error::Input(format!("model `{name}` needs latents"))),
            (false, Some(_)) => return Err(Error::Input(format!("model `{name}` takes no latents; give it images"))),
            (false, None) => {}
        }
        match (self.image_input(), images) {
            (Some(shape), Some(x)) => {
                let want: Vec<usize> = [n].into_iter().chain(shape.dims()).collect();
                if x.shape != want {
                    return Err(Error::Input(format!("images must have shape {want:?}, not {:?}", x.shape)));
                }
                if x.data.iter().any(|v| !v.is_finite()) {
                    return Err(Error::Input("images hold NaN or infinite values".into()));
                }
            }
            (Some(shape), None) => {
                return Err(Error::Input(format!("model `{name}` is image-to-image: give it images of shape {:?}", shape.dims())));
            }
            (None, Some(_)) => return Err(Error::Input(format!("model `{name}` takes no image input"))),
            (None, None) => {}
        }
        match classes {
            Some(c) if c.len() != n => Err(Error::Input(format!("{} classes given for {n} samples", c.len()))),
            Some(c) => c.iter().try_for_each(|k| self.check_class(Some(*k))),
            None => self.check_class(None),
        }?;
        Ok(n)
    }

    /// [`Model::check_request`] for [`Inputs`].
    pub fn check_inputs(&self, inputs: &Inputs) -> Result<usize> {
        self.check_request(inputs.latents.as_ref(), inputs.classes.as_deref(), inputs.images.as_ref())
    }

    /// Latents `[N, latent_dim]` and one class per sample exactly when the model is conditional
    /// (a noise-to-image request). Returns N.
    pub fn check_input(&self, latents: &Tensor, classes: Option<&[u32]>) -> Result<usize> {
        self.check_request(Some(latents), classes, None)
    }

    /// Checks a class label against the model.
    pub fn check_class(&self, class: Option<u32>) -> Result<()> {
        match (self.manifest.num_classes, class) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(Error::Input(format!("model `{}` is not conditional; do not pass a class", self.manifest.name))),
            (Some(n), None) => Err(Error::Input(format!(
                "model `{}` is conditional: pass a class between 0 and {}",
                self.manifest.name,
                n - 1
            ))),
            (Some(n), Some(k)) if (k as usize) < n => Ok(()),
            (Some(n), Some(k)) => Err(Error::Input(format!("class {k} is out of range 0..{n}"))),
        }
    }
}
