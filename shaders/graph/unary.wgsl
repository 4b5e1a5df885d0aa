// unary: the one-input element-wise ops of format 2 on padded NHWC activations, a vec4 of
// channels per thread. Real channels get f(x), padding lanes 0 (so no later kernel multiplies
// an inf or NaN of a padding lane by a zero weight).
//
// Codes (a, b are the op's fields): 0 relu, 1 leaky_relu(slope a), 2 elu(alpha a), 3 silu,
//   4 gelu (erf), 5 gelu (tanh form), 6 sigmoid, 7 tanh, 8 clamp(a, b), 9 sqrt, 10 reciprocal,
//   11 pow(exponent a).
// Bindings (group 0): 0 uniform Params, 1 input vec4[count4], 2 output vec4[count4].
// Dispatch: (ceil(count4 / 64), 1, 1), split over y beyond the per-dimension limit.

struct Params { count4: u32, c4: u32, channels: u32, op: u32, a: f32, b: f32, groups_x: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> input: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> output: array<vec4<f32>>;

// 1/(1 + e^-x) with the input clamped (as the CPU reference), so exp never overflows.
fn sigmoid(v: vec4<f32>) -> vec4<f32> {
    return 1.0 / (1.0 + exp(-clamp(v, vec4<f32>(-80.0), vec4<f32>(80.0))));
}

// erfc(z) after Numerical Recipes' erfcc: t·exp(−z² + P(t)), t = 1/(1 + |z|/2), fractional
// error below 1.2e-7 everywhere; relative (not absolute) accuracy is what gelu needs for
// negative inputs, where 1 + erf(x) cancels.
fn erfc(z: vec4<f32>) -> vec4<f32> {
    let zc = clamp(z, vec4<f32>(-10.0), vec4<f32>(10.0));
    let a = abs(zc);
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let r = t * exp(-a * a + poly);
    return select(2.0 - r, r, zc >= vec4<f32>(0.0));
}

// x^e as torch.pow: products for 2 and 3 (and their reciprocals for −1, −2), exact signs for negative bases under integer
// exponents (where pow() itself is undefined), pow() otherwise (NaN for negative bases).
fn power(v: vec4<f32>, e: f32) -> vec4<f32> {
    if (e == 2.0) { return v * v; }
    if (e == 3.0) { return v * v * v; }
    if (e == 1.0) { return v; }
    if (e == 0.0) { return vec4<f32>(1.0); }
    if (e == -1.0) { return 1.0 / v; }
    if (e == -2.0) { return 1.0 / (v * v); }
    if (e == floor(e)) {
        let odd = abs(e - 2.0 * floor(e * 0.5)) == 1.0;
        let m = pow(abs(v), vec4<f32>(e));
        return select(m, -m, (v < vec4<f32>(0.0)) & vec4<bool>(odd));
    }
    return pow(v, vec4<f32>(e));
}

fn apply(v: vec4<f32>) -> vec4<f32> {
    switch p.op {
        case 0u: { return max(v, vec4<f32>(0.0)); }
        case 1u: { return select(v * p.a, v, v >= vec4<f32>(0.0)); }
        case 2u: {
            let x = max(v, vec4<f32>(-80.0));
            // exp(x) − 1 loses digits near 0; the series is exact to f32 there.
            let series = x * (1.0 + x * (0.5 + x * (1.0 / 6.0)));
            let em1 = select(exp(x) - 1.0, series, abs(x) < vec4<f32>(0.01));
            return select(p.a * em1, v, v > vec4<f32>(0.0));
        }
        case 3u: { return v / (1.0 + exp(-clamp(v, vec4<f32>(-80.0), vec4<f32>(80.0)))); }
        case 4u: { return 0.5 * v * erfc(v * -0.70710678118654752); }
        case 5u: {
            // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u): no cancellation for negative x.
            let u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
            return v * sigmoid(2.0 * u);
        }
        case 6u: { return sigmoid(v); }
        case 7u: { return tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0))); }
        case 8u: { return select(min(max(v, vec4<f32>(p.a)), vec4<f32>(p.b)), v, v != v); }
        case 9u: { return sqrt(v); }
        case 10u: { return 1.0 / v; }
        case 11u: { return power(v, p.a); }
        default: { return v; }
    }
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = (wid.y * p.groups_x + wid.x) * 64u + li;
    if (i >= p.count4) {
        return;
    }
    let c = (i % p.c4) * 4u + vec4<u32>(0u, 1u, 2u, 3u);
    output[i] = select(vec4<f32>(0.0), apply(input[i]), c < vec4<u32>(p.channels));
}
