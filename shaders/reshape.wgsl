// reshape: re-lays a tensor between a flat vector and an image (or image to image) in
// channels-first or channels-last element order. Works on scalars because padding makes
// source and destination vec4s straddle each other.
//
// For each output element: its logical flat index f (by `order`) names the input element with
// the same f. Padded output channels get 0. A flat shape is C = F, H = W = 1.
// Bindings (group 0): 0 uniform Params, 1 input f32[], 2 output f32[N·OH·OW·OCp].
// Dispatch: (ceil(count / 64), 1, 1) — split over y when it exceeds the per-dimension limit.

struct Params {
    count: u32, order: u32, groups_x: u32, _p0: u32,  // order 0: channels first, 1: channels last
    in_c: u32, in_h: u32, in_w: u32, in_cp: u32,
    out_c: u32, out_h: u32, out_w: u32, out_cp: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.count) {
        return;
    }
    let c = i % p.out_cp;
    let pix = i / p.out_cp;
    let x = pix % p.out_w;
    let y = (pix / p.out_w) % p.out_h;
    let n = pix / (p.out_w * p.out_h);
    if (c >= p.out_c) {
        output[i] = 0.0;
        return;
    }
    var f: u32;
    if (p.order == 0u) {
        f = (c * p.out_h + y) * p.out_w + x;
    } else {
        f = (y * p.out_w + x) * p.out_c + c;
    }
    var ic: u32;
    var iy: u32;
    var ix: u32;
    if (p.order == 0u) {
        ic = f / (p.in_h * p.in_w);
        iy = (f / p.in_w) % p.in_h;
        ix = f % p.in_w;
    } else {
        ic = f % p.in_c;
        iy = f / (p.in_c * p.in_w);
        ix = (f / p.in_c) % p.in_w;
    }
    output[i] = input[((n * p.in_h + iy) * p.in_w + ix) * p.in_cp + ic];
}
