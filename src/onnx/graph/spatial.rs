//! Lowering the spatial ops: Pad, Resize/Upsample (integer factors; nearest checked pixel by pixel
//! against webgan's repeat), ReduceMean and AveragePool.

use super::*;

impl Lower {
    pub(super) fn pad(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let a = act(ins, 0)?;
        let mode = match attr::string(node, "mode", "constant").as_str() {
            "constant" => PadMode::Zero,
            "reflect" => PadMode::Reflect,
            "edge" => PadMode::Replicate,
            other => {
                return Err(format!("mode \"{other}\" is not supported; webgan pads with constant 0, reflect or edge"));
            }
        };
        if let Some(v) = opt_konst(ins, 2, "constant_value")? {
            if v.c.len() > 0 && v.c.scalar_f32()? != 0.0 && mode == PadMode::Zero {
                return Err(format!("pads with {}; webgan pads with zeros only", v.c.scalar_f32()?));
            }
        }
        let (t, [c, h, w]) = self.image(a)?;
        let pads = match opt_konst(ins, 1, "pads")? {
            Some(p) => p.c.ints()?,
            None => attr::ints(node, "pads").ok_or("has no pads")?,
        };
        let rank = 4;
        let full_pads: Vec<i64> = match opt_konst(ins, 3, "axes")? {
            None => pads.clone(),
            Some(axes) => {
                let axes: Vec<usize> = axes.c.ints()?.iter().map(|&x| attr::axis(x, rank)).collect::<Msg<_>>()?;
                if pads.len() != 2 * axes.len() {
                    return Err(format!("pads {pads:?} do not match axes {axes:?}"));
                }
                let mut f = vec![0i64; 2 * rank];
                for (j, &ax) in axes.iter().enumerate() {
                    f[ax] = pads[j];
                    f[rank + ax] = pads[axes.len() + j];
                }
                f
            }
        };
        if full_pads.len() != 2 * rank {
            return Err(format!("pads {pads:?} do not match a rank-4 input"));
        }
        if full_pads.iter().any(|&p| p < 0) {
            return Err(format!("pads {full_pads:?} crop; webgan pads by non-negative amounts"));
        }
        if full_pads[0] != 0 || full_pads[1] != 0 || full_pads[4] != 0 || full_pads[5] != 0 {
            return Err(format!("pads {full_pads:?} pad the batch or channels; webgan pads height and width only"));
        }
        let p = [full_pads[2], full_pads[6], full_pads[3], full_pads[7]].map(|x| x as usize);
        if p.iter().any(|&x| x > MAX_PADDING) {
            return Err(format!("pads {p:?} exceed webgan's limit of {MAX_PADDING}"));
        }
        if mode == PadMode::Reflect && (p[0].max(p[1]) >= h || p[2].max(p[3]) >= w) {
            return Err(format!("reflect padding {p:?} needs a larger image than {h}×{w}"));
        }
        if p == [0; 4] {
            return self.alias(ins, None, base);
        }
        let out = self.emit(base, Op::Pad { pads: p, mode }, vec![t]);
        let shape = vec![c, h + p[0] + p[1], w + p[2] + p[3]];
        Ok(Value::Act(Act {
            tensor: out,
            wshape: shape.clone(),
            oshape: shape,
            class: false,
            fresh: None,
            reshape_name: None,
        }))
    }

    pub(super) fn resize(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let a = act(ins, 0)?;
        let (t, [c, h, w]) = self.image(a)?;
        let mode = attr::string(node, "mode", "nearest");
        let legacy = node.op_type() == "Upsample";
        let ctm = if legacy {
            "asymmetric".to_string()
        } else {
            attr::string(node, "coordinate_transformation_mode", "half_pixel")
        };
        let nearest_mode =
            if legacy { "floor".to_string() } else { attr::string(node, "nearest_mode", "round_prefer_floor") };
        let (scales_at, sizes_at) = if legacy { (1, usize::MAX) } else { (2, 3) };
        let axes: Vec<usize> = match attr::ints(node, "axes") {
            Some(ax) => ax.iter().map(|&x| attr::axis(x, 4)).collect::<Msg<_>>()?,
            None => vec![0, 1, 2, 3],
        };
        let in_full = [1usize, c, h, w];
        let mut scale = [1usize; 4];
        let scales = opt_konst(ins, scales_at, "scales")?.filter(|s| s.c.len() > 0);
        if let Some(s) = scales {
            let v = s.c.to_f32()?;
            if v.len() != axes.len() {
                return Err(format!("scales {:?} do not match the axes {axes:?}", &*v));
            }
            for (&ax, &f) in axes.iter().zip(v.iter()) {
                if !(f >= 1.0 && f.fract() == 0.0 && f <= MAX_KERNEL as f32) {
                    return Err(format!(
                        "scale {f} is not supported; webgan upsamples by integer factors from 1 to {MAX_KERNEL}"
                    ));
                }
                scale[ax] = f as usize;
            }
        } else {
            let sizes = match (sizes_at != usize::MAX).then(|| opt_konst(ins, sizes_at, "sizes")).transpose()?.flatten()
            {
                Some(s) => s.c.ints()?,
                None => return Err("has neither scales nor sizes".into()),
            };
            if sizes.len() != axes.len() {
                return Err(format!("sizes {sizes:?} do not match the axes {axes:?}"));
            }
            if attr::string(node, "keep_aspect_ratio_policy", "stretch") != "stretch" {
                return Err("keep_aspect_ratio_policy is not supported; webgan resizes by integer factors".into());
            }
            for (&ax, &s) in axes.iter().zip(&sizes) {
                if ax == 0 {
                    continue;
                }
                let n = in_full[ax];
                if s <= 0 || !(s as usize).is_multiple_of(n) || s as usize / n > MAX_KERNEL {
                    return Err(format!(
                        "size {s} for a dimension of {n} is not supported; webgan upsamples by integer factors"
                    ));
                }
                scale[ax] = s as usize / n;
            }
        }
        if scale[0] != 1 || scale[1] != 1 {
            return Err(format!("scales the batch or channels ({scale:?}); webgan resizes height and width"));
        }
        let (sh, sw) = (scale[2], scale[3]);
        let (up_mode, align_corners) = match mode.as_str() {
            "nearest" => {
                for (n, s) in [(h, sh), (w, sw)] {
                    check_nearest(&ctm, &nearest_mode, n, s)?;
                }
                (UpsampleMode::Nearest, false)
            }
            "linear" | "bilinear" => match ctm.as_str() {
                "half_pixel" | "pytorch_half_pixel" | "half_pixel_symmetric" => (UpsampleMode::Bilinear, false),
                "align_corners" => (UpsampleMode::Bilinear, true),
                other => {
                    return Err(format!(
                        "linear resize with coordinate_transformation_mode \"{other}\" is not supported; webgan supports half_pixel, pytorch_half_pixel and align_corners"
                    ));
                }
            },
            other => return Err(format!("mode \"{other}\" is not supported; webgan supports nearest and linear")),
        };
        if sh == 1 && sw == 1 {
            return self.alias(ins, None, base);
        }
        let out = self.emit(base, Op::Upsample { scale: [sh, sw], mode: up_mode, align_corners }, vec![t]);
        let shape = vec![c, h * sh, w * sw];
        Ok(Value::Act(Act {
            tensor: out,
            wshape: shape.clone(),
            oshape: shape,
            class: false,
            fresh: None,
            reshape_name: None,
        }))
    }

    pub(super) fn reduce_mean(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let a = act(ins, 0)?;
        let axes = fold::axes_of(node, &konsts(ins), 1)?.unwrap_or_default();
        let keepdims = attr::int(node, "keepdims", 1) != 0;
        if axes.is_empty() && attr::int(node, "noop_with_empty_axes", 0) != 0 {
            return self.alias(ins, None, base);
        }
        if axes.is_empty() {
            return Err("averages over every dimension, the batch too; webgan averages within a sample".into());
        }
        let rank = a.oshape.len() + 1;
        let mut per: Vec<usize> = Vec::new();
        for &x in &axes {
            let ax = attr::axis(x, rank)?;
            if ax == 0 {
                return Err("averages over the batch; webgan averages within a sample".into());
            }
            if !per.contains(&(ax - 1)) {
                per.push(ax - 1);
            }
        }
        per.sort_unstable();
        let (t, _) = self.canonical(a)?;
        let kept: Vec<usize> =
            a.oshape.iter().enumerate().map(|(i, &d)| if per.contains(&i) { 1 } else { d }).collect();
        let dropped: Vec<usize> =
            a.oshape.iter().enumerate().filter(|(i, _)| !per.contains(i)).map(|(_, &d)| d).collect();
        let oshape = if keepdims { kept.clone() } else { dropped.clone() };
        let (wkeep, wshape) = if keepdims || !matches!(dropped.len(), 1 | 3) { (true, kept) } else { (false, dropped) };
        let out = self.emit(base, Op::ReduceMean { axes: per, keepdims: wkeep }, vec![t]);
        Ok(Value::Act(Act { tensor: out, wshape, oshape, class: false, fresh: None, reshape_name: None }))
    }

    pub(super) fn avg_pool(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let a = act(ins, 0)?;
        let (t, [c, h, w]) = self.image(a)?;
        if attr::int(node, "ceil_mode", 0) != 0 {
            return Err("ceil_mode=1 is not supported; webgan pools with floor".into());
        }
        check_dilations(node)?;
        let kernel = attr::ints(node, "kernel_shape").ok_or("has no kernel_shape")?;
        let kernel = match kernel.as_slice() {
            &[kh, kw] if kh > 0 && kw > 0 => [kh as usize, kw as usize],
            k => return Err(format!("kernel_shape {k:?} is not 2-D")),
        };
        let stride = pair(node, "strides", 1)?;
        check_sizes(&kernel, &stride)?;
        let padding = conv_pads(node, [h, w], kernel, stride)?;
        let out_h = conv_out(h, padding[0] + padding[1], kernel[0], stride[0])?;
        let out_w = conv_out(w, padding[2] + padding[3], kernel[1], stride[1])?;
        let count_include_pad = attr::int(node, "count_include_pad", 0) != 0;
        let out = self.emit(base, Op::AvgPool2d { kernel, stride, padding, count_include_pad }, vec![t]);
        let shape = vec![c, out_h, out_w];
        Ok(Value::Act(Act {
            tensor: out,
            wshape: shape.clone(),
            oshape: shape,
            class: false,
            fresh: None,
            reshape_name: None,
        }))
    }
}

/// Checks that ONNX nearest resizing with these modes repeats each pixel `s` times (source of
/// output `o` is `o / s`), as webgan's nearest upsampling does.
pub(super) fn check_nearest(ctm: &str, nearest_mode: &str, n: usize, s: usize) -> Msg<()> {
    let out = n * s;
    for o in 0..out {
        let x = o as f32;
        let scale = s as f32;
        let src = match ctm {
            "half_pixel" | "half_pixel_symmetric" => (x + 0.5) / scale - 0.5,
            "pytorch_half_pixel" => {
                if out > 1 {
                    (x + 0.5) / scale - 0.5
                } else {
                    0.0
                }
            }
            "align_corners" => {
                if out > 1 {
                    x * (n as f32 - 1.0) / (out as f32 - 1.0)
                } else {
                    0.0
                }
            }
            "asymmetric" => x / scale,
            "tf_half_pixel_for_nn" => (x + 0.5) / scale,
            other => {
                return Err(format!(
                    "coordinate_transformation_mode \"{other}\" is not supported for nearest resizing"
                ));
            }
        };
        let i = match nearest_mode {
            "round_prefer_floor" => {
                if src.fract() == 0.5 {
                    src.floor()
                } else {
                    src.round()
                }
            }
            "round_prefer_ceil" => {
                if src.fract() == 0.5 {
                    src.ceil()
                } else {
                    src.round()
                }
            }
            "floor" => src.floor(),
            "ceil" => src.ceil(),
            other => return Err(format!("nearest_mode \"{other}\" is not supported")),
        };
        let i = (i.max(0.0) as usize).min(n - 1);
        if i != o / s {
            return Err(format!(
                "nearest resizing with coordinate_transformation_mode \"{ctm}\" and nearest_mode \"{nearest_mode}\" does not repeat each pixel; webgan supports the modes PyTorch exports (asymmetric + floor, half_pixel + round_prefer_floor)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_modes() {
        assert!(check_nearest("asymmetric", "floor", 4, 2).is_ok());
        assert!(check_nearest("half_pixel", "round_prefer_floor", 4, 3).is_ok());
        assert!(check_nearest("asymmetric", "round_prefer_ceil", 4, 2).is_err());
    }
}
