// concat_one_hot: appends a one-hot class vector to each flat latent (conditional generators).
//   output[n, f] = input[n, f] for f < F; 1 where f − F = label[n]; 0 otherwise (and in padding)
//
// Bindings (group 0): 0 uniform Params, 1 input f32[N·Fp_in], 2 labels u32[N], 3 output f32[N·Fp_out].
// Dispatch: (ceil(N·Fp_out / 64), 1, 1) — split over y when it exceeds the per-dimension limit.

struct Params { count: u32, features: u32, classes: u32, in_fp: u32, out_fp: u32, groups_x: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.count) {
        return;
    }
    let n = i / p.out_fp;
    let f = i % p.out_fp;
    var v = 0.0;
    if (f < p.features) {
        v = input[n * p.in_fp + f];
    } else if (f - p.features == labels[n]) {
        v = 1.0;
    }
    output[i] = v;
}
