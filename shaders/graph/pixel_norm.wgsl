// pixel_norm: y = x / sqrt(mean over channels of x² + eps) at every pixel of padded NHWC (the
// features of a flat value: one pixel), one thread per (sample, pixel) reading its channel
// vec4s twice; padding lanes are skipped in the mean and written as 0.
//
// Bindings (group 0): 0 uniform Params, 1 input vec4[pixels·c4], 2 output vec4[pixels·c4].
// Dispatch: (ceil(pixels / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params { pixels: u32, c4: u32, channels: u32, eps: f32, groups_x: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.pixels) {
        return;
    }
    let base = i * p.c4;
    var sum = 0.0;
    for (var c4 = 0u; c4 < p.c4; c4++) {
        let c = c4 * 4u + vec4<u32>(0u, 1u, 2u, 3u);
        let v = select(vec4<f32>(0.0), input[base + c4], c < vec4<u32>(p.channels));
        sum += dot(v, v);
    }
    let inv = 1.0 / sqrt(sum / f32(p.channels) + p.eps);
    for (var c4 = 0u; c4 < p.c4; c4++) {
        let c = c4 * 4u + vec4<u32>(0u, 1u, 2u, 3u);
        output[base + c4] = select(vec4<f32>(0.0), input[base + c4] * inv, c < vec4<u32>(p.channels));
    }
}
