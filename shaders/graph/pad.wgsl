// pad: spatial padding of padded NHWC images with zeros, reflection (mirror without repeating
// the edge: PyTorch ReflectionPad2d, ONNX reflect) or edge replication, a vec4 of channels per
// thread. pads < the input size for reflect (the loader checks).
//
// Modes: 0 zero, 1 reflect, 2 replicate.
// Bindings (group 0): 0 uniform Params, 1 input vec4[N·H·W·C4], 2 output vec4[count4].
// Dispatch: (ceil(count4 / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params {
    count4: u32, c4: u32, in_h: u32, in_w: u32,
    out_h: u32, out_w: u32, top: u32, left: u32,
    mode: u32, groups_x: u32, _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> output: array<vec4<f32>>;

// Source index of position i (which may lie outside 0..len) along an axis, or −1 for a zero.
fn source(i: i32, len: u32) -> i32 {
    let last = i32(len) - 1;
    if (i >= 0 && i <= last) {
        return i;
    }
    if (p.mode == 0u) {
        return -1;
    }
    if (p.mode == 2u || last == 0) {
        return clamp(i, 0, last);
    }
    let period = 2 * last;
    let m = ((i % period) + period) % period;
    return select(2 * last - m, m, m <= last);
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
    let sy = source(i32(y) - i32(p.top), p.in_h);
    let sx = source(i32(x) - i32(p.left), p.in_w);
    var v = vec4<f32>(0.0);
    if (sy >= 0 && sx >= 0) {
        v = input[((n * p.in_h + u32(sy)) * p.in_w + u32(sx)) * p.c4 + c4];
    }
    output[i] = v;
}
