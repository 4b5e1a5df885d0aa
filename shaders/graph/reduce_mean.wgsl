// reduce_mean: the mean over some per-sample dims, padded NHWC in and out.
//
// The input is seen as logical dims (d0, d1, d2) = (C, H, W) (a flat value: (F, 1, 1)) with
// scalar strides (s0, s1, s2) and `sample` per sample; the reduced dims have extents
// (r0, r1, r2) (1 where kept), `count` = r0·r1·r2 values per output. Each output scalar
// (n, oc, oy, ox) of the output's own padded layout names its input origin through `sel`:
// logical index d is (oc, oy, ox, 0)[sel[d]] (3 selects 0), which covers keepdims (sel =
// 0, 1, 2) and a flat output holding the one kept dim. Padding lanes get 0.
//
// Entry points: `main`, one thread per output scalar (short reductions); `wide`, one
// workgroup of 64 per output scalar (long ones), both summing at most 128 values per partial.
// Bindings (group 0): 0 uniform Params, 1 input f32[], 2 output f32[outputs].
// Dispatch: main (ceil(outputs / 64), 1, 1); wide (outputs, 1, 1); split over y beyond the
// per-dimension limit.

struct Params {
    outputs: u32, out_c: u32, out_cp: u32, out_h: u32,
    out_w: u32, count: u32, groups_x: u32, sample: u32,
    r0: u32, r1: u32, s0: u32, s1: u32,
    s2: u32, _p0: u32, _p1: u32, _p2: u32,
    sel: vec4<u32>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

var<workgroup> partial: array<f32, 64>;

// (base offset of output o's first input value, 1 if o is a real channel).
fn origin(o: u32) -> vec2<u32> {
    let oc = o % p.out_cp;
    let pix = o / p.out_cp;
    let ox = pix % p.out_w;
    let oy = (pix / p.out_w) % p.out_h;
    let n = pix / (p.out_w * p.out_h);
    let coords = vec4<u32>(oc, oy, ox, 0u);
    let base = n * p.sample + coords[p.sel.x] * p.s0 + coords[p.sel.y] * p.s1 + coords[p.sel.z] * p.s2;
    return vec2<u32>(base, select(0u, 1u, oc < p.out_c));
}

fn at(base: u32, j: u32) -> f32 {
    let j0 = j % p.r0;
    let j1 = (j / p.r0) % p.r1;
    let j2 = j / (p.r0 * p.r1);
    return input[base + j0 * p.s0 + j1 * p.s1 + j2 * p.s2];
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let o = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (o >= p.outputs) {
        return;
    }
    let org = origin(o);
    if (org.y == 0u) {
        output[o] = 0.0;
        return;
    }
    var total = 0.0;
    var part = 0.0;
    var k = 0u;
    for (var j = 0u; j < p.count; j++) {
        part += at(org.x, j);
        k += 1u;
        if (k == 128u) { total += part; part = 0.0; k = 0u; }
    }
    output[o] = (total + part) / f32(p.count);
}

@compute @workgroup_size(64, 1, 1)
fn wide(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let o = wid.y * p.groups_x + wid.x;
    if (o >= p.outputs) {
        return;
    }
    let org = origin(o);
    var total = 0.0;
    var part = 0.0;
    var k = 0u;
    for (var j = li; j < p.count * org.y; j += 64u) {
        part += at(org.x, j);
        k += 1u;
        if (k == 128u) { total += part; part = 0.0; k = 0u; }
    }
    partial[li] = total + part;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s >> 1u) {
        if (li < s) {
            partial[li] += partial[li + s];
        }
        workgroupBarrier();
    }
    if (li == 0u) {
        output[o] = partial[0] / f32(p.count);
    }
}
