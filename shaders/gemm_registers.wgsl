// gemm_registers: the same implicit matrix multiply as gemm_tiled (read its header for the
// maths, bindings and layouts), tuned for CPU emulators of WebGPU (SwiftShader, lavapipe).
// Those emulators turn each load with a runtime index into a per-lane loop and gain nothing
// from shared memory, so each thread keeps an 8-row × 16-column block in registers, loads each
// A and B value once per K step, and loops over taps outside channels so the address of a tap
// is computed once. Out-of-image taps read a clamped address multiplied by a zero mask.
//
// Dispatch: (x, y, phases) workgroups of 64 threads; thread t = (y·groups_x + x)·64 + local
// covers column block t % col_blocks and row block t / col_blocks (neighbouring threads take
// neighbouring columns and share their A rows).

struct Params {
    rows: u32, grid_h: u32, grid_w: u32, n4: u32,
    in_h: u32, in_w: u32, in_c4: u32, out_h: u32,
    out_w: u32, out_step_y: u32, out_step_x: u32, in_step_y: u32,
    in_step_x: u32, tap_step_y: i32, tap_step_x: i32, act: u32,
    slope: f32, col_blocks: u32, groups_x: u32, _pad2: u32,
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

const R: u32 = 8u;   // rows per thread
const C4: u32 = 4u;  // vec4 columns per thread

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
    let ph = phases[wid.z];
    let t = (wid.y * p.groups_x + wid.x) * 64u + li;
    let cb = t % p.col_blocks;
    let rb = t / p.col_blocks;
    let m0 = rb * R;
    if (m0 >= p.rows) {
        return;
    }
    let j0 = cb * C4;
    // Clamp columns past N4 to the last one: computed, never stored.
    let last = p.n4 - 1u;

    var n: array<u32, 8>;
    var qy: array<u32, 8>;
    var qx: array<u32, 8>;
    var ok: array<bool, 8>;
    let per = p.grid_h * p.grid_w;
    for (var r = 0u; r < R; r++) {
        let m = m0 + r;
        let rr = m % per;
        n[r] = m / per;
        qy[r] = rr / p.grid_w;
        qx[r] = rr % p.grid_w;
        ok[r] = m < p.rows && qy[r] < ph.grid_h && qx[r] < ph.grid_w;
    }

    var acc: array<vec4<f32>, 32>; // [R][C4]
    var krow = ph.w_offset;        // vec4 index of this K row's first column
    for (var ty = 0u; ty < ph.taps_y; ty++) {
        for (var tx = 0u; tx < ph.taps_x; tx++) {
            var base: array<u32, 8>;
            var mask: array<f32, 8>;
            for (var r = 0u; r < R; r++) {
                let iy = i32(qy[r] * p.in_step_y) + ph.off_y + i32(ty) * p.tap_step_y;
                let ix = i32(qx[r] * p.in_step_x) + ph.off_x + i32(tx) * p.tap_step_x;
                let inside = ok[r] && iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
                let cy = u32(clamp(iy, 0, i32(p.in_h) - 1));
                let cx = u32(clamp(ix, 0, i32(p.in_w) - 1));
                let cn = min(n[r], p.rows / per - 1u);
                base[r] = ((cn * p.in_h + cy) * p.in_w + cx) * p.in_c4;
                mask[r] = select(0.0, 1.0, inside);
            }
            for (var c4 = 0u; c4 < p.in_c4; c4++) {
                var b: array<vec4<f32>, 16>; // [4 K rows][C4]
                for (var kk = 0u; kk < 4u; kk++) {
                    for (var c = 0u; c < C4; c++) {
                        b[kk * C4 + c] = weight[krow + kk * p.n4 + min(j0 + c, last)];
                    }
                }
                krow += 4u * p.n4;
                for (var r = 0u; r < R; r++) {
                    let a = input[base[r] + c4] * mask[r];
                    for (var c = 0u; c < C4; c++) {
                        acc[r * C4 + c] += a.x * b[c] + a.y * b[C4 + c] + a.z * b[2u * C4 + c]
                            + a.w * b[3u * C4 + c];
                    }
                }
            }
        }
    }

    for (var c = 0u; c < C4; c++) {
        let j = j0 + c;
        if (j < p.n4) {
            let bj = bias[j];
            for (var r = 0u; r < R; r++) {
                if (ok[r]) {
                    let oy = qy[r] * p.out_step_y + ph.out_y0;
                    let ox = qx[r] * p.out_step_x + ph.out_x0;
                    output[((n[r] * p.out_h + oy) * p.out_w + ox) * p.n4 + j] = activate(acc[r * C4 + c] + bj);
                }
            }
        }
    }
}
