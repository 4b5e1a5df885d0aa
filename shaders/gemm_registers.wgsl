// gemm_registers: the same implicit matrix multiply as gemm_tiled (read its header for the
// maths, bindings and layouts), tuned for CPU emulators of WebGPU (SwiftShader in Chromium,
// lavapipe natively). They run one invocation per SIMD lane, turn every load with a runtime
// index into a per-lane loop and gain nothing from shared memory, so each thread keeps a
// 4-row × 8-column block in registers, loads each A and B value once per K step, and loops
// over taps outside channels so a tap's address is computed once. Out-of-image taps read a
// clamped address multiplied by a zero mask instead of branching.
//
// Every loop over rows and columns is written out: a private array indexed in a loop becomes
// scratch memory on these compilers, named registers do not. The block size is what
// SwiftShader takes: 4×8 ran at 3.2 GFLOP/s there; 6 or 8 rows per thread compiled for 45 s to
// over 2 minutes (and lost the device in Chromium), while lavapipe alone would prefer 8×16.
//
// Entry points: `main` computes 4 rows × 2 vec4 columns per thread; `main_narrow` 4 rows × 1
// vec4 column, for outputs of 4 channels or fewer (an RGB image).
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

fn activate(v: vec4<f32>) -> vec4<f32> {
    switch p.act {
        case 1u: { return max(v, vec4<f32>(0.0)); }
        case 2u: { return select(v * p.slope, v, v >= vec4<f32>(0.0)); }
        case 3u: { return tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0))); }
        case 4u: { return 1.0 / (1.0 + exp(-clamp(v, vec4<f32>(-80.0), vec4<f32>(80.0)))); }
        default: { return v; }
    }
}

// (n, qy, qx, valid) of row m in phase ph.
fn row_coords(m: u32, ph: Phase) -> vec4<u32> {
    let per = p.grid_h * p.grid_w;
    let rr = m % per;
    let qy = rr / p.grid_w;
    let qx = rr % p.grid_w;
    let valid = m < p.rows && qy < ph.grid_h && qx < ph.grid_w;
    return vec4<u32>(min(m / per, p.rows / per - 1u), qy, qx, select(0u, 1u, valid));
}

// (vec4 index of channel 0, 1 if inside the image) of row rc's input pixel under tap (ty, tx).
// Outside the image the address is clamped to a valid pixel and the mask is 0.
fn tap_input(rc: vec4<u32>, ty: u32, tx: u32, ph: Phase) -> vec2<u32> {
    let iy = i32(rc.y * p.in_step_y) + ph.off_y + i32(ty) * p.tap_step_y;
    let ix = i32(rc.z * p.in_step_x) + ph.off_x + i32(tx) * p.tap_step_x;
    let inside = rc.w == 1u && iy >= 0 && iy < i32(p.in_h) && ix >= 0 && ix < i32(p.in_w);
    let cy = u32(clamp(iy, 0, i32(p.in_h) - 1));
    let cx = u32(clamp(ix, 0, i32(p.in_w) - 1));
    return vec2<u32>(((rc.x * p.in_h + cy) * p.in_w + cx) * p.in_c4, select(0u, 1u, inside));
}

fn store(rc: vec4<u32>, ph: Phase, j: u32, v: vec4<f32>) {
    if (rc.w == 1u && j < p.n4) {
        let oy = rc.y * p.out_step_y + ph.out_y0;
        let ox = rc.z * p.out_step_x + ph.out_x0;
        output[((rc.x * p.out_h + oy) * p.out_w + ox) * p.n4 + j] = activate(v + bias[j]);
    }
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ph = phases[wid.z];
    let t = (wid.y * p.groups_x + wid.x) * 64u + li;
    let cb = t % p.col_blocks;
    let m0 = (t / p.col_blocks) * 4u;
    if (m0 >= p.rows) {
        return;
    }
    let j0 = cb * 2u;
    let col0 = min(j0 + 0u, p.n4 - 1u);
    let col1 = min(j0 + 1u, p.n4 - 1u);
    let row0 = row_coords(m0 + 0u, ph);
    let row1 = row_coords(m0 + 1u, ph);
    let row2 = row_coords(m0 + 2u, ph);
    let row3 = row_coords(m0 + 3u, ph);
    var acc00 = vec4<f32>(0.0);
    var acc01 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc21 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var acc31 = vec4<f32>(0.0);
    var krow = ph.w_offset;
    for (var ty = 0u; ty < ph.taps_y; ty++) {
        for (var tx = 0u; tx < ph.taps_x; tx++) {
            let in0 = tap_input(row0, ty, tx, ph);
            let mask0 = f32(in0.y);
            let in1 = tap_input(row1, ty, tx, ph);
            let mask1 = f32(in1.y);
            let in2 = tap_input(row2, ty, tx, ph);
            let mask2 = f32(in2.y);
            let in3 = tap_input(row3, ty, tx, ph);
            let mask3 = f32(in3.y);
            for (var c4 = 0u; c4 < p.in_c4; c4++) {
                let b00 = weight[krow + 0u * p.n4 + col0];
                let b01 = weight[krow + 0u * p.n4 + col1];
                let b10 = weight[krow + 1u * p.n4 + col0];
                let b11 = weight[krow + 1u * p.n4 + col1];
                let b20 = weight[krow + 2u * p.n4 + col0];
                let b21 = weight[krow + 2u * p.n4 + col1];
                let b30 = weight[krow + 3u * p.n4 + col0];
                let b31 = weight[krow + 3u * p.n4 + col1];
                krow += 4u * p.n4;
                let a0 = input[in0.x + c4] * mask0;
                acc00 += a0.x * b00 + a0.y * b10 + a0.z * b20 + a0.w * b30;
                acc01 += a0.x * b01 + a0.y * b11 + a0.z * b21 + a0.w * b31;
                let a1 = input[in1.x + c4] * mask1;
                acc10 += a1.x * b00 + a1.y * b10 + a1.z * b20 + a1.w * b30;
                acc11 += a1.x * b01 + a1.y * b11 + a1.z * b21 + a1.w * b31;
                let a2 = input[in2.x + c4] * mask2;
                acc20 += a2.x * b00 + a2.y * b10 + a2.z * b20 + a2.w * b30;
                acc21 += a2.x * b01 + a2.y * b11 + a2.z * b21 + a2.w * b31;
                let a3 = input[in3.x + c4] * mask3;
                acc30 += a3.x * b00 + a3.y * b10 + a3.z * b20 + a3.w * b30;
                acc31 += a3.x * b01 + a3.y * b11 + a3.z * b21 + a3.w * b31;
            }
        }
    }
    store(row0, ph, j0 + 0u, acc00);
    store(row0, ph, j0 + 1u, acc01);
    store(row1, ph, j0 + 0u, acc10);
    store(row1, ph, j0 + 1u, acc11);
    store(row2, ph, j0 + 0u, acc20);
    store(row2, ph, j0 + 1u, acc21);
    store(row3, ph, j0 + 0u, acc30);
    store(row3, ph, j0 + 1u, acc31);
}

@compute @workgroup_size(64, 1, 1)
fn main_narrow(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ph = phases[wid.z];
    let t = (wid.y * p.groups_x + wid.x) * 64u + li;
    let cb = t % p.col_blocks;
    let m0 = (t / p.col_blocks) * 4u;
    if (m0 >= p.rows) {
        return;
    }
    let j0 = cb * 1u;
    let col0 = j0;
    let row0 = row_coords(m0 + 0u, ph);
    let row1 = row_coords(m0 + 1u, ph);
    let row2 = row_coords(m0 + 2u, ph);
    let row3 = row_coords(m0 + 3u, ph);
    var acc00 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var krow = ph.w_offset;
    for (var ty = 0u; ty < ph.taps_y; ty++) {
        for (var tx = 0u; tx < ph.taps_x; tx++) {
            let in0 = tap_input(row0, ty, tx, ph);
            let mask0 = f32(in0.y);
            let in1 = tap_input(row1, ty, tx, ph);
            let mask1 = f32(in1.y);
            let in2 = tap_input(row2, ty, tx, ph);
            let mask2 = f32(in2.y);
            let in3 = tap_input(row3, ty, tx, ph);
            let mask3 = f32(in3.y);
            for (var c4 = 0u; c4 < p.in_c4; c4++) {
                let b00 = weight[krow + 0u * p.n4 + col0];
                let b10 = weight[krow + 1u * p.n4 + col0];
                let b20 = weight[krow + 2u * p.n4 + col0];
                let b30 = weight[krow + 3u * p.n4 + col0];
                krow += 4u * p.n4;
                let a0 = input[in0.x + c4] * mask0;
                acc00 += a0.x * b00 + a0.y * b10 + a0.z * b20 + a0.w * b30;
                let a1 = input[in1.x + c4] * mask1;
                acc10 += a1.x * b00 + a1.y * b10 + a1.z * b20 + a1.w * b30;
                let a2 = input[in2.x + c4] * mask2;
                acc20 += a2.x * b00 + a2.y * b10 + a2.z * b20 + a2.w * b30;
                let a3 = input[in3.x + c4] * mask3;
                acc30 += a3.x * b00 + a3.y * b10 + a3.z * b20 + a3.w * b30;
            }
        }
    }
    store(row0, ph, j0 + 0u, acc00);
    store(row1, ph, j0 + 0u, acc10);
    store(row2, ph, j0 + 0u, acc20);
    store(row3, ph, j0 + 0u, acc30);
}
