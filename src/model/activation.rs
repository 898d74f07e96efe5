//! The activation `phi` of the hidden layers (method §2): `phi(z) = sigma(z) / c` with
//! `c = sqrt(E[sigma(g)^2])`, `g ~ N(0,1)`, so that `E[phi(g)^2] = 1` for every choice.
//!
//! - `relu`: `c = 1/sqrt(2)`, so `phi = sqrt(2) relu`. Its backward pass needs only the output.
//! - `gelu`: `z Phi(z)` in the tanh form `0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))`, the
//!   default of `jax.nn.gelu` that the authors' code calls.
//! - `silu`: `z / (1 + exp(-z))`.
//!
//! Smooth activations are not invertible (gelu and silu dip below zero), so their backward pass
//! reads the pre-activation `z`, which the forward pass stores in `pre`.

pub use crate::config::Activation;
use std::f32::consts::SQRT_2;
use std::sync::OnceLock;

const GELU_K: f64 = 0.797_884_560_802_865_4; // sqrt(2/pi)
const GELU_C: f64 = 0.044715;

fn gelu(z: f64) -> f64 {
    0.5 * z * (1.0 + (GELU_K * (z + GELU_C * z * z * z)).tanh())
}

fn silu(z: f64) -> f64 {
    z / (1.0 + (-z).exp())
}

/// `E[sigma(g)^2]` for `g ~ N(0,1)`, by the trapezoid rule on [-12, 12] (the integrand is
/// smooth and decays like `exp(-z^2/2)`, so 24,001 nodes give ~1e-12 relative accuracy).
fn second_moment(sigma: fn(f64) -> f64) -> f64 {
    let (n, lo, hi) = (24_000usize, -12.0f64, 12.0f64);
    let h = (hi - lo) / n as f64;
    let density = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    (0..=n)
        .map(|i| {
            let z = lo + i as f64 * h;
            let w = if i == 0 || i == n { 0.5 } else { 1.0 };
            w * sigma(z).powi(2) * density(z)
        })
        .sum::<f64>()
        * h
}

/// `1/c` of each activation, computed once.
fn inverse_norm(act: Activation) -> f32 {
    static GELU: OnceLock<f32> = OnceLock::new();
    static SILU: OnceLock<f32> = OnceLock::new();
    match act {
        Activation::Relu => SQRT_2,
        Activation::Gelu => *GELU.get_or_init(|| (1.0 / second_moment(gelu).sqrt()) as f32),
        Activation::Silu => *SILU.get_or_init(|| (1.0 / second_moment(silu).sqrt()) as f32),
    }
}

impl Activation {
    /// `phi(z)` in f64, for the reference forward passes of the tests.
    #[cfg(test)]
    pub fn reference(self, z: f64) -> f64 {
        let sigma = match self {
            Activation::Relu => z.max(0.0),
            Activation::Gelu => gelu(z),
            Activation::Silu => silu(z),
        };
        sigma * inverse_norm(self) as f64
    }

    /// Every activation (for tests and help texts).
    pub const ALL: [Activation; 3] = [Activation::Relu, Activation::Gelu, Activation::Silu];

    /// Does the backward pass need the pre-activations (kept by the forward pass in `pre`)?
    pub fn needs_pre(self) -> bool {
        self != Activation::Relu
    }

    /// `z <- phi(z)` in place; `pre` receives the old `z` when [`Self::needs_pre`] (it may be
    /// empty otherwise). A NaN input stays NaN, so a diverging run shows in its outputs.
    pub fn forward(self, z: &mut [f32], pre: &mut [f32]) {
        let s = inverse_norm(self);
        match self {
            Activation::Relu => {
                for v in z {
                    *v = if *v < 0.0 { 0.0 } else { *v * s };
                }
            }
            Activation::Gelu => {
                let (k, c) = (GELU_K as f32, GELU_C as f32);
                for (v, p) in z.iter_mut().zip(&mut pre[..]) {
                    let x = *v;
                    *p = x;
                    *v = s * 0.5 * x * (1.0 + (k * (x + c * x * x * x)).tanh());
                }
            }
            Activation::Silu => {
                for (v, p) in z.iter_mut().zip(&mut pre[..]) {
                    let x = *v;
                    *p = x;
                    *v = s * x / (1.0 + (-x).exp());
                }
            }
        }
    }

    /// Backward of [`Self::forward`]: `da *= phi'(z)`, from the output `a` (relu) or the
    /// stored pre-activations `pre` (smooth activations).
    pub fn backward(self, a: &[f32], pre: &[f32], da: &mut [f32]) {
        let s = inverse_norm(self);
        match self {
            Activation::Relu => {
                for (d, &v) in da.iter_mut().zip(a) {
                    *d = if v > 0.0 { *d * s } else { 0.0 };
                }
            }
            Activation::Gelu => {
                let (k, c) = (GELU_K as f32, GELU_C as f32);
                for (d, &x) in da.iter_mut().zip(pre) {
                    let t = (k * (x + c * x * x * x)).tanh();
                    let slope =
                        0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * c * x * x);
                    *d *= s * slope;
                }
            }
            Activation::Silu => {
                for (d, &x) in da.iter_mut().zip(pre) {
                    let sig = 1.0 / (1.0 + (-x).exp());
                    *d *= s * sig * (1.0 + x * (1.0 - sig));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_activation_has_unit_second_moment() {
        // Monte-Carlo over 400,000 Gaussian draws, independent of the quadrature.
        let g = crate::model::gradcheck::gaussian(400_000, 11);
        for act in Activation::ALL {
            let mut z = g.clone();
            let mut pre = vec![0.0; z.len()];
            act.forward(&mut z, &mut pre);
            let m = z.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / z.len() as f64;
            assert!((m - 1.0).abs() < 0.01, "{act}: E[phi(g)^2] = {m}");
        }
        // The known constants: E[relu^2] = 1/2; E[gelu^2] ~ 0.4252 (erf form ~0.4252 too).
        assert!((second_moment(|z| z.max(0.0)) - 0.5).abs() < 1e-9);
        assert!((second_moment(gelu) - 0.4252).abs() < 1e-3);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let z: Vec<f32> = (-40..=40).map(|i| i as f32 * 0.1 + 0.013).collect();
        for act in Activation::ALL {
            let mut a = z.clone();
            let mut pre = vec![0.0; z.len()];
            act.forward(&mut a, &mut pre);
            let mut da = vec![1.0; z.len()];
            act.backward(&a, &pre, &mut da);
            for (i, &x) in z.iter().enumerate() {
                let f = |x: f64| {
                    let mut v = [x as f32];
                    act.forward(&mut v, &mut [0.0]);
                    v[0] as f64
                };
                let eps = 1e-3;
                let numeric = (f(x as f64 + eps) - f(x as f64 - eps)) / (2.0 * eps);
                assert!(
                    (numeric - da[i] as f64).abs() < 2e-3 * (1.0 + numeric.abs()),
                    "{act} at {x}: analytic {} numeric {numeric}",
                    da[i]
                );
            }
        }
    }

    #[test]
    fn nan_stays_nan() {
        for act in Activation::ALL {
            let mut v = [f32::NAN, 1.0];
            act.forward(&mut v, &mut [0.0, 0.0]);
            assert!(v[0].is_nan() && v[1] > 0.0, "{act}");
        }
    }
}
