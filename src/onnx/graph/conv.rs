//! Lowering Conv and ConvTranspose (2-D, dilation 1, groups 1), with the kernel, stride and
//! padding checks that AveragePool shares.

use super::*;

impl Lower {
    pub(super) fn conv(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let a = act(ins, 0)?;
        let w = konst(ins, 1, "weight")?;
        let b = opt_konst(ins, 2, "bias")?;
        let (t, [c, h, wd]) = self.image(a)?;
        let [o, ci, kh, kw] = match w.c.shape.as_slice() {
            &[o, ci, kh, kw] => [o, ci, kh, kw],
            s => return Err(format!("weight has shape {s:?}; webgan converts 2-D convolutions ([O, I, kh, kw])")),
        };
        let group = attr::int(node, "group", 1);
        if group != 1 {
            return Err(format!("group {group} is not supported; webgan converts convolutions with group 1"));
        }
        if ci != c {
            return Err(format!("weight has {ci} input channels but the input has {c}"));
        }
        check_dilations(node)?;
        check_kernel_attr(node, [kh, kw])?;
        let stride = pair(node, "strides", 1)?;
        check_sizes(&[kh, kw], &stride)?;
        let padding = conv_pads(node, [h, wd], [kh, kw], stride)?;
        let out_h = conv_out(h, padding[0] + padding[1], kh, stride[0])?;
        let out_w = conv_out(wd, padding[2] + padding[3], kw, stride[1])?;
        let weight = self.const_weight(w, base, "weight", vec![o, ci, kh, kw])?;
        let bias = match b {
            Some(b) => {
                check_len(&b.c, o, "bias")?;
                Some(self.const_weight(b, base, "bias", vec![o])?)
            }
            None => None,
        };
        let op = Op::Conv2d { in_channels: c, out_channels: o, kernel: [kh, kw], stride, padding, weight, bias };
        let out = self.emit(base, op, vec![t]);
        let shape = vec![o, out_h, out_w];
        Ok(Value::Act(Act {
            tensor: out,
            wshape: shape.clone(),
            oshape: shape,
            class: false,
            fresh: Some(self.nodes.len() - 1),
            reshape_name: None,
        }))
    }

    pub(super) fn conv_transpose(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let a = act(ins, 0)?;
        let w = konst(ins, 1, "weight")?;
        let b = opt_konst(ins, 2, "bias")?;
        let (t, [c, h, wd]) = self.image(a)?;
        let [ci, o, kh, kw] = match w.c.shape.as_slice() {
            &[ci, o, kh, kw] => [ci, o, kh, kw],
            s => {
                return Err(format!(
                    "weight has shape {s:?}; webgan converts 2-D transposed convolutions ([I, O, kh, kw])"
                ));
            }
        };
        let group = attr::int(node, "group", 1);
        if group != 1 {
            return Err(format!(
                "group {group} is not supported; webgan converts transposed convolutions with group 1"
            ));
        }
        if ci != c {
            return Err(format!("weight has {ci} input channels but the input has {c}"));
        }
        check_dilations(node)?;
        check_kernel_attr(node, [kh, kw])?;
        let stride = pair(node, "strides", 1)?;
        let output_padding = pair(node, "output_padding", 0)?;
        check_sizes(&[kh, kw], &stride)?;
        let auto_pad = attr::string(node, "auto_pad", "NOTSET");
        let wanted: Option<[usize; 2]> = match attr::ints(node, "output_shape") {
            Some(v) if v.len() >= 2 => {
                let v = &v[v.len() - 2..];
                Some([
                    usize::try_from(v[0]).map_err(|_| "bad output_shape")?,
                    usize::try_from(v[1]).map_err(|_| "bad output_shape")?,
                ])
            }
            Some(v) => return Err(format!("output_shape {v:?} is not 2-D")),
            None if auto_pad.starts_with("SAME") => Some([h * stride[0], wd * stride[1]]),
            None => None,
        };
        let padding = match wanted {
            Some(out) => {
                let mut p = [0usize; 4];
                for (i, (&n, &k)) in [h, wd].iter().zip(&[kh, kw]).enumerate() {
                    let full_len = stride[i] * (n - 1) + output_padding[i] + k;
                    let total = full_len.checked_sub(out[i]).ok_or_else(|| {
                        format!("output_shape {out:?} is larger than the transposed convolution makes; webgan needs it reachable by padding")
                    })?;
                    let (begin, end) = if auto_pad == "SAME_UPPER" {
                        (total / 2, total - total / 2)
                    } else {
                        (total - total / 2, total / 2)
                    };
                    p[2 * i] = begin;
                    p[2 * i + 1] = end;
                }
                p
            }
            None if auto_pad == "VALID" => [0; 4],
            None => {
                let pads = attr::ints(node, "pads").unwrap_or_else(|| vec![0; 4]);
                onnx_pads(&pads)?
            }
        };
        for (i, &op) in output_padding.iter().enumerate() {
            if op >= stride[i] {
                return Err(format!("output_padding {output_padding:?} is not smaller than the stride {stride:?}"));
            }
        }
        let out_h = (stride[0] * (h - 1) + kh + output_padding[0])
            .checked_sub(padding[0] + padding[1])
            .filter(|&x| x > 0)
            .ok_or("pads more than the output has")?;
        let out_w = (stride[1] * (wd - 1) + kw + output_padding[1])
            .checked_sub(padding[2] + padding[3])
            .filter(|&x| x > 0)
            .ok_or("pads more than the output has")?;
        let weight = self.const_weight(w, base, "weight", vec![ci, o, kh, kw])?;
        let bias = match b {
            Some(b) => {
                check_len(&b.c, o, "bias")?;
                Some(self.const_weight(b, base, "bias", vec![o])?)
            }
            None => None,
        };
        let op = Op::ConvTranspose2d {
            in_channels: c,
            out_channels: o,
            kernel: [kh, kw],
            stride,
            padding,
            output_padding,
            weight,
            bias,
        };
        let out = self.emit(base, op, vec![t]);
        let shape = vec![o, out_h, out_w];
        Ok(Value::Act(Act {
            tensor: out,
            wshape: shape.clone(),
            oshape: shape,
            class: false,
            fresh: Some(self.nodes.len() - 1),
            reshape_name: None,
        }))
    }
}

pub(super) fn check_dilations(node: &NodeProto) -> Msg<()> {
    if let Some(d) = attr::ints(node, "dilations") {
        if d.iter().any(|&x| x != 1) {
            return Err(format!("dilations {d:?} are not supported; webgan converts dilation 1"));
        }
    }
    Ok(())
}

pub(super) fn check_kernel_attr(node: &NodeProto, kernel: [usize; 2]) -> Msg<()> {
    if let Some(k) = attr::ints(node, "kernel_shape") {
        if k.len() != 2 || k[0] as usize != kernel[0] || k[1] as usize != kernel[1] {
            return Err(format!("kernel_shape {k:?} does not match the weight's {kernel:?}"));
        }
    }
    Ok(())
}

pub(super) fn check_sizes(kernel: &[usize; 2], stride: &[usize; 2]) -> Msg<()> {
    if kernel.iter().chain(stride).any(|&x| x == 0 || x > MAX_KERNEL) {
        return Err(format!("kernel {kernel:?} or stride {stride:?} is outside webgan's 1..={MAX_KERNEL}"));
    }
    Ok(())
}

/// ONNX pads `[top, left, bottom, right]` → webgan `[top, bottom, left, right]`.
pub(super) fn onnx_pads(p: &[i64]) -> Msg<[usize; 4]> {
    if p.len() != 4 || p.iter().any(|&x| x < 0 || x as usize > MAX_PADDING) {
        return Err(format!("pads {p:?} are not supported; webgan needs four values from 0 to {MAX_PADDING}"));
    }
    Ok([p[0] as usize, p[2] as usize, p[1] as usize, p[3] as usize])
}

/// Padding of a conv or pool from `pads` or `auto_pad`.
pub(super) fn conv_pads(node: &NodeProto, size: [usize; 2], kernel: [usize; 2], stride: [usize; 2]) -> Msg<[usize; 4]> {
    match attr::string(node, "auto_pad", "NOTSET").as_str() {
        "NOTSET" => onnx_pads(&attr::ints(node, "pads").unwrap_or_else(|| vec![0; 4])),
        "VALID" => Ok([0; 4]),
        mode @ ("SAME_UPPER" | "SAME_LOWER") => {
            let mut p = [0usize; 4];
            for i in 0..2 {
                let out = size[i].div_ceil(stride[i]);
                let total = ((out - 1) * stride[i] + kernel[i]).saturating_sub(size[i]);
                let small = total / 2;
                let (begin, end) = if mode == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
                p[2 * i] = begin;
                p[2 * i + 1] = end;
            }
            Ok(p)
        }
        other => Err(format!("auto_pad \"{other}\" is not supported")),
    }
}

pub(super) fn conv_out(n: usize, pad: usize, k: usize, s: usize) -> Msg<usize> {
    let padded = n + pad;
    if padded < k {
        return Err(format!("kernel {k} is larger than the padded input {padded}"));
    }
    Ok((padded - k) / s + 1)
}
