// norm: instance_norm, group_norm and layer_norm on padded NHWC activations, one workgroup of
// 64 threads per normalized block, two-pass (mean, then mean squared deviation: biased
// variance) and then the normalized, scaled write, all in one dispatch.
//
// A block is `cb` consecutive channels × `hb` consecutive rows × all W columns of one sample:
//   instance_norm: cb = 1, hb = H;  group_norm: cb = C / groups, hb = H;
//   layer_norm: axis 0: cb = C, hb = H; axis 1: cb = 1, hb = H; axis 2: cb = 1, hb = 1.
// A flat value is C = F, H = W = 1. Block b is sample b / per_sample, channel block
// (b % per_sample) / h_blocks, row block (b % per_sample) % h_blocks.
// The affine is indexed by channel (affine 0: instance/group norm) or by the position inside
// the block in C, H, W order (affine 1: layer_norm's [features] weight). Each thread keeps
// partial sums of at most 128 values before adding them to its total, so long blocks lose no
// more than a few ulps. The block holding the last channels also zeroes the padding lanes.
//
// Bindings (group 0): 0 uniform Params, 1 input f32[], 2 weight f32[], 3 bias f32[],
//   4 output f32[] (same layout as the input).
// Dispatch: (blocks, 1, 1) workgroups, split over y beyond the per-dimension limit.

struct Params {
    blocks: u32, per_sample: u32, h_blocks: u32, groups_x: u32,
    cb: u32, hb: u32, channels: u32, cp: u32,
    h: u32, w: u32, affine: u32, eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

var<workgroup> partial: array<f32, 64>;

// The sum of every thread's `v`, returned to all threads.
fn workgroup_sum(li: u32, v: f32) -> f32 {
    partial[li] = v;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s >> 1u) {
        if (li < s) {
            partial[li] += partial[li + s];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

// Scalar offset of element j of block (n, c0, y0), enumerated channels fastest over `cw`
// channels (NHWC order, so neighbouring threads read neighbouring addresses).
fn offset(n: u32, c0: u32, y0: u32, j: u32, cw: u32) -> vec2<u32> {
    let c = c0 + j % cw;
    let rest = j / cw;
    let x = rest % p.w;
    let y = y0 + rest / p.w;
    return vec2<u32>(((n * p.h + y) * p.w + x) * p.cp + c, c);
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let b = wid.y * p.groups_x + wid.x;
    if (b >= p.blocks) {
        return;
    }
    let n = b / p.per_sample;
    let r = b % p.per_sample;
    let c0 = (r / p.h_blocks) * p.cb;
    let y0 = (r % p.h_blocks) * p.hb;
    let count = p.cb * p.hb * p.w;

    var total = 0.0;
    var part = 0.0;
    var k = 0u;
    for (var j = li; j < count; j += 64u) {
        part += input[offset(n, c0, y0, j, p.cb).x];
        k += 1u;
        if (k == 128u) { total += part; part = 0.0; k = 0u; }
    }
    let mean = workgroup_sum(li, total + part) / f32(count);

    total = 0.0;
    part = 0.0;
    k = 0u;
    for (var j = li; j < count; j += 64u) {
        let d = input[offset(n, c0, y0, j, p.cb).x] - mean;
        part += d * d;
        k += 1u;
        if (k == 128u) { total += part; part = 0.0; k = 0u; }
    }
    let inv_std = 1.0 / sqrt(workgroup_sum(li, total + part) / f32(count) + p.eps);

    // The last channel block also writes the padding lanes (channels..cp) of its pixels.
    let cw = select(p.cb, p.cb + p.cp - p.channels, c0 + p.cb == p.channels);
    let wide = cw * p.hb * p.w;
    for (var j = li; j < wide; j += 64u) {
        let at = offset(n, c0, y0, j, cw);
        if (at.y >= p.channels) {
            output[at.x] = 0.0;
            continue;
        }
        var index = at.y;
        if (p.affine == 1u) {
            let rest = j / cw;
            index = ((at.y - c0) * p.hb + rest / p.w) * p.w + rest % p.w;
        }
        output[at.x] = (input[at.x] - mean) * inv_std * weight[index] + bias[index];
    }
}
