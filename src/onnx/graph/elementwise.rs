//! Lowering elementwise arithmetic: broadcasts of activations with activations or with constants
//! (a constant becomes a `constant` node; a bias add folds into the linear or conv before it),
//! `x · sigmoid(x)` as silu, and the exact GELU written with Erf.

use super::*;

impl Lower {
    /// `x` when `a` is `x / √2` or `x · (1/√2)` (a div or mul node by a one-value constant).
    pub(super) fn gelu_source(&self, a: &Act) -> Option<Act> {
        let node = &self.nodes[*self.by_name.get(&a.tensor)?];
        let want = match node.op {
            Op::Div => std::f32::consts::SQRT_2,
            Op::Mul => std::f32::consts::FRAC_1_SQRT_2,
            _ => return None,
        };
        let [x, c] = node.inputs.as_slice() else { return None };
        let Op::Constant { tensor } = &self.nodes[*self.by_name.get(c)?].op else { return None };
        let w = self.weights.get(tensor)?;
        if w.data.len() != 1 || (w.data[0] - want).abs() > 1e-5 {
            return None;
        }
        Some(Act { tensor: x.clone(), fresh: None, reshape_name: None, ..a.clone() })
    }

    /// One step of the GELU pattern (see [`GeluPart`]), when an input is part of it.
    pub(super) fn gelu_step(&mut self, op: &str, ins: &[Option<Value>], base: &str) -> Msg<Option<Value>> {
        let scalar = |v: &Option<Value>| match v {
            Some(Value::Const(c)) => c.c.scalar_f32().ok(),
            _ => None,
        };
        let (part, x, other) = match (&ins[0], &ins[1]) {
            (Some(Value::Gelu(p, x)), other) | (other, Some(Value::Gelu(p, x))) => (*p, x.clone(), other.clone()),
            _ => return Ok(None),
        };
        let same_x = matches!(&other, Some(Value::Act(y)) if y.tensor == x.tensor);
        // `(x · 0.5) · (1 + erf(x/√2))`: the other factor is a mul of x by a constant 0.5.
        let half_x = match &other {
            Some(Value::Act(y)) => self.by_name.get(&y.tensor).is_some_and(|&i| {
                let n = &self.nodes[i];
                matches!(n.op, Op::Mul)
                    && n.inputs.first() == Some(&x.tensor)
                    && n.inputs.get(1).and_then(|c| self.by_name.get(c)).is_some_and(|&j| match &self.nodes[j].op {
                        Op::Constant { tensor } => self.weights.get(tensor).is_some_and(|w| *w.data == [0.5]),
                        _ => false,
                    })
            }),
            _ => false,
        };
        let next = match (op, part) {
            ("Add", GeluPart::Erf) if scalar(&other) == Some(1.0) => GeluPart::OnePlus,
            ("Mul", GeluPart::OnePlus) if scalar(&other) == Some(0.5) => GeluPart::Half,
            ("Mul", GeluPart::OnePlus) if same_x => GeluPart::Times,
            ("Mul", GeluPart::OnePlus) if half_x => return Ok(Some(self.gelu(&x, base))),
            ("Mul", GeluPart::Times) if scalar(&other) == Some(0.5) => {
                return Ok(Some(self.gelu(&x, base)));
            }
            ("Mul", GeluPart::Half) if same_x => return Ok(Some(self.gelu(&x, base))),
            _ => return Err(GELU_ONLY.into()),
        };
        Ok(Some(Value::Gelu(next, x)))
    }

    pub(super) fn gelu(&mut self, x: &Act, base: &str) -> Value {
        let out = self.emit(base, Op::Gelu { approximate: "none" }, vec![x.tensor.clone()]);
        Value::Act(Act {
            tensor: out,
            wshape: x.wshape.clone(),
            oshape: x.oshape.clone(),
            class: false,
            fresh: None,
            reshape_name: None,
        })
    }

    pub(super) fn binary(&mut self, op: &str, ins: &[Option<Value>], names: [String; 2], base: &str) -> Msg<Value> {
        let wop = match op {
            "Add" | "Sum" => Op::Add,
            "Sub" => Op::Sub,
            "Mul" => Op::Mul,
            _ => Op::Div,
        };
        match (&ins[0], &ins[1]) {
            (Some(Value::Act(a)), Some(Value::Act(b))) => {
                if a.class || b.class {
                    return Err("computes with a class id; webgan reads class ids only in an embedding".into());
                }
                if op == "Mul" {
                    for (x, s) in [(a, b), (b, a)] {
                        if let Some(&i) = self.by_name.get(&s.tensor) {
                            let sig = &self.nodes[i];
                            if matches!(sig.op, Op::Sigmoid) && sig.inputs == [x.tensor.clone()] && s.oshape == x.oshape
                            {
                                let out = self.emit(base, Op::Silu, vec![x.tensor.clone()]);
                                return Ok(Value::Act(Act {
                                    tensor: out,
                                    wshape: x.wshape.clone(),
                                    oshape: x.oshape.clone(),
                                    class: false,
                                    fresh: None,
                                    reshape_name: None,
                                }));
                            }
                        }
                    }
                }
                if a.oshape == b.oshape {
                    let tb = self.as_shape(b, &a.wshape.clone());
                    let out = self.emit(base, wop, vec![a.tensor.clone(), tb]);
                    return Ok(Value::Act(Act {
                        tensor: out,
                        wshape: a.wshape.clone(),
                        oshape: a.oshape.clone(),
                        class: false,
                        fresh: None,
                        reshape_name: None,
                    }));
                }
                if a.oshape.len() != b.oshape.len() {
                    return Err(format!(
                        "broadcasts {:?} with {:?}; webgan broadcasts activations of the same rank",
                        full(&a.oshape),
                        full(&b.oshape)
                    ));
                }
                let oshape = fold::broadcast(&a.oshape, &b.oshape)?;
                let (ta, _) = self.canonical(a)?;
                let (tb, _) = self.canonical(b)?;
                let wshape = canonical_shape(&oshape).ok_or("bad broadcast")?;
                let out = self.emit(base, wop, vec![ta, tb]);
                Ok(Value::Act(Act { tensor: out, wshape, oshape, class: false, fresh: None, reshape_name: None }))
            }
            (Some(Value::Act(a)), Some(Value::Const(c))) | (Some(Value::Const(c)), Some(Value::Act(a))) => {
                if a.class {
                    return Err("computes with a class id; webgan reads class ids only in an embedding".into());
                }
                let const_first = matches!(ins[0], Some(Value::Const(_)));
                let act_name = if const_first { &names[1] } else { &names[0] };
                // The constant as seen per sample: a leading batch dimension of 1 goes.
                let mut cs = c.c.shape.clone();
                if cs.len() == a.oshape.len() + 1 {
                    if cs[0] != 1 {
                        return Err(format!(
                            "constant \"{}\" of shape {cs:?} has a batch dimension of {}; webgan constants are shared by the batch",
                            c.name, cs[0]
                        ));
                    }
                    cs.remove(0);
                } else if cs.len() > a.oshape.len() + 1 {
                    return Err(format!(
                        "constant \"{}\" of shape {cs:?} has a higher rank than {:?}",
                        c.name,
                        full(&a.oshape)
                    ));
                }
                let grown = fold::broadcast(&a.oshape, &cs)?;
                if grown != a.oshape {
                    return Err(format!(
                        "constant \"{}\" of shape {:?} broadcasts {:?} to a larger shape; webgan needs the activation to keep its shape",
                        c.name,
                        c.c.shape,
                        full(&a.oshape)
                    ));
                }
                // A bias add right after a linear or conv without one folds into it.
                if op == "Add" {
                    if let Some(i) = a.fresh.filter(|_| self.uses(act_name) == 1) {
                        if let Ok(v) = channel_vector(&c.c, &a.oshape) {
                            if let Some(value) = self.fold_bias(i, a, c, v)? {
                                return Ok(value);
                            }
                        }
                    }
                }
                let n = count(&c.c.shape);
                let (ta, wshape, cshape) = if n == 1 {
                    (a.tensor.clone(), a.wshape.clone(), vec![1])
                } else if n == count(&a.oshape) {
                    (a.tensor.clone(), a.wshape.clone(), a.wshape.clone())
                } else {
                    let (t, ws) = self.canonical(a)?;
                    let mut padded = vec![1; ws.len() - cs.len()];
                    padded.extend_from_slice(&cs);
                    (t, ws, padded)
                };
                let w = self.const_weight(c, base, "constant", cshape.clone())?;
                let cnode = self.constant_node(&w, cshape);
                let inputs = if const_first { vec![cnode, ta] } else { vec![ta, cnode] };
                let out = self.emit(base, wop, inputs);
                let reshape_name = a.reshape_name.clone().filter(|_| wshape != a.oshape);
                Ok(Value::Act(Act {
                    tensor: out,
                    wshape,
                    oshape: a.oshape.clone(),
                    class: false,
                    fresh: None,
                    reshape_name,
                }))
            }
            _ => Err("has a missing input".into()),
        }
    }
}

/// The values of a constant that holds one value per channel of an activation of per-sample
/// shape `oshape` (e.g. `[C]`, `[C, 1, 1]`, `[1, C, 1, 1]` for `[C, H, W]`).
pub(super) fn channel_vector(c: &Const, oshape: &[usize]) -> Msg<Rc<[f32]>> {
    let rank = oshape.len() + 1;
    let shape = &c.shape;
    if shape.len() > rank || shape.is_empty() {
        return Err(format!("shape {shape:?} is not one value per channel"));
    }
    let offset = rank - shape.len();
    for (i, &d) in shape.iter().enumerate() {
        let axis = offset + i;
        let fine = d == 1 || (axis == 1 && d == oshape[0]);
        if !fine {
            return Err(format!("shape {shape:?} is not one value per channel"));
        }
    }
    if offset > 1 {
        return Err(format!("shape {shape:?} is not one value per channel"));
    }
    c.to_f32()
}
