// gemm_registers: the same implicit matrix multiply as gemm_tiled (read its header for the
// maths, bindings and layouts), tuned for CPU emulators of WebGPU (SwiftShader, lavapipe).
// Those emulators turn each load with a runtime index into a per-lane loop and gain nothing
// from shared memory, so each thread keeps an 8-row × 16-column block in registers, loads each
// A and B value once per K step, and loops over taps outside channels so the address of a tap
// is computed once. Out-of-image taps read a clamped address multiplied by a zero mask.
//
// Every loop over rows and columns is written out: a private array indexed in a loop becomes
// scratch memory on these compilers, and named registers do not.
//
// Entry points: `main` computes 8 rows × 4 vec4 columns per thread; `main_narrow` 8 rows × 1
// vec4 column, for outputs of 4 channels or fewer (an RGB image) where `main` would compute
// three clamped columns for nothing.
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

// acc + Σ_k a[k] · b_k: one vec4 of A against four K rows of one B column.
fn mac(acc: vec4<f32>, a: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>) -> vec4<f32> {
    return acc + a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
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
    let m0 = (t / p.col_blocks) * 8u;
    if (m0 >= p.rows) {
        return;
    }
    let j0 = cb * 4u;
    let col0 = min(j0 + 0u, p.n4 - 1u);
    let col1 = min(j0 + 1u, p.n4 - 1u);
    let col2 = min(j0 + 2u, p.n4 - 1u);
    let col3 = min(j0 + 3u, p.n4 - 1u);
    let row0 = row_coords(m0 + 0u, ph);
    let row1 = row_coords(m0 + 1u, ph);
    let row2 = row_coords(m0 + 2u, ph);
    let row3 = row_coords(m0 + 3u, ph);
    let row4 = row_coords(m0 + 4u, ph);
    let row5 = row_coords(m0 + 5u, ph);
    let row6 = row_coords(m0 + 6u, ph);
    let row7 = row_coords(m0 + 7u, ph);
    var acc00 = vec4<f32>(0.0);
    var acc01 = vec4<f32>(0.0);
    var acc02 = vec4<f32>(0.0);
    var acc03 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc11 = vec4<f32>(0.0);
    var acc12 = vec4<f32>(0.0);
    var acc13 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc21 = vec4<f32>(0.0);
    var acc22 = vec4<f32>(0.0);
    var acc23 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var acc31 = vec4<f32>(0.0);
    var acc32 = vec4<f32>(0.0);
    var acc33 = vec4<f32>(0.0);
    var acc40 = vec4<f32>(0.0);
    var acc41 = vec4<f32>(0.0);
    var acc42 = vec4<f32>(0.0);
    var acc43 = vec4<f32>(0.0);
    var acc50 = vec4<f32>(0.0);
    var acc51 = vec4<f32>(0.0);
    var acc52 = vec4<f32>(0.0);
    var acc53 = vec4<f32>(0.0);
    var acc60 = vec4<f32>(0.0);
    var acc61 = vec4<f32>(0.0);
    var acc62 = vec4<f32>(0.0);
    var acc63 = vec4<f32>(0.0);
    var acc70 = vec4<f32>(0.0);
    var acc71 = vec4<f32>(0.0);
    var acc72 = vec4<f32>(0.0);
    var acc73 = vec4<f32>(0.0);
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
            let in4 = tap_input(row4, ty, tx, ph);
            let mask4 = f32(in4.y);
            let in5 = tap_input(row5, ty, tx, ph);
            let mask5 = f32(in5.y);
            let in6 = tap_input(row6, ty, tx, ph);
            let mask6 = f32(in6.y);
            let in7 = tap_input(row7, ty, tx, ph);
            let mask7 = f32(in7.y);
            for (var c4 = 0u; c4 < p.in_c4; c4++) {
                let b00 = weight[krow + 0u * p.n4 + col0];
                let b01 = weight[krow + 0u * p.n4 + col1];
                let b02 = weight[krow + 0u * p.n4 + col2];
                let b03 = weight[krow + 0u * p.n4 + col3];
                let b10 = weight[krow + 1u * p.n4 + col0];
                let b11 = weight[krow + 1u * p.n4 + col1];
                let b12 = weight[krow + 1u * p.n4 + col2];
                let b13 = weight[krow + 1u * p.n4 + col3];
                let b20 = weight[krow + 2u * p.n4 + col0];
                let b21 = weight[krow + 2u * p.n4 + col1];
                let b22 = weight[krow + 2u * p.n4 + col2];
                let b23 = weight[krow + 2u * p.n4 + col3];
                let b30 = weight[krow + 3u * p.n4 + col0];
                let b31 = weight[krow + 3u * p.n4 + col1];
                let b32 = weight[krow + 3u * p.n4 + col2];
                let b33 = weight[krow + 3u * p.n4 + col3];
                krow += 4u * p.n4;
                let a0 = input[in0.x + c4] * mask0;
                acc00 = mac(acc00, a0, b00, b10, b20, b30);
                acc01 = mac(acc01, a0, b01, b11, b21, b31);
                acc02 = mac(acc02, a0, b02, b12, b22, b32);
                acc03 = mac(acc03, a0, b03, b13, b23, b33);
                let a1 = input[in1.x + c4] * mask1;
                acc10 = mac(acc10, a1, b00, b10, b20, b30);
                acc11 = mac(acc11, a1, b01, b11, b21, b31);
                acc12 = mac(acc12, a1, b02, b12, b22, b32);
                acc13 = mac(acc13, a1, b03, b13, b23, b33);
                let a2 = input[in2.x + c4] * mask2;
                acc20 = mac(acc20, a2, b00, b10, b20, b30);
                acc21 = mac(acc21, a2, b01, b11, b21, b31);
                acc22 = mac(acc22, a2, b02, b12, b22, b32);
                acc23 = mac(acc23, a2, b03, b13, b23, b33);
                let a3 = input[in3.x + c4] * mask3;
                acc30 = mac(acc30, a3, b00, b10, b20, b30);
                acc31 = mac(acc31, a3, b01, b11, b21, b31);
                acc32 = mac(acc32, a3, b02, b12, b22, b32);
                acc33 = mac(acc33, a3, b03, b13, b23, b33);
                let a4 = input[in4.x + c4] * mask4;
                acc40 = mac(acc40, a4, b00, b10, b20, b30);
                acc41 = mac(acc41, a4, b01, b11, b21, b31);
                acc42 = mac(acc42, a4, b02, b12, b22, b32);
                acc43 = mac(acc43, a4, b03, b13, b23, b33);
                let a5 = input[in5.x + c4] * mask5;
                acc50 = mac(acc50, a5, b00, b10, b20, b30);
                acc51 = mac(acc51, a5, b01, b11, b21, b31);
                acc52 = mac(acc52, a5, b02, b12, b22, b32);
                acc53 = mac(acc53, a5, b03, b13, b23, b33);
                let a6 = input[in6.x + c4] * mask6;
                acc60 = mac(acc60, a6, b00, b10, b20, b30);
                acc61 = mac(acc61, a6, b01, b11, b21, b31);
                acc62 = mac(acc62, a6, b02, b12, b22, b32);
                acc63 = mac(acc63, a6, b03, b13, b23, b33);
                let a7 = input[in7.x + c4] * mask7;
                acc70 = mac(acc70, a7, b00, b10, b20, b30);
                acc71 = mac(acc71, a7, b01, b11, b21, b31);
                acc72 = mac(acc72, a7, b02, b12, b22, b32);
                acc73 = mac(acc73, a7, b03, b13, b23, b33);
            }
        }
    }
    store(row0, ph, j0 + 0u, acc00);
    store(row0, ph, j0 + 1u, acc01);
    store(row0, ph, j0 + 2u, acc02);
    store(row0, ph, j0 + 3u, acc03);
    store(row1, ph, j0 + 0u, acc10);
    store(row1, ph, j0 + 1u, acc11);
    store(row1, ph, j0 + 2u, acc12);
    store(row1, ph, j0 + 3u, acc13);
    store(row2, ph, j0 + 0u, acc20);
    store(row2, ph, j0 + 1u, acc21);
    store(row2, ph, j0 + 2u, acc22);
    store(row2, ph, j0 + 3u, acc23);
    store(row3, ph, j0 + 0u, acc30);
    store(row3, ph, j0 + 1u, acc31);
    store(row3, ph, j0 + 2u, acc32);
    store(row3, ph, j0 + 3u, acc33);
    store(row4, ph, j0 + 0u, acc40);
    store(row4, ph, j0 + 1u, acc41);
    store(row4, ph, j0 + 2u, acc42);
    store(row4, ph, j0 + 3u, acc43);
    store(row5, ph, j0 + 0u, acc50);
    store(row5, ph, j0 + 1u, acc51);
    store(row5, ph, j0 + 2u, acc52);
    store(row5, ph, j0 + 3u, acc53);
    store(row6, ph, j0 + 0u, acc60);
    store(row6, ph, j0 + 1u, acc61);
    store(row6, ph, j0 + 2u, acc62);
    store(row6, ph, j0 + 3u, acc63);
    store(row7, ph, j0 + 0u, acc70);
    store(row7, ph, j0 + 1u, acc71);
    store(row7, ph, j0 + 2u, acc72);
    store(row7, ph, j0 + 3u, acc73);
}

@compute @workgroup_size(64, 1, 1)
fn main_narrow(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let ph = phases[wid.z];
    let t = (wid.y * p.groups_x + wid.x) * 64u + li;
    let cb = t % p.col_blocks;
    let m0 = (t / p.col_blocks) * 8u;
    if (m0 >= p.rows) {
        return;
    }
    let j0 = cb * 1u;
    let col0 = j0;
    let row0 = row_coords(m0 + 0u, ph);
    let row1 = row_coords(m0 + 1u, ph);
    let row2 = row_coords(m0 + 2u, ph);
    let row3 = row_coords(m0 + 3u, ph);
    let row4 = row_coords(m0 + 4u, ph);
    let row5 = row_coords(m0 + 5u, ph);
    let row6 = row_coords(m0 + 6u, ph);
    let row7 = row_coords(m0 + 7u, ph);
    var acc00 = vec4<f32>(0.0);
    var acc10 = vec4<f32>(0.0);
    var acc20 = vec4<f32>(0.0);
    var acc30 = vec4<f32>(0.0);
    var acc40 = vec4<f32>(0.0);
    var acc50 = vec4<f32>(0.0);
    var acc60 = vec4<f32>(0.0);
    var acc70 = vec4<f32>(0.0);
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
            let in4 = tap_input(row4, ty, tx, ph);
            let mask4 = f32(in4.y);
            let in5 = tap_input(row5, ty, tx, ph);
            let mask5 = f32(in5.y);
            let in6 = tap_input(row6, ty, tx, ph);
            let mask6 = f32(in6.y);
            let in7 = tap_input(row7, ty, tx, ph);
            let mask7 = f32(in7.y);
            for (var c4 = 0u; c4 < p.in_c4; c4++) {
                let b00 = weight[krow + 0u * p.n4 + col0];
                let b10 = weight[krow + 1u * p.n4 + col0];
                let b20 = weight[krow + 2u * p.n4 + col0];
                let b30 = weight[krow + 3u * p.n4 + col0];
                krow += 4u * p.n4;
                let a0 = input[in0.x + c4] * mask0;
                acc00 = mac(acc00, a0, b00, b10, b20, b30);
                let a1 = input[in1.x + c4] * mask1;
                acc10 = mac(acc10, a1, b00, b10, b20, b30);
                let a2 = input[in2.x + c4] * mask2;
                acc20 = mac(acc20, a2, b00, b10, b20, b30);
                let a3 = input[in3.x + c4] * mask3;
                acc30 = mac(acc30, a3, b00, b10, b20, b30);
                let a4 = input[in4.x + c4] * mask4;
                acc40 = mac(acc40, a4, b00, b10, b20, b30);
                let a5 = input[in5.x + c4] * mask5;
                acc50 = mac(acc50, a5, b00, b10, b20, b30);
                let a6 = input[in6.x + c4] * mask6;
                acc60 = mac(acc60, a6, b00, b10, b20, b30);
                let a7 = input[in7.x + c4] * mask7;
                acc70 = mac(acc70, a7, b00, b10, b20, b30);
            }
        }
    }
    store(row0, ph, j0 + 0u, acc00);
    store(row1, ph, j0 + 0u, acc10);
    store(row2, ph, j0 + 0u, acc20);
    store(row3, ph, j0 + 0u, acc30);
    store(row4, ph, j0 + 0u, acc40);
    store(row5, ph, j0 + 0u, acc50);
    store(row6, ph, j0 + 0u, acc60);
    store(row7, ph, j0 + 0u, acc70);
}
