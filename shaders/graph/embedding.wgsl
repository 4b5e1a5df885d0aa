// embedding: one learned row per class id: output[n, f] = weight[label[n]·dim + f] for f < dim,
// 0 in the padding of the flat output. Ids are checked against the row count before a run.
//
// Bindings (group 0): 0 uniform Params, 1 labels u32[N], 2 weight f32[classes·dim],
//   3 output f32[N·dp].
// Dispatch: (ceil(count / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params { count: u32, dim: u32, dp: u32, groups_x: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.count) {
        return;
    }
    let n = i / p.dp;
    let f = i % p.dp;
    var v = 0.0;
    if (f < p.dim) {
        v = weight[labels[n] * p.dim + f];
    }
    output[i] = v;
}
