//! Shape inference: walks the layer list, checks every op's parameters against its input and
//! yields the per-sample shape after each layer. Runs before any weight is allocated.

//!
//! Every size is computed with checked arithmetic and bounded by [`crate::limits`], so a hostile
//! manifest (dimensions whose product wraps past 2^64, or 2^32 on wasm32) is an error here and
//! no later stage can overflow: a shape that leaves [`infer`] has at most
//! [`MAX_ELEMENTS`] elements and every dimension at most [`MAX_DIM`].

use crate::error::{Error, Result};
use crate::limits::{self, MAX_CLASSES, MAX_DIM, MAX_ELEMENTS, MAX_KERNEL, MAX_LATENT_DIM, MAX_PADDING};
use crate::model::manifest::{Layer, Manifest};

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
    if manifest.latent_dim == 0 || manifest.latent_dim > MAX_LATENT_DIM {
        return Err(Error::Manifest(format!(
            "latent_dim is {}; it must be between 1 and {MAX_LATENT_DIM}",
            manifest.latent_dim
        )));
    }
    if let Some(n) = manifest.num_classes {
        if n == 0 || n > MAX_CLASSES {
            return Err(Error::Manifest(format!("num_classes is {n}; it must be between 1 and {MAX_CLASSES}")));
        }
    }
    if manifest.layers.is_empty() {
        return Err(Error::Manifest("the model has no layers".into()));
    }
    if manifest.layers.len() > limits::MAX_LAYERS {
        return Err(Error::Manifest(format!(
            "the model has {} layers; webgan loads at most {}",
            manifest.layers.len(),
            limits::MAX_LAYERS
        )));
    }
    let mut shape = input_shape(manifest);
    let mut shapes = Vec::with_capacity(manifest.layers.len());
    let mut saw_concat = false;
    for (index, layer) in manifest.layers.iter().enumerate() {
        let err = |message: String| Error::layer(index, layer.op(), message);
        shape = layer_output(layer, shape).and_then(checked).map_err(err)?;
        if let Layer::ConcatOneHot { classes } = layer {
            if manifest.num_classes != Some(*classes) {
                return Err(err(format!(
                    "appends {classes} classes but num_classes is {:?}",
                    manifest.num_classes
                )));
            }
            saw_concat = true;
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

/// `shape` if every dimension is 1 to [`MAX_DIM`] and the product 1 to [`MAX_ELEMENTS`].
fn checked(shape: Shape) -> std::result::Result<Shape, String> {
    let dims = shape.dims();
    let elements = limits::product("the output's element count", &dims)?;
    if dims.iter().any(|&d| d == 0 || d > MAX_DIM) || elements > MAX_ELEMENTS {
        return Err(format!(
            "output shape {dims:?} is out of range: each dimension must be 1 to {MAX_DIM} and the \
             elements per sample 1 to {MAX_ELEMENTS}"
        ));
    }
    Ok(shape)
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

fn check_padding(padding: &[usize]) -> std::result::Result<(), String> {
    if padding.iter().any(|&p| p > MAX_PADDING) {
        return Err(format!("padding {padding:?} must be at most {MAX_PADDING} on each side"));
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
            Shape::Flat(f) if *classes > 0 && *classes <= MAX_CLASSES => {
                Ok(Shape::Flat(limits::add("features + classes", f, *classes)?))
            }
            Shape::Flat(_) => Err(format!("classes must be 1 to {MAX_CLASSES}")),
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
            // eps = 0 with a zero running variance divides by zero when the layer is folded.
            if !(eps.is_finite() && *eps > 0.0) {
                return Err(format!("eps must be a finite positive number, not {eps}"));
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
            let target = checked(target)?;
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
            check_padding(padding)?;
            if output_padding[0] >= stride[0] && output_padding[0] > 0
                || output_padding[1] >= stride[1] && output_padding[1] > 0
            {
                return Err(format!(
                    "output_padding {output_padding:?} must be smaller than stride {stride:?}"
                ));
            }
            // Kernel, stride and paddings are capped and h, w ≤ MAX_DIM: this cannot overflow
            // even in 32 bits, but the arithmetic is checked all the same.
            let full = |n: usize, s: usize, k: usize, op: usize| {
                limits::add("the output size", limits::mul("the output size", n - 1, s)?, k + op)
            };
            let (full_h, full_w) = (full(h, stride[0], kernel[0], output_padding[0])?, full(w, stride[1], kernel[1], output_padding[1])?);
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
            check_padding(padding)?;
            let (ph, pw) = (
                limits::add("the padded height", h, padding[0] + padding[1])?,
                limits::add("the padded width", w, padding[2] + padding[3])?,
            );
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
            Ok(Shape::Image {
                c,
                h: limits::mul("the upsampled height", h, scale[0])?,
                w: limits::mul("the upsampled width", w, scale[1])?,
            })
        }
    }
}
