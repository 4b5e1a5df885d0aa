// prelu: y = x ≥ 0 ? x : slope[c]·x per channel (features of a flat value), on padded NHWC,
// a vec4 of channels per thread; padding lanes 0. A shared slope is expanded to every channel
// on the CPU.
//
// Bindings (group 0): 0 uniform Params, 1 input vec4[count4], 2 slope vec4[c4],
//   3 output vec4[count4].
// Dispatch: (ceil(count4 / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params { count4: u32, c4: u32, channels: u32, groups_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> slope: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> output: array<vec4<f32>>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.count4) {
        return;
    }
    let c4 = i % p.c4;
    let v = input[i];
    let y = select(v * slope[c4], v, v >= vec4<f32>(0.0));
    let c = c4 * 4u + vec4<u32>(0u, 1u, 2u, 3u);
    output[i] = select(vec4<f32>(0.0), y, c < vec4<u32>(p.channels));
}
