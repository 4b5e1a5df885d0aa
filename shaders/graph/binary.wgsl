// binary: add, sub, mul, div with NumPy broadcasting of the per-sample shapes, on padded NHWC,
// a vec4 of output channels per thread.
//
// Each operand is read at output (n, y, x, channel vec4) from scalar offset
//   base = n·sample + y·sy + x·sx   (strides 0 on broadcast dims; sample 0 for a constant)
// and is either channel-contiguous (its channels are the output's: load vec4 base/4 + c4) or
// broadcast along channels (`splat`: one scalar, at base, for all four lanes). Under NumPy's
// right alignment every case is one of the two: a flat operand of an image output lines up
// with W, so it splats with sx = 1. A flat output is C = F, H = W = 1. Padding lanes get 0.
//
// Ops: 0 add, 1 sub, 2 mul, 3 div.
// Bindings (group 0): 0 uniform Params, 1 a vec4[], 2 b vec4[], 3 output vec4[count4].
// Dispatch: (ceil(count4 / 64), 1, 1), split over y beyond the per-dimension limit.

struct Operand { sample: u32, sy: u32, sx: u32, splat: u32 }

struct Params {
    count4: u32, c4: u32, channels: u32, op: u32,
    out_h: u32, out_w: u32, groups_x: u32, _p0: u32,
    a: Operand,
    b: Operand,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> output: array<vec4<f32>>;

fn load_a(o: Operand, n: u32, y: u32, x: u32, c4: u32) -> vec4<f32> {
    let base = n * o.sample + y * o.sy + x * o.sx;
    if (o.splat == 1u) {
        return vec4<f32>(a[base / 4u][base % 4u]);
    }
    return a[base / 4u + c4];
}

fn load_b(o: Operand, n: u32, y: u32, x: u32, c4: u32) -> vec4<f32> {
    let base = n * o.sample + y * o.sy + x * o.sx;
    if (o.splat == 1u) {
        return vec4<f32>(b[base / 4u][base % 4u]);
    }
    return b[base / 4u + c4];
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
    let va = load_a(p.a, n, y, x, c4);
    let vb = load_b(p.b, n, y, x, c4);
    var v: vec4<f32>;
    switch p.op {
        case 0u: { v = va + vb; }
        case 1u: { v = va - vb; }
        case 2u: { v = va * vb; }
        default: { v = va / vb; }
    }
    let c = c4 * 4u + vec4<u32>(0u, 1u, 2u, 3u);
    output[i] = select(vec4<f32>(0.0), v, c < vec4<u32>(p.channels));
}
