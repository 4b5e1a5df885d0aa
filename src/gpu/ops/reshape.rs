//! Reshape between flat vectors and images in either element order (a gather on scalars).

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::layout::{chw, pad4, padded_len};
use crate::gpu::ops::{Pass, groups_1d};
use crate::gpu::{Gpu, buffers};
use crate::model::{Order, Shape};

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Params {
    count: u32,
    order: u32,
    groups_x: u32,
    _pad: u32,
    in_c: u32,
    in_h: u32,
    in_w: u32,
    in_cp: u32,
    out_c: u32,
    out_h: u32,
    out_w: u32,
    out_cp: u32,
}

/// True when the reshape moves no element in the padded layout, so no pass is needed: between
/// a flat vector and a 1×1 image the channel index is the flat index in either order, and a
/// channels-last reshape between a flat vector and an image whose channels need no padding
/// (Keras' Dense → Reshape, Flatten → Dense) is the NHWC layout itself.
pub fn is_identity(from: Shape, to: Shape, order: Order) -> bool {
    let ((fc, fh, fw), (tc, th, tw)) = (chw(from), chw(to));
    let flat_image = matches!((from, to), (Shape::Flat(_), Shape::Image { .. }) | (Shape::Image { .. }, Shape::Flat(_)));
    (fh == 1 && fw == 1 && th == 1 && tw == 1)
        || (order == Order::ChannelsLast && flat_image && fc % 4 == 0 && tc % 4 == 0)
}

/// `[batch, from]` → `[batch, to]` with elements ordered by `order`.
#[allow(clippy::too_many_arguments)]
pub fn pass(
    gpu: &Gpu,
    label: &str,
    from: Shape,
    to: Shape,
    order: Order,
    batch: usize,
    input: &wgpu::Buffer,
    output: &wgpu::Buffer,
) -> Result<Pass> {
    let ((ic, ih, iw), (oc, oh, ow)) = (chw(from), chw(to));
    let count = batch * padded_len(to);
    let (groups, groups_x) = groups_1d(gpu, count, 64);
    let params = Params {
        count: count as u32,
        order: match order {
            Order::ChannelsFirst => 0,
            Order::ChannelsLast => 1,
        },
        groups_x,
        _pad: 0,
        in_c: ic as u32,
        in_h: ih as u32,
        in_w: iw as u32,
        in_cp: pad4(ic) as u32,
        out_c: oc as u32,
        out_h: oh as u32,
        out_w: ow as u32,
        out_cp: pad4(oc) as u32,
    };
    let uniform = buffers::uniform(gpu, &format!("{label} params"), &params);
    Pass::new(gpu, label.to_string(), "reshape", &[&uniform, input, output], groups)
}
