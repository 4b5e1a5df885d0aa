// upsample: nearest-neighbour upsampling by integer factors, padded NHWC.
//   output[n, y, x, c4] = input[n, y / sh, x / sw, c4]
//
// Bindings (group 0): 0 uniform Params, 1 input vec4[N·H·W·C4], 2 output vec4[N·OH·OW·C4].
// Dispatch: (ceil(count4 / 64), 1, 1) — split over y when it exceeds the per-dimension limit.

struct Params { count4: u32, c4: u32, in_h: u32, in_w: u32, out_h: u32, out_w: u32, sh: u32, sw: u32, groups_x: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> output: array<vec4<f32>>;

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
    output[i] = input[((n * p.in_h + y / p.sh) * p.in_w + x / p.sw) * p.c4 + c4];
}
