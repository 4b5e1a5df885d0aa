// resize: bilinear upsampling by integer factors on padded NHWC, a vec4 of channels per
// thread, in PyTorch's order and in f32 (upsample_bilinear2d with scale_factor), as the CPU
// reference (src/cpu/resize.rs):
//   align_corners 0: src = max((o + 0.5)·ratio − 0.5, 0), ratio = 1/s (from the CPU);
//   align_corners 1: src = o·ratio, ratio = (in − 1)/(out − 1) (0 for one output row);
//   i0 = min(⌊src⌋, in − 1), i1 = min(i0 + 1, in − 1), λ = clamp(src − i0, 0, 1).
// Scale 1 gives ratio 1, λ = 0: a copy.
//
// Bindings (group 0): 0 uniform Params, 1 input vec4[N·H·W·C4], 2 output vec4[count4].
// Dispatch: (ceil(count4 / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params {
    count4: u32, c4: u32, in_h: u32, in_w: u32,
    out_h: u32, out_w: u32, align: u32, groups_x: u32,
    ratio_h: f32, ratio_w: f32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> output: array<vec4<f32>>;

struct Tap { i0: u32, i1: u32, l0: f32, l1: f32 }

fn tap(o: u32, len: u32, ratio: f32) -> Tap {
    var src: f32;
    if (p.align == 1u) {
        src = ratio * f32(o);
    } else {
        src = max(ratio * (f32(o) + 0.5) - 0.5, 0.0);
    }
    let last = len - 1u;
    let i0 = min(u32(floor(src)), last);
    let l1 = clamp(src - f32(i0), 0.0, 1.0);
    return Tap(i0, min(i0 + 1u, last), 1.0 - l1, l1);
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.count4) {
        return;
    }
    let c4 = i % p.c4;
    let pix = i / p.c4;
    let x = pix % p.out_w;
    let y = (pix / p.out_w) % p.out_h;
    let n = pix / (p.out_w * p.out_h);
    let r = tap(y, p.in_h, p.ratio_h);
    let k = tap(x, p.in_w, p.ratio_w);
    let top = (n * p.in_h + r.i0) * p.in_w;
    let bottom = (n * p.in_h + r.i1) * p.in_w;
    let upper = input[(top + k.i0) * p.c4 + c4] * k.l0 + input[(top + k.i1) * p.c4 + c4] * k.l1;
    let lower = input[(bottom + k.i0) * p.c4 + c4] * k.l0 + input[(bottom + k.i1) * p.c4 + c4] * k.l1;
    output[i] = upper * r.l0 + lower * r.l1;
}
