//! The state of one run and its SGD step (method §1).
//!
//! Step: draw `B` distinct points; if all are known fitted at the current weights, nothing can
//! change (skip); otherwise forward the batch, keep the points with positive hinge loss
//! `(1/alpha - y F)^+`, and take the step `w += (eta/B) sum theta(1/alpha - y F) y grad f` as
//! a backward pass fused with the update. Checks of the full training set happen only when the
//! loss may be zero, and are spaced so that they cost about a tenth of the training work.

use super::dynamics::StepPoints;
use super::loss::PointLoss;
use super::margins::{MarginCache, is_fitted};
use crate::config::ValidConfig;
use crate::data::{Dataset, Split};
use crate::model::{self, Network, Update};

/// When to check the full training set for zero loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CheckPolicy {
    /// When the work since the last check is at least [`CHECK_RATIO`] times the check's cost
    /// (the points not known at the current weights), and no point is known unfitted.
    #[default]
    Adaptive,
    /// After every step that leaves a point's margin unknown (for tests: `t*` must not change).
    EveryStep,
}

/// Training work (in point-forward units) per unit of check work.
pub const CHECK_RATIO: f64 = 10.0;

/// Rows evaluated per call during checks.
const CHECK_CHUNK: usize = 1024;

/// What a step found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Continue,
    /// A batch output was non-finite.
    NonFinite,
}

pub struct Trainer<'a> {
    pub(super) cfg: &'a ValidConfig,
    pub(super) train: &'a Dataset,
    pub(super) test: &'a Dataset,
    pub(super) net: Box<dyn Network>,
    pub(super) params: Vec<f32>,
    pub(super) params0: Vec<f32>,
    pub(super) f0_train: Vec<f32>,
    pub(super) f0_test: Vec<f32>,
    points: StepPoints,
    pub(super) margins: MarginCache,
    lr: f32,
    threshold: f32,
    pub(super) loss: PointLoss,
    policy: CheckPolicy,
    /// Steps taken and the last step that changed the weights.
    pub(super) step: u64,
    pub(super) last_change: u64,
    pub(super) counters: super::result::Counters,
    work_since_check: f64,
    active: Vec<usize>,
    dout: Vec<f32>,
    pub(super) gather: Vec<f32>,
    pub(super) outputs: Vec<f32>,
    pub(super) check_seconds: f64,
}

impl<'a> Trainer<'a> {
    /// Initialize the network and everything a run needs.
    pub fn new(cfg: &'a ValidConfig, split: &'a Split, policy: CheckPolicy) -> crate::Result<Self> {
        let mut net = model::build(&cfg.net, StepPoints::rows(cfg), split.train.shape)?;
        let params0 = net.init_params(cfg.seeds.init);
        let mut f0_train = vec![0.0; split.train.len()];
        net.predict(&params0, &split.train.x, &mut f0_train);
        let mut f0_test = vec![0.0; split.test.len()];
        net.predict(&params0, &split.test.x, &mut f0_test);
        let threshold = cfg.margin() as f32;
        Ok(Trainer {
            cfg,
            train: &split.train,
            test: &split.test,
            net,
            params: params0.clone(),
            params0,
            f0_train,
            f0_test,
            points: StepPoints::new(cfg),
            margins: MarginCache::new(cfg.p, threshold),
            lr: cfg.learning_rate as f32,
            threshold,
            loss: PointLoss::new(cfg.loss, cfg.alpha),
            policy,
            step: 0,
            last_change: 0,
            counters: Default::default(),
            work_since_check: 0.0,
            active: Vec::with_capacity(StepPoints::rows(cfg)),
            dout: Vec::with_capacity(StepPoints::rows(cfg)),
            gather: Vec::new(),
            outputs: Vec::new(),
            check_seconds: 0.0,
        })
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The current parameters.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// One SGD step.
    pub fn step(&mut self) -> StepOutcome {
        self.step += 1;
        self.counters.steps_simulated += 1;
        let (batch, weights) = self.points.draw();
        if self.loss.skips_fitted() && batch.iter().all(|&i| self.margins.known_fitted(i)) {
            self.counters.skipped_steps += 1;
            return StepOutcome::Continue;
        }
        let d = self.train.dim();
        let input = self.net.batch_input(batch.len());
        for (row, &i) in input.chunks_exact_mut(d).zip(batch) {
            row.copy_from_slice(self.train.row(i));
        }
        let out = self.net.forward(&self.params);
        self.active.clear();
        self.dout.clear();
        for (r, (&i, &f)) in batch.iter().zip(out).enumerate() {
            let y = self.train.y[i];
            let computed = y * (f - self.f0_train[i]);
            if !computed.is_finite() {
                return StepOutcome::NonFinite;
            }
            let margin = self.margins.record(i, computed);
            let slope = self.loss.slope(margin);
            if slope != 0.0 {
                self.active.push(r);
                // d/df of the step's loss sum_r weight_r l(y F): for SGD's hinge, -y/B on a
                // point below the margin (slope 1), and the point is left out above it.
                self.dout.push(-y * slope * weights.at(r));
            }
        }
        self.work_since_check += batch.len() as f64;
        if !self.active.is_empty() {
            if self.active.len() < batch.len() {
                self.net.retain_rows(&self.active);
            }
            self.net
                .backward(&mut self.params, &self.dout, Update::Sgd { lr: self.lr });
            self.margins.invalidate();
            self.last_change = self.step;
            self.counters.updates += 1;
            self.work_since_check += 2.0 * self.active.len() as f64;
        }
        StepOutcome::Continue
    }

    /// Is a full-set check worth doing now? Only when the loss may be zero (no point is known
    /// unfitted) and some margin is unknown.
    pub fn check_due(&self) -> bool {
        let stale = self.margins.stale_count();
        if self.margins.known_unfitted() > 0 || stale == 0 {
            return false;
        }
        match self.policy {
            CheckPolicy::EveryStep => true,
            CheckPolicy::Adaptive => self.work_since_check >= CHECK_RATIO * stale as f64,
        }
    }

    /// A full-set check for zero loss: evaluate the points not known at the current weights.
    pub fn check(&mut self) {
        let start = std::time::Instant::now();
        let evaluated = self.refresh();
        self.counters.checks += 1;
        self.counters.check_points += evaluated as u64;
        self.check_seconds += start.elapsed().as_secs_f64();
    }

    /// Evaluate every training point whose margin is not known at the current weights; returns
    /// how many were.
    pub fn refresh(&mut self) -> usize {
        let stale = self.margins.stale_indices();
        if stale.is_empty() {
            return 0;
        }
        let d = self.train.dim();
        for chunk in stale.chunks(CHECK_CHUNK) {
            let n = chunk.len();
            self.outputs.resize(n, 0.0);
            let contiguous = chunk[n - 1] - chunk[0] == n - 1;
            if contiguous {
                let x = &self.train.x[chunk[0] * d..(chunk[n - 1] + 1) * d];
                self.net.predict(&self.params, x, &mut self.outputs);
            } else {
                self.gather.clear();
                for &i in chunk {
                    self.gather.extend_from_slice(self.train.row(i));
                }
                self.net
                    .predict(&self.params, &self.gather, &mut self.outputs);
            }
            for (&i, &f) in chunk.iter().zip(&self.outputs) {
                self.margins
                    .record(i, self.train.y[i] * (f - self.f0_train[i]));
            }
        }
        self.work_since_check = 0.0;
        stale.len()
    }

    /// Training loss `(1/P) sum l(y F)` from the known margins (call after [`Self::refresh`]).
    pub fn train_loss(&self) -> f64 {
        self.loss
            .mean_and_error(self.margins.margins().iter().copied())
            .0
    }

    /// Does every training point with positive loss have an exactly zero gradient at the current
    /// weights? Each is checked alone (a forward and a backward pass of one point); the gradient
    /// buffer stays zero as long as the answer is yes.
    pub fn gradient_vanishes(&mut self) -> bool {
        self.refresh();
        let unfitted: Vec<usize> = (0..self.cfg.p)
            .filter(|&i| !is_fitted(self.margins.margins()[i], self.threshold))
            .collect();
        if unfitted.is_empty() {
            return false;
        }
        let mut grad = vec![0.0f32; self.params.len()];
        for i in unfitted {
            self.net.batch_input(1).copy_from_slice(self.train.row(i));
            self.net.forward(&self.params);
            let dout = [-self.train.y[i]];
            self.net
                .backward(&mut self.params, &dout, Update::Gradient(&mut grad));
            if grad.iter().any(|&g| g != 0.0) {
                return false;
            }
        }
        true
    }

    /// Has the loss reached exactly zero?
    pub fn converged(&self) -> bool {
        self.margins.all_fitted()
    }

    /// Has the run diverged, judged at a check (method §1): a non-finite training loss or
    /// non-finite weights; and, only if the config opts in with `divergence_factor`, a loss
    /// above that multiple of its initial value `1/alpha`.
    pub fn diverged_at_check(&self) -> Option<String> {
        let loss = self.train_loss();
        if !loss.is_finite() {
            return Some(format!("non-finite training loss at step {}", self.step));
        }
        if let Some(factor) = self.cfg.divergence_factor
            && loss > factor * self.cfg.margin()
        {
            return Some(format!(
                "training loss {loss:.3e} exceeds divergence_factor = {factor:e} x its initial value at step {}",
                self.step
            ));
        }
        if self.params.iter().any(|w| !w.is_finite()) {
            return Some(format!("non-finite weights at step {}", self.step));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Activation, DatasetKind, Dynamics, Loss, ModelKind, RunConfig};

    /// `(1/P) sum_mu l(y_mu F(w, x_mu))` over the training set at `w`, in f64 from f32 outputs.
    fn mean_loss(tr: &mut Trainer, w: &[f32]) -> f64 {
        let mut out = vec![0.0f32; tr.train.len()];
        tr.net.predict(w, &tr.train.x, &mut out);
        let margins = out
            .iter()
            .zip(&tr.f0_train)
            .zip(&tr.train.y)
            .map(|((&f, &f0), &y)| y * (f - f0));
        tr.loss.mean_and_error(margins).0
    }

    #[test]
    fn a_cross_entropy_step_follows_the_gradient_of_the_mean_loss() {
        // Gradient descent (B = P) on a smooth net: one step is w - eta grad L exactly, so
        // (w - w') / eta is compared with central differences of L itself.
        let lr = 1e-2;
        let cfg = RunConfig {
            model: ModelKind::Fc,
            dataset: DatasetKind::DepletedSign,
            dim: Some(8),
            depth: Some(2),
            width: Some(8),
            activation: Some(Activation::Gelu),
            p: 16,
            p_test: 4,
            batch: 16,
            alpha: 0.5,
            lr: Some(lr),
            loss: Some(Loss::CrossEntropy),
            ..RunConfig::default()
        }
        .validated()
        .unwrap();
        let split = crate::data::load(&cfg).unwrap();
        let mut tr = Trainer::new(&cfg, &split, CheckPolicy::Adaptive).unwrap();
        // Away from the initialization, where every margin is 0.
        for _ in 0..20 {
            assert_eq!(tr.step(), StepOutcome::Continue);
        }
        let w = tr.params.clone();
        tr.step();
        let stepped: Vec<f64> = w
            .iter()
            .zip(&tr.params)
            .map(|(a, b)| (a - b) as f64 / lr)
            .collect();
        let scale = stepped.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        assert!(scale > 1e-3, "the gradient is not negligible: {scale}");
        let h = 1e-2f32;
        let mut checked = 0;
        for i in (0..w.len()).step_by(3) {
            let (mut plus, mut minus) = (w.clone(), w.clone());
            plus[i] += h;
            minus[i] -= h;
            let fd = (mean_loss(&mut tr, &plus) - mean_loss(&mut tr, &minus))
                / (plus[i] - minus[i]) as f64;
            assert!(
                (fd - stepped[i]).abs() <= 2e-2 * scale,
                "parameter {i}: finite differences {fd}, step {}",
                stepped[i]
            );
            checked += 1;
        }
        assert!(checked > 20);
    }

    /// Mean and covariance of the weight change of `n` steps, each from the weights `w`.
    fn step_moments(tr: &mut Trainer, w: &[f32], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
        let d = w.len();
        let (mut mean, mut second) = (vec![0.0; d], vec![vec![0.0; d]; d]);
        for _ in 0..n {
            tr.params.copy_from_slice(w);
            tr.margins.invalidate();
            tr.step();
            let delta: Vec<f64> = tr
                .params
                .iter()
                .zip(w)
                .map(|(a, b)| (a - b) as f64)
                .collect();
            for i in 0..d {
                mean[i] += delta[i] / n as f64;
                for j in 0..d {
                    second[i][j] += delta[i] * delta[j] / n as f64;
                }
            }
        }
        let cov = (0..d)
            .map(|i| (0..d).map(|j| second[i][j] - mean[i] * mean[j]).collect())
            .collect();
        (mean, cov)
    }

    fn frobenius(a: &[Vec<f64>]) -> f64 {
        a.iter().flatten().map(|x| x * x).sum::<f64>().sqrt()
    }

    #[test]
    fn the_sde_step_has_the_drift_and_the_exact_covariance_of_the_sgd_step() {
        // A perceptron (grad l_mu = -y x_mu / sqrt(d) below the margin, 0 above) at weights
        // where some points are fitted: the exact mean of an SGD step is -eta grad L and its
        // covariance eta^2 (P - B) / (B (P - 1)) C, with C the covariance of the per-point
        // gradients over the P points (fitted ones count as zeros).
        let (d, p, b, lr) = (3usize, 6usize, 2usize, 0.1f64);
        let w = [1.5f32, 0.3, -0.3];
        let n = 40_000;
        let mut moments = Vec::new();
        for dynamics in [Dynamics::Sgd, Dynamics::Sde] {
            let cfg = RunConfig {
                model: ModelKind::Perceptron,
                dataset: DatasetKind::DepletedSign,
                dim: Some(d),
                p,
                p_test: 2,
                batch: b,
                alpha: 1.0,
                lr: Some(lr),
                dynamics: Some(dynamics),
                ..RunConfig::default()
            }
            .validated()
            .unwrap();
            let split = crate::data::load(&cfg).unwrap();
            let mut tr = Trainer::new(&cfg, &split, CheckPolicy::Adaptive).unwrap();
            moments.push(step_moments(&mut tr, &w, n));
            if dynamics == Dynamics::Sde {
                // The exact moments, from the per-point gradients.
                let grads: Vec<Vec<f64>> = (0..p)
                    .map(|mu| {
                        let x = split.train.row(mu);
                        let y = split.train.y[mu] as f64;
                        let f: f64 = x.iter().zip(&w).map(|(a, b)| (a * b) as f64).sum::<f64>()
                            / (d as f64).sqrt();
                        let active = y * f < 1.0;
                        x.iter()
                            .map(|&xi| {
                                if active {
                                    -y * xi as f64 / (d as f64).sqrt()
                                } else {
                                    0.0
                                }
                            })
                            .collect()
                    })
                    .collect();
                let fitted = grads.iter().filter(|g| g.iter().all(|&v| v == 0.0)).count();
                assert!((1..=p - 2).contains(&fitted), "{fitted} fitted points");
                let g_mean: Vec<f64> = (0..d)
                    .map(|i| grads.iter().map(|g| g[i]).sum::<f64>() / p as f64)
                    .collect();
                let factor = lr * lr * (p - b) as f64 / (b as f64 * (p - 1) as f64);
                let exact: Vec<Vec<f64>> = (0..d)
                    .map(|i| {
                        (0..d)
                            .map(|j| {
                                factor
                                    * grads
                                        .iter()
                                        .map(|g| (g[i] - g_mean[i]) * (g[j] - g_mean[j]))
                                        .sum::<f64>()
                                    / p as f64
                            })
                            .collect()
                    })
                    .collect();
                let drift: Vec<f64> = g_mean.iter().map(|g| -lr * g).collect();
                let size = frobenius(&exact);
                // Sampling error of a covariance from n draws: about sqrt(2/n) of its size.
                let tolerance = 5.0 * (2.0 / n as f64).sqrt() * size;
                for (name, (mean, cov)) in ["sgd", "sde"].iter().zip(&moments) {
                    let diff: Vec<Vec<f64>> = cov
                        .iter()
                        .zip(&exact)
                        .map(|(r, e)| r.iter().zip(e).map(|(a, b)| a - b).collect())
                        .collect();
                    assert!(
                        frobenius(&diff) < tolerance,
                        "{name}: covariance {cov:?} against exact {exact:?}"
                    );
                    for i in 0..d {
                        assert!(
                            (mean[i] - drift[i]).abs()
                                < 5.0 * (exact[i][i] / n as f64).sqrt() + 1e-6,
                            "{name}: mean {mean:?} against drift {drift:?}"
                        );
                    }
                }
            }
        }
    }
}
