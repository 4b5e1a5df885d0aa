// concat: copies one part of a concatenation into its place in the output (one dispatch per
// part), padded NHWC, one scalar per thread (on the channel axis a part's channels start at
// any offset, so vec4s of part and output straddle each other).
//
// Thread i is part element (n, y, x, c) with c fastest over `c_range` channels; c < c_real
// copies input[n, y, x, c] to output[n, y + off_y, x + off_x, c + off_c], larger c (the last
// part on the channel axis: the output's padding lanes) writes 0. On the H or W axis c_range
// is the padded channel count, so padding lanes are copied along.
//
// Bindings (group 0): 0 uniform Params, 1 input f32[], 2 output f32[].
// Dispatch: (ceil(count / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params {
    count: u32, c_real: u32, c_range: u32, in_cp: u32,
    h: u32, w: u32, out_cp: u32, out_h: u32,
    out_w: u32, off_c: u32, off_y: u32, off_x: u32,
    groups_x: u32, _p0: u32, _p1: u32, _p2: u32,
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
    let c = i % p.c_range;
    let pix = i / p.c_range;
    let x = pix % p.w;
    let y = (pix / p.w) % p.h;
    let n = pix / (p.w * p.h);
    var v = 0.0;
    if (c < p.c_real) {
        v = input[((n * p.h + y) * p.w + x) * p.in_cp + c];
    }
    output[((n * p.out_h + y + p.off_y) * p.out_w + x + p.off_x) * p.out_cp + c + p.off_c] = v;
}
