//! Shape inference for the graph-only ops ([`GraphOp`]): the per-sample shape (and kind) of
//! each node's value from its inputs', with every size checked against [`crate::limits`].

use crate::limits::{self, MAX_DIM, MAX_ELEMENTS, MAX_KERNEL, MAX_PADDING};
use crate::model::Shape;
use crate::model::graph_op::{GraphOp, PadMode};

/// What a value is per sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Computed from the inputs: one per sample.
    Batched,
    /// A weights tensor shared by every sample (a `constant` node).
    Constant,
    /// A class id in `0..K` per sample.
    Class(usize),
}

/// A value's per-sample shape and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueInfo {
    pub shape: Shape,
    pub kind: Kind,
}

impl ValueInfo {
    /// A batched value of `shape`.
    pub fn batched(shape: Shape) -> Self {
        ValueInfo { shape, kind: Kind::Batched }
    }
}

type Check<T> = std::result::Result<T, String>;

/// `shape` if every dimension is 1 to [`MAX_DIM`] and the product at most [`MAX_ELEMENTS`].
pub fn checked(shape: Shape) -> Check<Shape> {
    let dims = shape.dims();
    let elements = limits::product("the element count", &dims)?;
    if dims.iter().any(|&d| d == 0 || d > MAX_DIM) || elements > MAX_ELEMENTS {
        return Err(format!(
            "shape {dims:?} is out of range: each dimension must be 1 to {MAX_DIM} and the elements \
             per sample at most {MAX_ELEMENTS}"
        ));
    }
    Ok(shape)
}

/// The shape of dims `[F]` or `[C, H, W]`.
pub fn from_dims(dims: &[usize]) -> Check<Shape> {
    checked(match *dims {
        [f] => Shape::Flat(f),
        [c, h, w] => Shape::Image { c, h, w },
        _ => return Err(format!("shape {dims:?} has rank {}; webgan values are [F] or [C, H, W]", dims.len())),
    })
}

/// The single batched float value of a one-input op.
pub fn one_batched(args: &[ValueInfo]) -> Check<Shape> {
    match args {
        [ValueInfo { shape, kind: Kind::Batched }] => Ok(*shape),
        [ValueInfo { kind: Kind::Class(_), .. }] => Err("reads a class input; only embedding and concat_one_hot take class ids".into()),
        [ValueInfo { kind: Kind::Constant, .. }] => Err("reads a constant; fold constant subgraphs before export".into()),
        _ => Err(format!("takes one input, not {}", args.len())),
    }
}

fn image(shape: Shape) -> Check<(usize, usize, usize)> {
    match shape {
        Shape::Image { c, h, w } => Ok((c, h, w)),
        Shape::Flat(f) => Err(format!("needs an image [C, H, W] but reads a flat vector of {f}")),
    }
}

fn positive(name: &str, v: f32) -> Check<()> {
    if v.is_finite() && v > 0.0 { Ok(()) } else { Err(format!("{name} must be a finite positive number, not {v}")) }
}

fn finite(name: &str, v: f32) -> Check<()> {
    if v.is_finite() { Ok(()) } else { Err(format!("{name} must be finite, not {v}")) }
}

/// NumPy broadcasting of two per-sample shapes (right-aligned, dims equal or 1; `[1]` against
/// anything).
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], i: usize| if i + s.len() >= rank { s[i + s.len() - rank] } else { 1 };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// The value of a graph-only op.
pub fn output(op: &GraphOp, args: &[ValueInfo], tensor_shape: &dyn Fn(&str) -> Option<Vec<usize>>) -> Check<ValueInfo> {
    let batched = |shape| Ok(ValueInfo::batched(checked(shape)?));
    match op {
        GraphOp::Constant { tensor } => {
            if !args.is_empty() {
                return Err("takes no inputs".into());
            }
            let dims = tensor_shape(tensor).ok_or_else(|| format!("tensor `{tensor}` is not in the weights file"))?;
            let shape = from_dims(&dims).map_err(|e| format!("tensor `{tensor}`: {e} (store scalars as [1])"))?;
            Ok(ValueInfo { shape, kind: Kind::Constant })
        }
        GraphOp::Add | GraphOp::Sub | GraphOp::Mul | GraphOp::Div => {
            let [a, b] = args else { return Err(format!("takes two inputs, not {}", args.len())) };
            if a.kind == Kind::Constant && b.kind == Kind::Constant {
                return Err("both operands are constants; fold them into one".into());
            }
            if matches!(a.kind, Kind::Class(_)) || matches!(b.kind, Kind::Class(_)) {
                return Err("reads a class input; use an embedding first".into());
            }
            let dims = broadcast(&a.shape.dims(), &b.shape.dims())
                .ok_or_else(|| format!("cannot broadcast {:?} with {:?}", a.shape.dims(), b.shape.dims()))?;
            batched(from_dims(&dims)?)
        }
        GraphOp::Concat { axis } => {
            if args.len() < 2 {
                return Err("takes at least two inputs".into());
            }
            let shapes = args
                .iter()
                .map(|a| if a.kind == Kind::Batched { Ok(a.shape.dims()) } else { Err("reads a constant or class input".to_string()) })
                .collect::<Check<Vec<_>>>()?;
            let first = &shapes[0];
            if *axis >= first.len() {
                return Err(format!("axis {axis} is out of range for shape {first:?}"));
            }
            let mut out = first.clone();
            for s in &shapes[1..] {
                let fits = s.len() == first.len() && (0..s.len()).all(|d| d == *axis || s[d] == first[d]);
                if !fits {
                    return Err(format!("cannot concatenate {first:?} and {s:?} on axis {axis}"));
                }
                out[*axis] = limits::add("the concatenated size", out[*axis], s[*axis])?;
            }
            batched(from_dims(&out)?)
        }
        GraphOp::InstanceNorm { channels, eps, .. } => {
            let (c, _, _) = image(one_batched(args)?)?;
            positive("eps", *eps)?;
            if c != *channels {
                return Err(format!("channels is {channels} but the input has {c}"));
            }
            batched(one_batched(args)?)
        }
        GraphOp::PixelNorm { eps } => {
            positive("eps", *eps)?;
            batched(one_batched(args)?)
        }
        GraphOp::GroupNorm { groups, channels, eps, .. } => {
            let x = one_batched(args)?;
            positive("eps", *eps)?;
            if x.channels() != *channels {
                return Err(format!("channels is {channels} but the input has {}", x.channels()));
            }
            if *groups == 0 || channels % groups != 0 {
                return Err(format!("groups {groups} must divide the {channels} channels"));
            }
            batched(x)
        }
        GraphOp::LayerNorm { axis, features, eps, .. } => {
            let x = one_batched(args)?;
            positive("eps", *eps)?;
            let dims = x.dims();
            if *axis >= dims.len() {
                return Err(format!("axis {axis} is out of range for shape {dims:?}"));
            }
            let normalized: usize = dims[*axis..].iter().product();
            if normalized != *features {
                return Err(format!("features is {features} but dims {:?} hold {normalized}", &dims[*axis..]));
            }
            batched(x)
        }
        GraphOp::ReduceMean { axes, keepdims } => {
            let dims = one_batched(args)?.dims();
            let mut seen = vec![false; dims.len()];
            for &a in axes {
                if a >= dims.len() || std::mem::replace(&mut seen[a], true) {
                    return Err(format!("axes {axes:?} must be distinct dims of {dims:?}"));
                }
            }
            if axes.is_empty() {
                return Err("axes must name at least one dim".into());
            }
            let out: Vec<usize> = if *keepdims {
                dims.iter().zip(&seen).map(|(&d, &s)| if s { 1 } else { d }).collect()
            } else {
                dims.iter().zip(&seen).filter(|(_, s)| !**s).map(|(&d, _)| d).collect()
            };
            batched(from_dims(if out.is_empty() { &[1] } else { &out })?)
        }
        GraphOp::Sqrt | GraphOp::Reciprocal | GraphOp::Relu | GraphOp::Silu | GraphOp::Sigmoid | GraphOp::Tanh => {
            batched(one_batched(args)?)
        }
        GraphOp::Gelu { .. } => batched(one_batched(args)?),
        GraphOp::Pow { exponent } => {
            finite("exponent", *exponent)?;
            batched(one_batched(args)?)
        }
        GraphOp::LeakyRelu { slope } => {
            finite("slope", *slope)?;
            batched(one_batched(args)?)
        }
        GraphOp::Elu { alpha } => {
            finite("alpha", *alpha)?;
            batched(one_batched(args)?)
        }
        GraphOp::Clamp { min, max } => {
            if min.is_nan() || max.is_nan() || min > max {
                return Err(format!("min {min} must be at most max {max}"));
            }
            batched(one_batched(args)?)
        }
        GraphOp::Prelu { channels, .. } => {
            let x = one_batched(args)?;
            if *channels != 1 && *channels != x.channels() {
                return Err(format!("channels is {channels}; it must be 1 or the input's {}", x.channels()));
            }
            batched(x)
        }
        GraphOp::Pad { pads, mode } => {
            let (c, h, w) = image(one_batched(args)?)?;
            if pads.iter().any(|&p| p > MAX_PADDING) {
                return Err(format!("pads {pads:?} must be at most {MAX_PADDING} on each side"));
            }
            if *mode == PadMode::Reflect && (pads[0] >= h || pads[1] >= h || pads[2] >= w || pads[3] >= w) {
                return Err(format!("reflect pads {pads:?} must be smaller than the {h}×{w} input"));
            }
            batched(Shape::Image {
                c,
                h: limits::add("the padded height", h, pads[0] + pads[1])?,
                w: limits::add("the padded width", w, pads[2] + pads[3])?,
            })
        }
        GraphOp::Upsample { scale, .. } => {
            let (c, h, w) = image(one_batched(args)?)?;
            if scale.iter().any(|&s| s == 0 || s > MAX_KERNEL) {
                return Err(format!("scale {scale:?} must be between 1 and {MAX_KERNEL}"));
            }
            batched(Shape::Image {
                c,
                h: limits::mul("the upsampled height", h, scale[0])?,
                w: limits::mul("the upsampled width", w, scale[1])?,
            })
        }
        GraphOp::Embedding { classes, dim, .. } => match args {
            [ValueInfo { kind: Kind::Class(k), .. }] if k == classes => batched(Shape::Flat(*dim)),
            [ValueInfo { kind: Kind::Class(k), .. }] => Err(format!("has {classes} rows but its class input has {k} classes")),
            _ => Err("reads one class input".into()),
        },
        GraphOp::AvgPool2d { kernel, stride, padding, .. } => {
            let (c, h, w) = image(one_batched(args)?)?;
            if kernel.iter().chain(stride).any(|&v| v == 0 || v > MAX_KERNEL) {
                return Err(format!("kernel {kernel:?} and stride {stride:?} must be between 1 and {MAX_KERNEL}"));
            }
            if padding[0].max(padding[1]) > kernel[0] / 2 || padding[2].max(padding[3]) > kernel[1] / 2 {
                return Err(format!("padding {padding:?} must be at most half the kernel {kernel:?}"));
            }
            let (ph, pw) = (h + padding[0] + padding[1], w + padding[2] + padding[3]);
            if ph < kernel[0] || pw < kernel[1] {
                return Err(format!("kernel {kernel:?} is larger than the padded {ph}×{pw} input"));
            }
            batched(Shape::Image { c, h: (ph - kernel[0]) / stride[0] + 1, w: (pw - kernel[1]) / stride[1] + 1 })
        }
    }
}
