// avg_pool2d: 2-D average pooling (floor mode) on padded NHWC, a vec4 of channels per thread.
// The window of output (oy, ox) starts at (oy·sh − top, ox·sw − left); padded positions count
// as zeros, and the divisor is kh·kw with count_include_pad, else the window's positions
// inside the image. Padding lanes get 0.
//
// Bindings (group 0): 0 uniform Params, 1 input vec4[N·H·W·C4], 2 output vec4[count4].
// Dispatch: (ceil(count4 / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params {
    count4: u32, c4: u32, channels: u32, include_pad: u32,
    in_h: u32, in_w: u32, out_h: u32, out_w: u32,
    kh: u32, kw: u32, sh: u32, sw: u32,
    top: u32, left: u32, groups_x: u32, _p0: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> output: array<vec4<f32>>;

// The in-image part [start, end) of a window along one axis.
fn span(o: u32, s: u32, k: u32, pad: u32, len: u32) -> vec2<u32> {
    let start = i32(o * s) - i32(pad);
    let lo = u32(max(start, 0));
    let hi = min(u32(max(start + i32(k), 0)), len);
    return vec2<u32>(lo, max(hi, lo));
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
    let ys = span(y, p.sh, p.kh, p.top, p.in_h);
    let xs = span(x, p.sw, p.kw, p.left, p.in_w);
    var sum = vec4<f32>(0.0);
    for (var iy = ys.x; iy < ys.y; iy++) {
        for (var ix = xs.x; ix < xs.y; ix++) {
            sum += input[((n * p.in_h + iy) * p.in_w + ix) * p.c4 + c4];
        }
    }
    var count = (ys.y - ys.x) * (xs.y - xs.x);
    if (p.include_pad == 1u) {
        count = p.kh * p.kw;
    }
    let c = c4 * 4u + vec4<u32>(0u, 1u, 2u, 3u);
    let mean = select(sum / f32(max(count, 1u)), vec4<f32>(0.0), count == 0u);
    output[i] = select(vec4<f32>(0.0), mean, c < vec4<u32>(p.channels));
}
