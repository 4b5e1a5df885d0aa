//! Lowering one node that reads activations: the dispatch over ONNX ops, with the small ops
//! (activations, casts, MatMul, Concat, normalization, Neg, PRelu) inline and the rest in their
//! own modules.

use super::*;

impl Lower {
    /// The value of a non-constant node's first output.
    pub(super) fn lower(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        let op = node.op_type();
        let in_name = |i: usize| node.input.get(i).cloned().unwrap_or_default();
        if ins.iter().flatten().any(|v| matches!(v, Value::Gelu(..))) && !matches!(op, "Add" | "Mul") {
            return Err(format!("reads a value that {GELU_ONLY}"));
        }
        // The class input only feeds an embedding (through casts and identities).
        if let Some(Some(Value::Act(a))) = ins.first() {
            if a.class && !matches!(op, "Gather" | "Cast" | "Identity") {
                return Err(
                    "reads the class input; webgan reads class ids only in an embedding (Gather on a [K, D] table)"
                        .into(),
                );
            }
        }
        let unary = |me: &mut Lower, op_out: Op| -> Msg<Value> {
            let a = act(ins, 0)?;
            let t = me.emit(base, op_out, vec![a.tensor.clone()]);
            // A reshape still pending keeps the name of the ONNX op that asked for it.
            let reshape_name = a.reshape_name.clone().filter(|_| a.wshape != a.oshape);
            Ok(Value::Act(Act {
                tensor: t,
                wshape: a.wshape.clone(),
                oshape: a.oshape.clone(),
                class: false,
                fresh: None,
                reshape_name,
            }))
        };
        match op {
            "Identity" | "Dropout" => self.alias(ins, None, base),
            "Cast" => {
                let Some(Some(Value::Act(a))) = ins.first() else { return Err("input 0 is missing".into()) };
                let to = attr::int(node, "to", 1) as i32;
                let ok = if a.class { tensor::is_int_type(to) } else { tensor::is_float_type(to) };
                if !ok {
                    return Err(format!("casts an activation to {}; webgan computes in float", tensor::dtype_name(to)));
                }
                let mut a = a.clone();
                a.fresh = None;
                Ok(Value::Act(a))
            }
            "Shape" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" | "Transpose" | "Expand" => {
                self.shape_op(node, ins, base)
            }
            "Conv" => self.conv(node, ins, base),
            "ConvTranspose" => self.conv_transpose(node, ins, base),
            "Gemm" => self.gemm(node, ins, base),
            "MatMul" => {
                let a = act(ins, 0)?;
                let w = konst(ins, 1, "weight")?;
                let k = match a.oshape.as_slice() {
                    [k] => *k,
                    _ => {
                        return Err(format!(
                            "multiplies {:?}; webgan converts MatMul of [N, K] activations by a [K, M] constant",
                            full(&a.oshape)
                        ));
                    }
                };
                let (m, oshape) = match w.c.shape.as_slice() {
                    [k2, m] if *k2 == k => (*m, vec![*m]),
                    [k2] if *k2 == k => (1, vec![]),
                    s => return Err(format!("multiplies [N, {k}] by a constant of shape {s:?}")),
                };
                let wt = fold::eval(&transpose_node(), &[Some(Rc::new(w.c.reshaped(vec![k, m])))], &mut self.budget)?;
                let weight = self.weight(&format!("{base}.weight"), vec![m, k], wt[0].to_f32()?);
                let (t, _) = self.canonical(a)?;
                let out = self.emit(base, Op::Linear { in_features: k, out_features: m, weight, bias: None }, vec![t]);
                let fresh = Some(self.nodes.len() - 1);
                Ok(Value::Act(Act { tensor: out, wshape: vec![m], oshape, class: false, fresh, reshape_name: None }))
            }
            "Add" | "Sub" | "Mul" | "Div" | "Sum" => {
                if ins.len() != 2 {
                    return Err(format!("has {} inputs; webgan converts {op} of two", ins.len()));
                }
                if let Some(v) = self.gelu_step(op, ins, base)? {
                    return Ok(v);
                }
                self.binary(op, ins, [in_name(0), in_name(1)], base)
            }
            "Concat" => {
                let mut parts = Vec::new();
                for i in 0..ins.len() {
                    let a = act(ins, i).map_err(|m| format!("{m} (webgan concatenates activations only)"))?;
                    parts.push(a.clone());
                }
                let first = parts.first().ok_or("has no inputs")?;
                let axis = attr::axis(attr::int(node, "axis", 1), first.oshape.len() + 1)?;
                if axis != 1 {
                    return Err(format!(
                        "concatenates on axis {axis}; webgan concatenates channels or features (axis 1)"
                    ));
                }
                let mut oshape = first.oshape.clone();
                let mut tensors = Vec::new();
                for (i, p) in parts.iter().enumerate() {
                    if p.oshape.len() != first.oshape.len() || p.oshape[1..] != first.oshape[1..] {
                        return Err(format!("concatenates {:?} with {:?}", full(&first.oshape), full(&p.oshape)));
                    }
                    if i > 0 {
                        oshape[0] += p.oshape[0];
                    }
                    tensors.push(self.canonical(p)?.0);
                }
                if tensors.len() == 1 {
                    return self.alias(ins, None, base);
                }
                let out = self.emit(base, Op::Concat { axis: 0 }, tensors);
                Ok(Value::Act(Act {
                    tensor: out,
                    wshape: oshape.clone(),
                    oshape,
                    class: false,
                    fresh: None,
                    reshape_name: None,
                }))
            }
            "BatchNormalization" => self.batch_norm(node, ins, &in_name(0), base),
            "InstanceNormalization" => {
                let a = act(ins, 0)?;
                let (t, [c, _, _]) = self.image(a)?;
                let scale = konst(ins, 1, "scale")?;
                let bias = konst(ins, 2, "bias")?;
                check_len(&scale.c, c, "scale")?;
                check_len(&bias.c, c, "bias")?;
                let weight = Some(self.const_weight(scale, base, "weight", vec![c])?);
                let bias = Some(self.const_weight(bias, base, "bias", vec![c])?);
                let eps = attr::float(node, "epsilon", 1e-5);
                let out = self.emit(base, Op::InstanceNorm { channels: c, eps, weight, bias }, vec![t]);
                Ok(Value::Act(Act {
                    tensor: out,
                    wshape: a.oshape.clone(),
                    oshape: a.oshape.clone(),
                    class: false,
                    fresh: None,
                    reshape_name: None,
                }))
            }
            "Relu" => unary(self, Op::Relu),
            "Sigmoid" => unary(self, Op::Sigmoid),
            "Tanh" => unary(self, Op::Tanh),
            "Sqrt" => unary(self, Op::Sqrt),
            "Reciprocal" => unary(self, Op::Reciprocal),
            "LeakyRelu" => unary(self, Op::LeakyRelu { slope: attr::float(node, "alpha", 0.01) }),
            "Elu" => unary(self, Op::Elu { alpha: attr::float(node, "alpha", 1.0) }),
            "Gelu" => {
                let approximate = match attr::string(node, "approximate", "none").as_str() {
                    "none" => "none",
                    "tanh" => "tanh",
                    other => {
                        return Err(format!("approximate \"{other}\" is not supported; webgan supports none and tanh"));
                    }
                };
                unary(self, Op::Gelu { approximate })
            }
            "Clip" => {
                let lo = opt_konst(ins, 1, "min")?.map(|c| c.c.scalar_f32()).transpose()?.unwrap_or(f32::MIN);
                let hi = opt_konst(ins, 2, "max")?.map(|c| c.c.scalar_f32()).transpose()?.unwrap_or(f32::MAX);
                unary(self, Op::Clamp { min: lo.max(f32::MIN), max: hi.min(f32::MAX) })
            }
            "Pow" => {
                let e = konst(ins, 1, "exponent")
                    .and_then(|c| c.c.scalar_f32())
                    .map_err(|m| format!("{m}; webgan converts Pow of an activation by one constant exponent"))?;
                unary(self, Op::Pow { exponent: e })
            }
            "Neg" => {
                let a = act(ins, 0)?;
                let w = self.weight(&format!("{base}.scale"), vec![1], Rc::from(vec![-1.0f32]));
                let c = self.constant_node(&w, vec![1]);
                let out = self.emit(base, Op::Mul, vec![a.tensor.clone(), c]);
                Ok(Value::Act(Act {
                    tensor: out,
                    wshape: a.wshape.clone(),
                    oshape: a.oshape.clone(),
                    class: false,
                    fresh: None,
                    reshape_name: None,
                }))
            }
            "PRelu" => {
                let a = act(ins, 0)?;
                let slope = konst(ins, 1, "slope")?;
                let channels = a.oshape.first().copied().unwrap_or(1);
                let values = slope.c.to_f32()?;
                let (shape, data): (usize, Rc<[f32]>) = if values.iter().all(|&v| v == values[0]) && !values.is_empty()
                {
                    (1, Rc::from(vec![values[0]]))
                } else {
                    channel_vector(&slope.c, &a.oshape).map_err(|m| format!("slope: {m}"))?;
                    (channels, values)
                };
                let weight = if shape == count(&slope.c.shape) && slope.initializer {
                    self.weight(&slope.name, vec![shape], data)
                } else {
                    self.weight(&format!("{base}.weight"), vec![shape], data)
                };
                let (t, ws) = if shape == 1 { (a.tensor.clone(), a.wshape.clone()) } else { self.canonical(a)? };
                let out = self.emit(base, Op::Prelu { channels: shape, weight }, vec![t]);
                Ok(Value::Act(Act {
                    tensor: out,
                    wshape: ws,
                    oshape: a.oshape.clone(),
                    class: false,
                    fresh: None,
                    reshape_name: None,
                }))
            }
            "Pad" => self.pad(node, ins, base),
            "Resize" | "Upsample" => self.resize(node, ins, base),
            "ReduceMean" => self.reduce_mean(node, ins, base),
            "GlobalAveragePool" => {
                let a = act(ins, 0)?;
                let (t, [c, _, _]) = self.image(a)?;
                let out = self.emit(base, Op::ReduceMean { axes: vec![1, 2], keepdims: true }, vec![t]);
                Ok(Value::Act(Act {
                    tensor: out,
                    wshape: vec![c, 1, 1],
                    oshape: vec![c, 1, 1],
                    class: false,
                    fresh: None,
                    reshape_name: None,
                }))
            }
            "AveragePool" => self.avg_pool(node, ins, base),
            "Erf" => {
                let a = act(ins, 0)?;
                let x = self.gelu_source(a).ok_or(
                    "reads something other than x/√2; webgan converts Erf only in GELU, 0.5·x·(1 + erf(x/√2))",
                )?;
                Ok(Value::Gelu(GeluPart::Erf, x))
            }
            "Gather" => self.gather(node, ins, base),
            _ => Err(format!("unsupported op; webgan supports {}", LOWERED.join(", "))),
        }
    }
}
