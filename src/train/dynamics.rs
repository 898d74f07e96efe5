//! Which points a step uses and how much each weighs (method §1, §6).
//!
//! - SGD: `B` distinct points drawn uniformly, each weighing `1/B`: the step is
//!   `w <- w - eta (1/B) sum_batch grad l_mu`.
//! - SDE: every point, weighing `1/P + s (xi_mu - mean(xi))` with `xi_mu ~ N(0, 1)` drawn anew
//!   each step and `s = sqrt((P - B) / (B (P - 1) P))`. The step is then
//!   `w <- w - eta grad L + eta s sum_mu (xi_mu - mean(xi)) grad l_mu`: the full-batch gradient
//!   plus a Gaussian whose covariance, `eta^2 s^2 P C` with `C` the covariance of the per-point
//!   gradients `grad l_mu` over the training set, is exactly `eta^2 (P - B) / (B (P - 1)) C`,
//!   the covariance of SGD's step at the same `eta` and `B` (drawn without replacement). This
//!   is one Euler-Maruyama step of `dw = -grad L dt + sqrt(eta Sigma_B) dW` with `dt = eta`
//!   (`eta Sigma_B = T C` up to the factor `(P - B)/(P - 1)`). The noise is drawn without forming
//!   `C`: one backward pass over every point with these weights gives drift and noise at once.

use super::sampler::BatchSampler;
use crate::config::{Dynamics, ValidConfig};
use crate::rng::{self, Rng, Stream};
use rand_distr::{Distribution, StandardNormal};

/// The points of a step and their weights.
pub enum StepPoints {
    Sgd {
        sampler: BatchSampler,
        inv_batch: f32,
    },
    Sde(SdeNoise),
}

/// The SDE's weights: drift `1/P` plus centred Gaussian noise.
pub struct SdeNoise {
    all: Vec<usize>,
    weights: Vec<f32>,
    xi: Vec<f64>,
    inv_p: f64,
    scale: f64,
    rng: Rng,
}

impl StepPoints {
    /// The step rule of `cfg`; its random stream is the batch stream (`seed_batch`).
    pub fn new(cfg: &ValidConfig) -> Self {
        let rng = rng::stream(cfg.seeds.batch, Stream::Batch);
        match cfg.dynamics {
            Dynamics::Sde => {
                let (p, b) = (cfg.p as f64, cfg.batch as f64);
                let scale = if cfg.batch == cfg.p {
                    0.0
                } else {
                    ((p - b) / (b * (p - 1.0) * p)).sqrt()
                };
                StepPoints::Sde(SdeNoise {
                    all: (0..cfg.p).collect(),
                    weights: vec![0.0; cfg.p],
                    xi: vec![0.0; cfg.p],
                    inv_p: 1.0 / p,
                    scale,
                    rng,
                })
            }
            Dynamics::Sgd | Dynamics::Gd => StepPoints::Sgd {
                sampler: BatchSampler::new(cfg.p, cfg.batch, rng),
                inv_batch: 1.0 / cfg.batch as f32,
            },
        }
    }

    /// Rows a step evaluates at most (the network's batch size).
    pub fn rows(cfg: &ValidConfig) -> usize {
        match cfg.dynamics {
            Dynamics::Sde => cfg.p,
            Dynamics::Sgd | Dynamics::Gd => cfg.batch,
        }
    }

    /// The points of the next step and their weights, indexed by position in the step (SGD: a
    /// fresh batch, each `1/B`; SDE: every point, with fresh noise).
    pub fn draw(&mut self) -> (&[usize], Weights<'_>) {
        match self {
            StepPoints::Sgd { sampler, inv_batch } => {
                (sampler.draw(), Weights::Uniform(*inv_batch))
            }
            StepPoints::Sde(noise) => {
                noise.draw();
                (&noise.all, Weights::PerPoint(&noise.weights))
            }
        }
    }
}

impl SdeNoise {
    fn draw(&mut self) {
        for x in &mut self.xi {
            *x = StandardNormal.sample(&mut self.rng);
        }
        let mean = self.xi.iter().sum::<f64>() / self.xi.len() as f64;
        for (w, x) in self.weights.iter_mut().zip(&self.xi) {
            *w = (self.inv_p + self.scale * (x - mean)) as f32;
        }
    }
}

/// How much each point of a step weighs.
pub enum Weights<'a> {
    Uniform(f32),
    PerPoint(&'a [f32]),
}

impl Weights<'_> {
    /// The weight of the point at position `r` of the step.
    #[inline]
    pub fn at(&self, r: usize) -> f32 {
        match self {
            Weights::Uniform(w) => *w,
            Weights::PerPoint(w) => w[r],
        }
    }
}
