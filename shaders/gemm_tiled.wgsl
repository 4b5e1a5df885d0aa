// gemm_tiled: implicit matrix multiply for linear, conv2d and one stride phase of
// conv_transpose2d, tuned for real GPUs (workgroup-shared tiles). Real-GPU twin of gemm_registers.
//
// C[m, j] = act(Σ_k A[m, k] · B[k, j] + bias[j]), where
//   m = (n, qy, qx) enumerates the phase's output grid (grid_h × grid_w per sample),
//   k = (ty, tx, ci) enumerates kernel taps × input channels (ci fastest, read as vec4),
//   A[m, k] = input[n, iy, ix, ci] with iy = qy·in_step_y + off_y + ty·tap_step_y (0 outside),
//   B = the phase's packed weights, row-major [K, N4] of vec4 (zero rows for padded channels),
//   output pixel oy = qy·out_step_y + out_y0 (same for x).
// Activations are NHWC with channels padded to 4 (see src/gpu/layout.rs).
//
// Bindings (group 0):
//   0 uniform Params, 1 storage Phase[z], 2 input vec4[N·H·W·C4], 3 weight vec4[Σ K·N4],
//   4 bias vec4[N4], 5 output vec4[N·OH·OW·N4]
// Dispatch: (ceil(rows / 64), ceil(N4 / 16), phases). Workgroup 16×16, each thread 4 rows × 1 vec4.

struct Params {
    rows: u32, grid_h: u32, grid_w: u32, n4: u32,
    in_h: u32, in_w: u32, in_c4: u32, out_h: u32,
    out_w: u32, out_step_y: u32, out_step_x: u32, in_step_y: u32,
    in_step_x: u32, tap_step_y: i32, tap_step_x: i32, act: u32,
    slope: f32, _pad0: u32, _pad1: u32, _pad2: u32,
}

struct Phase {
    taps_y: u32, taps_x: u32, off_y: i32, off_x: i32,
    out_y0: u32, out_x0: u32, grid_h: u32, grid_w: u32,
    w_offset: u32, k4: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> phases: array<Phase>;
@group(0) @binding(2) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> output: array<vec4<f32>>;

const BM: u32 = 64u;   // rows per workgroup
const BN4: u32 = 16u;  // vec4 columns per workgroup
const BK4: u32 = 4u;   // vec4 steps of K per tile (16 scalars)

var<workgroup> a_tile: array<vec4<f32>, 256>; // [BM][BK4]
var<workgroup> b_tile: array<vec4<f32>, 256>; // [BK4 * 4][BN4]

fn activate(v: vec4<f32>) -> vec4<f32> {
    switch p.act {
        case 1u: { return max(v, vec4<f32>(0.0)); }
        case 2u: { return select(v * p.slope, v, v >= vec4<f32>(0.0)); }
        case 3u: { return tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0))); }
        case 4u: { return 1.0 / (1.0 + exp(-clamp(v, vec4<f32>(-80.0), vec4<f32>(80.0)))); }
        default: { return v; }
    }
}

// (n, qy, qx, valid) of row m in this phase.
fn row_coords(m: u32, ph: Phase) -> vec4<u32> {
    let per = p.grid_h * p.grid_w;
    let n = m / per;
    let r = m % per;
    let qy = r / p.grid_w;
    let qx = r % p.grid_w;
    let valid = m < p.rows && qy < ph.grid_h && qx < ph.grid_w;
    return vec4<u32>(n, qy, qx, select(0u, 1u, valid));
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let ph = phases[wid.z];
    let tid = lid.y * 16u + lid.x;
    let m0 = wid.x * BM;
    let j0 = wid.y * BN4;

    // The A element this thread stages each K step: row a_row, vec4 a_kk of the tile.
    let a_row = tid / BK4;
    let a_kk = tid % BK4;
    let a = row_coords(m0 + a_row, ph);
    // The B element it stages: scalar K row b_k, vec4 column b_j.
    let b_k = tid / BN4;
    let b_j = tid % BN4;

    var acc: array<vec4<f32>, 4>;
    for (var k0 = 0u; k0 < ph.k4; k0 += BK4) {
        var av = vec4<f32>(0.0);
        let k4 = k0 + a_kk;
        if (a.w == 1u && k4 < ph.k4) {
            let tap = k4 / p.in_c4;
            let c4 = k4 % p.in_c4;
            let ty = tap / ph.taps_x;
            let tx = tap % ph.taps_x;
            let iy = i32(a.y * p.in_step_y) + ph.off_y + i32(ty) * p.tap_step_y;
            let ix = i32(a.z * p.in_step_x) + ph.off_x + i32(tx) * p.tap_step_x;
            if (iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w)) {
                av = input[((a.x * p.in_h + u32(iy)) * p.in_w + u32(ix)) * p.in_c4 + c4];
            }
        }
        a_tile[a_row * BK4 + a_kk] = av;

        var bv = vec4<f32>(0.0);
        let kr = k0 * 4u + b_k;
        if (kr < ph.k4 * 4u && j0 + b_j < p.n4) {
            bv = weight[ph.w_offset + kr * p.n4 + j0 + b_j];
        }
        b_tile[b_k * BN4 + b_j] = bv;
        workgroupBarrier();

        for (var kk = 0u; kk < BK4; kk++) {
            let b0 = b_tile[(kk * 4u + 0u) * BN4 + lid.x];
            let b1 = b_tile[(kk * 4u + 1u) * BN4 + lid.x];
            let b2 = b_tile[(kk * 4u + 2u) * BN4 + lid.x];
            let b3 = b_tile[(kk * 4u + 3u) * BN4 + lid.x];
            for (var i = 0u; i < 4u; i++) {
                let av4 = a_tile[(lid.y * 4u + i) * BK4 + kk];
                acc[i] += av4.x * b0 + av4.y * b1 + av4.z * b2 + av4.w * b3;
            }
        }
        workgroupBarrier();
    }

    let j = j0 + lid.x;
    if (j >= p.n4) {
        return;
    }
    let b = bias[j];
    for (var i = 0u; i < 4u; i++) {
        let c = row_coords(m0 + lid.y * 4u + i, ph);
        if (c.w == 1u) {
            let oy = c.y * p.out_step_y + ph.out_y0;
            let ox = c.z * p.out_step_x + ph.out_x0;
            output[((c.x * p.out_h + oy) * p.out_w + ox) * p.n4 + j] = activate(acc[i] + b);
        }
    }
}
