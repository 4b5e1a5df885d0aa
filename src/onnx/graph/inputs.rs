//! Graph inputs → webgan input roles: a latent `[N, Z]` (or `[N, Z, 1, 1]`), integer class ids
//! `[N]` or an image `[N, C, H, W]`, at most one of each, with a static or dynamic batch.

use super::*;

impl Lower {
    pub(super) fn graph_input(&mut self, input: &ValueInfoProto) -> Result<()> {
        let name = input.name();
        let bad = |m: String| Error::Input(format!("graph input \"{}\": {m}", name.escape_debug()));
        let tensor = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(type_proto::Value::TensorType(t)) => t,
            _ => return Err(bad("is not a tensor; webgan inputs are latent vectors, class ids or images".into())),
        };
        let elem = tensor.elem_type();
        let dims = tensor.shape.as_ref().map(|s| s.dim.as_slice()).unwrap_or(&[]);
        if tensor.shape.is_none() || dims.is_empty() {
            return Err(bad("has no static shape; export with example inputs of the real shape".into()));
        }
        use crate::onnx::proto::tensor_shape_proto::dimension::Value as D;
        match dims[0].value {
            Some(D::DimValue(b)) if b > 0 => {
                if self.static_batch.is_some_and(|s| s != b) {
                    return Err(bad(format!("has batch size {b}, another input {}", self.static_batch.unwrap_or(0))));
                }
                self.static_batch = Some(b);
            }
            Some(D::DimParam(_)) | None => {}
            Some(D::DimValue(b)) => return Err(bad(format!("has batch dimension {b}"))),
        }
        let mut per = Vec::new();
        for d in &dims[1..] {
            match d.value {
                Some(D::DimValue(v)) if v > 0 && v <= crate::limits::MAX_DIM as i64 => per.push(v as usize),
                _ => {
                    return Err(bad(format!(
                        "has a dynamic or invalid dimension in {}; export with fixed sizes (only the batch may be dynamic)",
                        show_dims(dims)
                    )));
                }
            }
        }
        let wname = self.fresh_name(&sanitize(name));
        let (role, wshape, class) = if tensor::is_float_type(elem) {
            match per.as_slice() {
                [z] | [z, 1, 1] => {
                    if *z > MAX_LATENT_DIM {
                        return Err(bad(format!("has {z} latent values; webgan allows at most {MAX_LATENT_DIM}")));
                    }
                    (Input::Latent { name: wname.clone(), shape: vec![*z] }, vec![*z], false)
                }
                [c, h, w] => (Input::Image { name: wname.clone(), shape: vec![*c, *h, *w] }, vec![*c, *h, *w], false),
                _ => {
                    return Err(bad(format!(
                        "has shape {}; webgan reads float inputs [N, Z] or [N, Z, 1, 1] (latent) and [N, C, H, W] (image)",
                        show_dims(dims)
                    )));
                }
            }
        } else if tensor::is_int_type(elem) && per.is_empty() {
            (Input::Class { name: wname.clone(), classes: 0 }, vec![1], true)
        } else {
            return Err(bad(format!(
                "is {} of shape {}; webgan reads float latents [N, Z], class ids (integer [N]) and images [N, C, H, W]",
                tensor::dtype_name(elem),
                show_dims(dims)
            )));
        };
        let kind = |i: &Input| std::mem::discriminant(i);
        if self.inputs.iter().any(|i| kind(i) == kind(&role)) {
            return Err(bad(
                "is a second input of the same role (latent, class or image); webgan models have at most one of each"
                    .into(),
            ));
        }
        self.inputs.push(role);
        self.values.insert(
            name.to_string(),
            Value::Act(Act { tensor: wname, wshape, oshape: per, class, fresh: None, reshape_name: None }),
        );
        Ok(())
    }
}

fn show_dims(dims: &[crate::onnx::proto::tensor_shape_proto::Dimension]) -> String {
    use crate::onnx::proto::tensor_shape_proto::dimension::Value as D;
    let parts: Vec<String> = dims
        .iter()
        .map(|d| match &d.value {
            Some(D::DimValue(v)) => v.to_string(),
            Some(D::DimParam(p)) => p.clone(),
            None => "?".into(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}
