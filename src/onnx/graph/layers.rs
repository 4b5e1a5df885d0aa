//! Lowering the other layers with weights: Gemm/MatMul's bias, BatchNormalization (folded into the
//! conv or linear before it when it is that node's only reader) and Gather as an embedding lookup.

use super::*;

impl Lower {
    /// Folds the bias `c` (one value per channel) into node `i` when it has none.
    pub(super) fn fold_bias(&mut self, i: usize, a: &Act, c: &Constant, values: Rc<[f32]>) -> Msg<Option<Value>> {
        let channels = a.oshape.first().copied().unwrap_or(1);
        if values.len() != channels {
            return Ok(None);
        }
        let name = self.nodes[i].name.clone();
        let w = if c.initializer { c.name.clone() } else { format!("{name}.bias") };
        let w = self.weight(&w, vec![channels], values);
        match &mut self.nodes[i].op {
            Op::Linear { bias, .. } | Op::Conv2d { bias, .. } | Op::ConvTranspose2d { bias, .. } if bias.is_none() => {
                *bias = Some(w);
            }
            _ => return Ok(None),
        }
        Ok(Some(Value::Act(a.clone())))
    }

    pub(super) fn gemm(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let a = act(ins, 0)?;
        let b = konst(ins, 1, "weight")?;
        let k = match a.oshape.as_slice() {
            [k] => *k,
            _ => return Err(format!("multiplies {:?}; Gemm needs an [N, K] input", full(&a.oshape))),
        };
        if attr::int(node, "transA", 0) != 0 {
            return Err("has transA=1, which transposes the batch away; webgan converts x @ W".into());
        }
        let trans_b = attr::int(node, "transB", 0) != 0;
        let m = match (b.c.shape.as_slice(), trans_b) {
            ([m, k2], true) if *k2 == k => *m,
            ([k2, m], false) if *k2 == k => *m,
            (s, _) => {
                return Err(format!(
                    "weight of shape {s:?} does not multiply [N, {k}] (transB={})",
                    i32::from(trans_b)
                ));
            }
        };
        let alpha = attr::float(node, "alpha", 1.0);
        let beta = attr::float(node, "beta", 1.0);
        let weight = if trans_b && alpha == 1.0 {
            self.const_weight(b, base, "weight", vec![m, k])?
        } else {
            let mut wt = if trans_b {
                (*b.c).clone()
            } else {
                fold::eval(&transpose_node(), &[Some(b.c.clone())], &mut self.budget)?.remove(0)
            };
            if alpha != 1.0 {
                wt = Const::f32(vec![m, k], wt.to_f32()?.iter().map(|&x| x * alpha).collect());
            }
            self.weight(&format!("{base}.weight"), vec![m, k], wt.to_f32()?)
        };
        let bias = match opt_konst(ins, 2, "bias")? {
            None => None,
            Some(c) => {
                let values = c.c.to_f32()?;
                let full_bias: Rc<[f32]> = if values.len() == 1 {
                    vec![values[0] * beta; m].into()
                } else if values.len() == m && c.c.shape.iter().filter(|&&d| d != 1).count() <= 1 {
                    if beta == 1.0 { values } else { values.iter().map(|&x| x * beta).collect() }
                } else {
                    return Err(format!("bias of shape {:?} is not one value per output ({m})", c.c.shape));
                };
                if beta == 1.0 && values_len_is(&c.c, m) && c.initializer {
                    Some(self.weight(&c.name, vec![m], full_bias))
                } else {
                    Some(self.weight(&format!("{base}.bias"), vec![m], full_bias))
                }
            }
        };
        let (t, _) = self.canonical(a)?;
        let out = self.emit(base, Op::Linear { in_features: k, out_features: m, weight, bias }, vec![t]);
        Ok(Value::Act(Act {
            tensor: out,
            wshape: vec![m],
            oshape: vec![m],
            class: false,
            fresh: Some(self.nodes.len() - 1),
            reshape_name: None,
        }))
    }

    pub(super) fn batch_norm(
        &mut self,
        node: &NodeProto,
        ins: &[Option<Value>],
        in_name: &str,
        base: &str,
    ) -> Msg<Value> {
        let a = act(ins, 0)?;
        if attr::int(node, "training_mode", 0) != 0 {
            return Err("is in training mode; call model.eval() before torch.onnx.export".into());
        }
        let c = *a.oshape.first().ok_or("normalizes a scalar")?;
        let eps = attr::float(node, "epsilon", 1e-5);
        let [scale, bias, mean, var] = [(1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")].map(|(i, what)| {
            konst(ins, i, what).and_then(|k| {
                check_len(&k.c, c, what)?;
                Ok(k.clone())
            })
        });
        let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
        if let Some(i) = a.fresh.filter(|_| self.uses(in_name) == 1) {
            if let Some(value) = self.fold_batch_norm(i, a, [&scale.c, &bias.c, &mean.c, &var.c], eps)? {
                return Ok(value);
            }
        }
        let (t, ws) = self.canonical(a)?;
        let op = Op::BatchNorm {
            channels: c,
            eps,
            weight: Some(self.const_weight(&scale, base, "weight", vec![c])?),
            bias: Some(self.const_weight(&bias, base, "bias", vec![c])?),
            running_mean: self.const_weight(&mean, base, "running_mean", vec![c])?,
            running_var: self.const_weight(&var, base, "running_var", vec![c])?,
        };
        let out = self.emit(base, op, vec![t]);
        Ok(Value::Act(Act {
            tensor: out,
            wshape: ws,
            oshape: a.oshape.clone(),
            class: false,
            fresh: None,
            reshape_name: None,
        }))
    }

    /// Folds inference batch norm into the conv, transposed conv or linear node `i` that made
    /// `a` (nothing else reads its output): `w' = w·s`, `b' = (b − mean)·s + beta` with
    /// `s = gamma / sqrt(var + eps)` per output channel.
    pub(super) fn fold_batch_norm(&mut self, i: usize, a: &Act, p: [&Rc<Const>; 4], eps: f32) -> Msg<Option<Value>> {
        let (gamma, beta, mean, var) = (p[0].to_f32()?, p[1].to_f32()?, p[2].to_f32()?, p[3].to_f32()?);
        let node = self.nodes[i].clone();
        let (weight, bias, out_axis_inner, out_axis_size) = match &node.op {
            Op::Conv2d { weight, bias, kernel, in_channels, out_channels, .. } => {
                (weight, bias, kernel[0] * kernel[1] * in_channels, *out_channels)
            }
            // [in, out, kh, kw]: the output channel of element e is (e / (kh·kw)) % out.
            Op::ConvTranspose2d { weight, bias, kernel, out_channels, .. } => {
                (weight, bias, kernel[0] * kernel[1], *out_channels)
            }
            Op::Linear { weight, bias, in_features, out_features, .. } => (weight, bias, *in_features, *out_features),
            _ => return Ok(None),
        };
        let transposed = matches!(node.op, Op::ConvTranspose2d { .. });
        let Some(w) = self.weights.get(weight).cloned() else { return Ok(None) };
        let s: Vec<f32> = (0..out_axis_size).map(|o| gamma[o] / (var[o] + eps).sqrt()).collect();
        self.budget.take(w.data.len() + out_axis_size)?;
        let scaled: Rc<[f32]> = w
            .data
            .iter()
            .enumerate()
            .map(|(e, &x)| {
                let o = if transposed { (e / out_axis_inner) % out_axis_size } else { e / out_axis_inner };
                x * s[o]
            })
            .collect();
        let old_bias = match bias {
            Some(b) => self.weights.get(b).map(|w| w.data.clone()),
            None => None,
        };
        let new_bias: Rc<[f32]> =
            (0..out_axis_size).map(|o| (old_bias.as_ref().map_or(0.0, |b| b[o]) - mean[o]) * s[o] + beta[o]).collect();
        // Weights named after this node are this node's alone: the folded values replace them.
        for own in [format!("{}.weight", node.name), format!("{}.bias", node.name)] {
            if weight == &own || bias.as_ref() == Some(&own) {
                self.weights.remove(&own);
            }
        }
        let wname = self.weight(&format!("{}.weight", node.name), w.shape.clone(), scaled);
        let bname = self.weight(&format!("{}.bias", node.name), vec![out_axis_size], new_bias);
        match &mut self.nodes[i].op {
            Op::Conv2d { weight, bias, .. }
            | Op::ConvTranspose2d { weight, bias, .. }
            | Op::Linear { weight, bias, .. } => {
                *weight = wname;
                *bias = Some(bname);
            }
            _ => return Ok(None),
        }
        let mut out = a.clone();
        out.fresh = Some(i);
        Ok(Some(Value::Act(out)))
    }

    pub(super) fn gather(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let table = match ins.first() {
            Some(Some(Value::Const(c))) => c,
            _ => return Err("gathers from an activation; webgan converts Gather only as an embedding lookup (a constant [K, D] table indexed by the class input)".into()),
        };
        let idx = match ins.get(1) {
            Some(Some(Value::Act(a))) if a.class => a,
            _ => return Err("indexes with a float activation; webgan converts Gather only as an embedding lookup by the class input".into()),
        };
        if attr::axis(attr::int(node, "axis", 0), table.c.shape.len().max(1))? != 0 {
            return Err("gathers on an axis other than 0; webgan converts embedding lookups (axis 0)".into());
        }
        let (k, d) = match table.c.shape.as_slice() {
            &[k, d] => (k, d),
            s => return Err(format!("table has shape {s:?}; an embedding table is [K, D]")),
        };
        if k == 0 || k > MAX_CLASSES {
            return Err(format!("has {k} classes; webgan allows 1 to {MAX_CLASSES}"));
        }
        for input in &mut self.inputs {
            if let Input::Class { name, classes } = input {
                if *name == idx.tensor {
                    if *classes != 0 && *classes != k {
                        return Err(format!("has {k} classes but another embedding of the class input has {classes}"));
                    }
                    *classes = k;
                }
            }
        }
        let weight = self.const_weight(table, base, "weight", vec![k, d])?;
        let out = self.emit(base, Op::Embedding { classes: k, dim: d, weight }, vec![idx.tensor.clone()]);
        Ok(Value::Act(Act {
            tensor: out,
            wshape: vec![d],
            oshape: vec![d],
            class: false,
            fresh: None,
            reshape_name: None,
        }))
    }
}

pub(super) fn check_len(c: &Const, n: usize, what: &str) -> Msg<()> {
    if c.len() != n {
        return Err(format!("{what} has shape {:?}; it needs {n} values (one per channel)", c.shape));
    }
    Ok(())
}

pub(super) fn values_len_is(c: &Const, n: usize) -> bool {
    c.len() == n
}

pub(super) fn transpose_node() -> NodeProto {
    NodeProto { op_type: Some("Transpose".into()), ..Default::default() }
}
