//! Element-wise ops of format 2 (activations and math), PyTorch semantics, plus `prelu`.

use crate::model::Activation;
use crate::tensor::Tensor;

/// One-input element-wise ops. Parameters are the manifest's fields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
    Relu,
    /// Negative slope.
    LeakyRelu(f32),
    /// `alpha`.
    Elu(f32),
    Silu,
    /// Exact GELU (`approximate: "none"`), with erf.
    Gelu,
    /// GELU with the tanh approximation (`approximate: "tanh"`).
    GeluTanh,
    Sigmoid,
    Tanh,
    /// `min`, `max`.
    Clamp(f32, f32),
    Sqrt,
    Reciprocal,
    /// The exponent.
    Pow(f32),
}

impl Unary {
    /// Applies the op to one value. The transcendental ones are evaluated in f64 and rounded
    /// once, so the reference is as close to the true value as f32 allows.
    pub fn eval(self, v: f32) -> f32 {
        match self {
            // Shared with format 1 so both formats (and their GPU kernels) agree exactly,
            // including the input clamp of tanh/sigmoid.
            Unary::Relu => Activation::Relu.eval(v),
            Unary::LeakyRelu(slope) => Activation::LeakyRelu(slope).eval(v),
            Unary::Tanh => Activation::Tanh.eval(v),
            Unary::Sigmoid => Activation::Sigmoid.eval(v),
            Unary::Elu(alpha) => {
                if v > 0.0 { v } else { (alpha as f64 * (v as f64).exp_m1()) as f32 }
            }
            // x / (1 + e^-x) rather than x·sigmoid(x): stays finite (−0) when e^-x overflows.
            Unary::Silu => {
                let x = v as f64;
                (x / (1.0 + (-x).exp())) as f32
            }
            // 0.5·x·(1 + erf(x/√2)) = 0.5·x·erfc(−x/√2); the erfc form keeps the relative
            // accuracy for negative x where 1 + erf cancels.
            Unary::Gelu => {
                let x = v as f64;
                (0.5 * x * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)) as f32
            }
            Unary::GeluTanh => {
                let x = v as f64;
                let k = (2.0 / std::f64::consts::PI).sqrt();
                (0.5 * x * (1.0 + (k * (x + 0.044715 * x * x * x)).tanh())) as f32
            }
            // torch.clamp: max(min(…)) order (min > max gives max), and NaN stays NaN, which
            // f32::max/min alone would drop (f32::clamp would panic on min > max).
            Unary::Clamp(lo, hi) => {
                if v.is_nan() { v } else { v.max(lo).min(hi) }
            }
            // Negative → NaN, as torch.sqrt.
            Unary::Sqrt => v.sqrt(),
            Unary::Reciprocal => 1.0 / v,
            // PyTorch computes the exponents 2 and 3 as products (exact for negative bases,
            // where a GPU pow() is undefined); everything else is powf.
            Unary::Pow(e) => {
                if e == 2.0 {
                    v * v
                } else if e == 3.0 {
                    v * v * v
                } else {
                    v.powf(e)
                }
            }
        }
    }
}

/// Applies `op` to every element.
pub fn apply(x: &Tensor, op: Unary) -> Tensor {
    Tensor { shape: x.shape.clone(), data: x.data.iter().map(|&v| op.eval(v)).collect() }
}

/// PReLU: `x ≥ 0 ? x : w·x`, with `weight` per channel (dim 1: channels of `[N, C, …]`,
/// features of `[N, F]`) or one value for all.
pub fn prelu(x: &Tensor, weight: &[f32]) -> Tensor {
    let channels = x.shape.get(1).copied().unwrap_or(1);
    let inner: usize = x.shape.iter().skip(2).product();
    let slope = |i: usize| if weight.len() == 1 { weight[0] } else { weight[(i / inner.max(1)) % channels] };
    let data = x.data.iter().enumerate().map(|(i, &v)| if v >= 0.0 { v } else { slope(i) * v }).collect();
    Tensor { shape: x.shape.clone(), data }
}

/// Below this |x| erf's Maclaurin series is used; above, erfc's continued fraction. At 2.5 both
/// are good to ~1e-13 (series: cancellation of terms up to ~e^{x²}; fraction: 60 levels).
const SERIES_LIMIT: f64 = 2.5;

/// The complementary error function `1 − erf(x)` in f64, accurate to ~1e-13 relative for
/// x ≥ −2.5 and absolute elsewhere (far more than f32 needs). Public for the GPU tests.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else if x >= SERIES_LIMIT {
        erfc_fraction(x)
    } else if x <= -SERIES_LIMIT {
        2.0 - erfc_fraction(-x)
    } else {
        1.0 - erf_series(x)
    }
}

/// The error function in f64 (see [`erfc`] for accuracy).
pub fn erf(x: f64) -> f64 {
    if x.abs() < SERIES_LIMIT { erf_series(x) } else { 1.0 - erfc(x) }
}

/// erf(x) = 2/√π · Σ (−1)ⁿ x²ⁿ⁺¹ / (n!·(2n+1)), for |x| < [`SERIES_LIMIT`].
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x; // (−1)ⁿ x²ⁿ⁺¹ / n!
    let mut sum = x;
    for n in 1..200 {
        term *= -x2 / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() <= 1e-17 * sum.abs() {
            break;
        }
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

/// erfc(x) = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + 2/(x + …))))), for x ≥ 2.5 (the
/// fraction converges fast there), evaluated bottom-up.
fn erfc_fraction(x: f64) -> f64 {
    if x.is_infinite() {
        return 0.0;
    }
    let mut f = x;
    for k in (1..=60).rev() {
        f = x + (k as f64 * 0.5) / f;
    }
    (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
}
