//! Shape ops on activations (Shape, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Expand): they
//! change only the ONNX shape, keep the batch as dimension 0 and emit no node.

use super::*;

impl Lower {
    /// The value of a shape op on an activation.
    pub(super) fn shape_op(&mut self, node: &NodeProto, ins: &[Option<Value>], base: &str) -> Msg<Value> {
        match node.op_type() {
            "Shape" => {
                let Some(Some(Value::Act(a))) = ins.first() else { return Err("input 0 is missing".into()) };
                let c = fold::shape_of(&a.oshape, true, node)?;
                let name = node.output.first().cloned().unwrap_or_default();
                Ok(Value::Const(Constant { c: Rc::new(c), name, initializer: false }))
            }
            "Reshape" => {
                let a = act(ins, 0)?;
                let target = konst(ins, 1, "shape")?.c.ints()?;
                let shape = self.reshape_target(a, &target, attr::int(node, "allowzero", 0) != 0)?;
                self.alias(ins, Some(shape), base)
            }
            "Flatten" => {
                let a = act(ins, 0)?;
                let axis = attr::axis(attr::int(node, "axis", 1), a.oshape.len() + 2)?;
                if axis == 0 {
                    return Err(
                        "flattens the batch dimension into the features; webgan needs the batch kept (axis 1)".into()
                    );
                }
                let shape = if axis == 1 {
                    vec![count(&a.oshape)]
                } else {
                    vec![count(&a.oshape[..axis - 1]), count(&a.oshape[axis - 1..])]
                };
                self.alias(ins, Some(shape), base)
            }
            "Squeeze" => {
                let a = act(ins, 0)?;
                let axes = fold::axes_of(node, &konsts(ins), 1)?;
                let shape = match axes {
                    None => a.oshape.iter().copied().filter(|&d| d != 1).collect(),
                    Some(axes) => {
                        let norm: Vec<usize> =
                            axes.iter().map(|&x| attr::axis(x, a.oshape.len() + 1)).collect::<Msg<_>>()?;
                        if norm.contains(&0) {
                            return Err("squeezes the batch dimension; webgan keeps the batch as dimension 0".into());
                        }
                        let per: Vec<i64> = norm.iter().map(|&x| x as i64 - 1).collect();
                        fold::squeeze_shape(&a.oshape, Some(&per))?
                    }
                };
                self.alias(ins, Some(shape), base)
            }
            "Unsqueeze" => {
                let a = act(ins, 0)?;
                let axes = fold::axes_of(node, &konsts(ins), 1)?.ok_or("has no axes")?;
                let rank = a.oshape.len() + 1 + axes.len();
                let norm: Vec<usize> = axes.iter().map(|&x| attr::axis(x, rank)).collect::<Msg<_>>()?;
                if norm.contains(&0) {
                    return Err("inserts a dimension before the batch; webgan keeps the batch as dimension 0".into());
                }
                let per: Vec<i64> = norm.iter().map(|&x| x as i64 - 1).collect();
                let shape = fold::unsqueeze_shape(&a.oshape, &per)?;
                self.alias(ins, Some(shape), base)
            }
            "Transpose" => {
                let a = act(ins, 0)?;
                let rank = a.oshape.len() + 1;
                let perm = attr::ints(node, "perm").unwrap_or_else(|| (0..rank as i64).rev().collect());
                let perm: Vec<usize> = perm.iter().map(|&p| attr::axis(p, rank)).collect::<Msg<_>>()?;
                let mut sorted = perm.clone();
                sorted.sort_unstable();
                if sorted != (0..rank).collect::<Vec<_>>() || perm[0] != 0 {
                    return Err(format!(
                        "perm {perm:?} moves the batch dimension; webgan supports only layout-preserving transposes"
                    ));
                }
                let full_shape: Vec<usize> = std::iter::once(1).chain(a.oshape.iter().copied()).collect();
                let moved: Vec<usize> = perm.iter().copied().filter(|&p| p != 0 && full_shape[p] != 1).collect();
                if moved.windows(2).any(|w| w[0] > w[1]) {
                    return Err(format!(
                        "perm {perm:?} reorders the layout of {:?}; webgan supports only transposes that move size-1 dimensions",
                        full(&a.oshape)
                    ));
                }
                let shape = perm[1..].iter().map(|&p| a.oshape[p - 1]).collect();
                self.alias(ins, Some(shape), base)
            }
            "Expand" => {
                let a = act(ins, 0)?;
                let target = konst(ins, 1, "shape")?.c.ints()?;
                let target: Vec<usize> = target
                    .iter()
                    .enumerate()
                    .map(|(i, &t)| {
                        if t == BATCH || (i == 0 && target.len() == a.oshape.len() + 1) { 1 } else { t.max(0) as usize }
                    })
                    .collect();
                let per_target =
                    if target.len() > a.oshape.len() { &target[target.len() - a.oshape.len()..] } else { &target[..] };
                let grown = fold::broadcast(&a.oshape, per_target)?;
                if grown != a.oshape || target.len() > a.oshape.len() + 1 {
                    return Err("expands an activation; webgan supports Expand only where it changes nothing".into());
                }
                self.alias(ins, None, base)
            }
            op => Err(format!("internal: {op} is not a shape op")),
        }
    }

    /// A new value for the same tensor, with ONNX shape `shape` (or unchanged).
    pub(super) fn alias(&mut self, ins: &[Option<Value>], shape: Option<Vec<usize>>, base: &str) -> Msg<Value> {
        let Some(Some(Value::Act(a))) = ins.first() else { return Err("input 0 is missing".into()) };
        let mut out = a.clone();
        out.fresh = None;
        if let Some(shape) = shape {
            if count(&shape) != count(&a.oshape) {
                return Err(format!("reshapes {:?} to {:?}", full(&a.oshape), full(&shape)));
            }
            if shape != a.oshape {
                out.reshape_name = Some(base.to_string());
            }
            out.oshape = shape;
        }
        Ok(Value::Act(out))
    }

    /// The per-sample shape a Reshape to `target` gives `a`; the batch must stay dimension 0.
    pub(super) fn reshape_target(&self, a: &Act, target: &[i64], allowzero: bool) -> Msg<Vec<usize>> {
        let full_in: Vec<i64> = std::iter::once(BATCH).chain(a.oshape.iter().map(|&d| d as i64)).collect();
        let first = *target.first().ok_or("reshapes to a scalar")?;
        let first_is_batch = first == BATCH
            || (first == 0 && !allowzero)
            || first == -1
            || self.static_batch.is_some_and(|b| b == first);
        if !first_is_batch {
            return Err(format!(
                "reshapes to {target:?}, which does not keep the batch as dimension 0; use x.view(x.size(0), ...) or x.flatten(1)"
            ));
        }
        let mut per = Vec::new();
        let mut infer = None;
        for (i, &t) in target.iter().enumerate().skip(1) {
            match t {
                0 if !allowzero => {
                    let d = *full_in
                        .get(i)
                        .ok_or_else(|| format!("copies dimension {i}, which {:?} lacks", full(&a.oshape)))?;
                    per.push(d as usize);
                }
                -1 if infer.is_none() && first != -1 => {
                    infer = Some(per.len());
                    per.push(1);
                }
                BATCH => return Err(batch_used()),
                t if t >= 0 => per.push(t as usize),
                _ => return Err(format!("has an invalid reshape target {target:?}")),
            }
        }
        let n = count(&a.oshape);
        let known = crate::limits::product("the reshape target", &per)?;
        if let Some(i) = infer {
            if known == 0 || !n.is_multiple_of(known) {
                return Err(format!("cannot reshape {:?} to {target:?}", full(&a.oshape)));
            }
            per[i] = n / known;
        } else if known != n {
            return Err(format!("cannot reshape {:?} ({n} values per sample) to {target:?}", full(&a.oshape)));
        }
        Ok(per)
    }
}
