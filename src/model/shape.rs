//! Shape inference: walks the layer list, checks every op's parameters against its input and
//! yields the per-sample shape after each layer. Runs before any weight is allocated.

use crate::error::{Error, Result};
use crate::model::manifest::{Layer, Manifest};

/// Largest per-sample activation (elements) a model may have: 1 GiB of f32.
pub const MAX_ELEMENTS: usize = 1 << 28;
/// Largest kernel side or stride accepted.
pub const MAX_KERNEL: usize = 64;

/// Per-sample shape of an activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A feature vector `[F]`.
    Flat(usize),
    /// An image `[C, H, W]`.
    Image { c: usize, h: usize, w: usize },
}

impl Shape {
    /// Elements per sample.
    pub fn elements(&self) -> usize {
        match *self {
            Shape::Flat(f) => f,
            Shape::Image { c, h, w } => c * h * w,
        }
    }

    /// The shape as a list, `[F]` or `[C, H, W]`.
    pub fn dims(&self) -> Vec<usize> {
        match *self {
            Shape::Flat(f) => vec![f],
            Shape::Image { c, h, w } => vec![c, h, w],
        }
    }

    /// Channels of an image, or features of a flat vector (what batch norm normalizes over).
    pub fn channels(&self) -> usize {
        match *self {
            Shape::Flat(f) => f,
            Shape::Image { c, .. } => c,
        }
    }
}

/// Shape of the model's input: the latent vector (class one-hots are appended by a layer).
pub fn input_shape(manifest: &Manifest) -> Shape {
    Shape::Flat(manifest.latent_dim)
}

/// Infers and checks the shape after every layer; the last one must equal `output_shape`.
pub fn infer(manifest: &Manifest) -> Result<Vec<Shape>> {
    if manifest.latent_dim == 0 || manifest.latent_dim > 65536 {
        return Err(Error::Manifest(format!(
            "latent_dim is {}; it must be between 1 and 65536",
            manifest.latent_dim
        )));
    }
    if manifest.layers.is_empty() {
        return Err(Error::Manifest("the model has no layers".into()));
    }
    let mut shape = input_shape(manifest);
    let mut shapes = Vec::with_capacity(manifest.layers.len());
    let mut saw_concat = false;
    for (index, layer) in manifest.layers.iter().enumerate() {
        let err = |message: String| Error::layer(index, layer.op(), message);
        shape = layer_output(layer, shape).map_err(err)?;
        if let Layer::ConcatOneHot { classes } = layer {
            if manifest.num_classes != Some(*classes) {
                return Err(err(format!(
                    "appends {classes} classes but num_classes is {:?}",
                    manifest.num_classes
                )));
            }
            saw_concat = true;
        }
        if shape.elements() == 0 || shape.elements() > MAX_ELEMENTS {
            return Err(err(format!(
                "output shape {:?} has {} elements per sample; allowed is 1 to {MAX_ELEMENTS}",
                shape.dims(),
                shape.elements()
            )));
        }
        shapes.push(shape);
    }
    if manifest.num_classes.is_some() && !saw_concat {
        return Err(Error::Manifest(
            "num_classes is set but no concat_one_hot layer uses the class".into(),
        ));
    }
    if shape.dims() != manifest.output_shape {
        return Err(Error::Manifest(format!(
            "the layers produce shape {:?} but output_shape says {:?}",
            shape.dims(),
            manifest.output_shape
        )));
    }
    Ok(shapes)
}

fn image(shape: Shape) -> std::result::Result<(usize, usize, usize), String> {
    match shape {
        Shape::Image { c, h, w } => Ok((c, h, w)),
        Shape::Flat(f) => Err(format!(
            "needs an image input [C, H, W] but gets a flat vector of {f}; add a reshape layer first"
        )),
    }
}

fn check_window(kernel: [usize; 2], stride: [usize; 2]) -> std::result::Result<(), String> {
    for v in kernel.iter().chain(stride.iter()) {
        if *v == 0 || *v > MAX_KERNEL {
            return Err(format!(
                "kernel {kernel:?} and stride {stride:?} must be between 1 and {MAX_KERNEL}"
            ));
        }
    }
    Ok(())
}

fn check_channels(name: &str, expected: usize, actual: usize) -> std::result::Result<(), String> {
    if expected == actual {
        Ok(())
    } else {
        Err(format!("{name} is {expected} but the input has {actual}"))
    }
}

/// The per-sample output shape of one layer, or why its parameters do not fit its input.
pub fn layer_output(layer: &Layer, input: Shape) -> std::result::Result<Shape, String> {
    match layer {
        Layer::ConcatOneHot { classes } => match input {
            Shape::Flat(f) if *classes > 0 => Ok(Shape::Flat(f + classes)),
            Shape::Flat(_) => Err("classes must be at least 1".into()),
            Shape::Image { .. } => Err("needs a flat input".into()),
        },
        Layer::Linear { in_features, out_features, .. } => match input {
            Shape::Flat(f) => {
                check_channels("in_features", *in_features, f)?;
                if *out_features == 0 {
                    return Err("out_features must be at least 1".into());
                }
                Ok(Shape::Flat(*out_features))
            }
            Shape::Image { .. } => Err("needs a flat input; add a reshape layer first".into()),
        },
        Layer::BatchNorm { channels, eps, .. } => {
            check_channels("channels", *channels, input.channels())?;
            if !(eps.is_finite() && *eps >= 0.0) {
                return Err(format!("eps must be a finite non-negative number, not {eps}"));
            }
            Ok(input)
        }
        Layer::Relu | Layer::Tanh | Layer::Sigmoid => Ok(input),
        Layer::LeakyRelu { slope } => {
            if slope.is_finite() {
                Ok(input)
            } else {
                Err(format!("slope must be finite, not {slope}"))
            }
        }
        Layer::Reshape { shape, .. } => {
            let target = match shape.as_slice() {
                [f] => Shape::Flat(*f),
                [c, h, w] => Shape::Image { c: *c, h: *h, w: *w },
                _ => return Err(format!("shape {shape:?} must be [F] or [C, H, W]")),
            };
            if target.elements() != input.elements() {
                return Err(format!(
                    "cannot reshape {:?} ({} elements) to {shape:?} ({} elements)",
                    input.dims(),
                    input.elements(),
                    target.elements()
                ));
            }
            Ok(target)
        }
        Layer::ConvTranspose2d { in_channels, out_channels, kernel, stride, padding, output_padding, .. } => {
            let (c, h, w) = image(input)?;
            check_channels("in_channels", *in_channels, c)?;
            check_window(*kernel, *stride)?;
            if output_padding[0] >= stride[0] && output_padding[0] > 0
                || output_padding[1] >= stride[1] && output_padding[1] > 0
            {
                return Err(format!(
                    "output_padding {output_padding:?} must be smaller than stride {stride:?}"
                ));
            }
            let full_h = (h - 1) * stride[0] + kernel[0] + output_padding[0];
            let full_w = (w - 1) * stride[1] + kernel[1] + output_padding[1];
            let (oh, ow) = (
                full_h.checked_sub(padding[0] + padding[1]),
                full_w.checked_sub(padding[2] + padding[3]),
            );
            match (oh, ow) {
                (Some(oh), Some(ow)) if oh > 0 && ow > 0 && *out_channels > 0 => {
                    Ok(Shape::Image { c: *out_channels, h: oh, w: ow })
                }
                _ => Err(format!("padding {padding:?} leaves no output for a {h}×{w} input")),
            }
        }
        Layer::Conv2d { in_channels, out_channels, kernel, stride, padding, .. } => {
            let (c, h, w) = image(input)?;
            check_channels("in_channels", *in_channels, c)?;
            check_window(*kernel, *stride)?;
            let (ph, pw) = (h + padding[0] + padding[1], w + padding[2] + padding[3]);
            if ph < kernel[0] || pw < kernel[1] || *out_channels == 0 {
                return Err(format!("kernel {kernel:?} is larger than the padded {ph}×{pw} input"));
            }
            Ok(Shape::Image {
                c: *out_channels,
                h: (ph - kernel[0]) / stride[0] + 1,
                w: (pw - kernel[1]) / stride[1] + 1,
            })
        }
        Layer::Upsample { scale } => {
            let (c, h, w) = image(input)?;
            if scale[0] == 0 || scale[1] == 0 || scale[0] > MAX_KERNEL || scale[1] > MAX_KERNEL {
                return Err(format!("scale {scale:?} must be between 1 and {MAX_KERNEL}"));
            }
            Ok(Shape::Image { c, h: h * scale[0], w: w * scale[1] })
        }
    }
}
