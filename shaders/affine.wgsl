// affine: y = act(x · scale[c] + shift[c]) per channel, for a batch norm or activation that has
// no linear/convolution before it to fold into.
//
// Bindings (group 0): 0 uniform Params, 1 input vec4[count4], 2 scale vec4[c4],
//   3 shift vec4[c4], 4 output vec4[count4]. Layout: padded NHWC (channel vec4 = index % c4).
// Dispatch: (ceil(count4 / 64), 1, 1) — split over y when it exceeds the per-dimension limit.

struct Params { count4: u32, c4: u32, act: u32, slope: f32, groups_x: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> scale: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> shift: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> output: array<vec4<f32>>;

fn activate(v: vec4<f32>) -> vec4<f32> {
    switch p.act {
        case 1u: { return max(v, vec4<f32>(0.0)); }
        case 2u: { return select(v * p.slope, v, v >= vec4<f32>(0.0)); }
        case 3u: { return tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0))); }
        case 4u: { return 1.0 / (1.0 + exp(-clamp(v, vec4<f32>(-80.0), vec4<f32>(80.0)))); }
        default: { return v; }
    }
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.count4) {
        return;
    }
    let c = i % p.c4;
    output[i] = activate(input[i] * scale[c] + shift[c]);
}
