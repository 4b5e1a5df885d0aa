//! Element-wise activation functions: what a layer's nonlinearity is, shared by the CPU
//! reference and the GPU kernels' epilogues. Tanh and sigmoid clamp their input first, as the
//! shaders do.

/// An activation function, as fused into the GPU kernels' epilogues.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    Identity,
    Relu,
    LeakyRelu(f32),
    Tanh,
    Sigmoid,
}

impl Activation {
    /// Applies the activation to one value.
    pub fn eval(self, v: f32) -> f32 {
        match self {
            Activation::Identity => v,
            Activation::Relu => v.max(0.0),
            Activation::LeakyRelu(slope) => {
                if v >= 0.0 { v } else { v * slope }
            }
            // Clamping changes nothing in f32 (tanh(±15) rounds to ±1) but keeps the GPU
            // versions away from exp overflow, so CPU and GPU agree.
            Activation::Tanh => v.clamp(-15.0, 15.0).tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-v.clamp(-80.0, 80.0)).exp()),
        }
    }
}
