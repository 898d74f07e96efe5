//! Observables of a run at one time (method §1): losses and errors on both sets, and weight
//! statistics over the whole parameter buffer and per segment.

use super::margins::is_fitted;
use super::result::{LayerObservables, Observables};
use super::trainer::Trainer;
use crate::config::NetSpec;
use crate::model::vector::{distance, norm};

/// Log-spaced checkpoint steps: 0, then `round(10^(k / per_decade))` for k = 0, 1, 2, ...
pub struct CheckpointSchedule {
    per_decade: u32,
    k: u32,
}

impl CheckpointSchedule {
    pub fn new(per_decade: u32) -> Self {
        CheckpointSchedule { per_decade, k: 0 }
    }

    /// The first checkpoint step after `step`, if checkpoints are on.
    pub fn next_after(&mut self, step: u64) -> Option<u64> {
        if self.per_decade == 0 {
            return None;
        }
        loop {
            let s = 10f64.powf(self.k as f64 / self.per_decade as f64).round() as u64;
            if s > step {
                return Some(s);
            }
            self.k += 1;
        }
    }
}

fn layer(name: &str, w: &[f32], w0: &[f32]) -> LayerObservables {
    let weight_distance = distance(w, w0);
    let norm0 = norm(w0);
    LayerObservables {
        name: name.to_string(),
        weight_norm: norm(w),
        weight_distance,
        weight_change: if norm0 > 0.0 {
            weight_distance / norm0
        } else {
            f64::NAN
        },
    }
}

impl Trainer<'_> {
    /// Observables at the current weights, reported at `step` (the current step, or `t*`'s step
    /// for a converged run, whose weights have not changed since). Evaluates the whole test set
    /// and whatever training points are not known at the current weights.
    pub fn observe_at(&mut self, step: u64) -> Observables {
        self.refresh();
        let threshold = (self.cfg.margin() as f32) as f64;
        let margins = self.margins.margins();
        let (train_loss, train_error) = self.loss.mean_and_error(margins.iter().copied());
        let unfitted = margins
            .iter()
            .filter(|&&m| !is_fitted(m, threshold as f32))
            .count();

        self.outputs.resize(self.test.len(), 0.0);
        self.net
            .predict(&self.params, &self.test.x, &mut self.outputs);
        let test_margins = self
            .outputs
            .iter()
            .zip(&self.f0_test)
            .zip(&self.test.y)
            .map(|((&f, &f0), &y)| y * (f - f0));
        let (test_loss, test_error) = self.loss.mean_and_error(test_margins);

        let all = layer("all", &self.params, &self.params0);
        let layers = self
            .net
            .layout()
            .segments
            .iter()
            .map(|s| layer(&s.name, &self.params[s.range()], &self.params0[s.range()]))
            .collect();
        let (w_1, w_perp) = match self.cfg.net {
            NetSpec::Perceptron => (Some(self.params[0] as f64), Some(norm(&self.params[1..]))),
            _ => (None, None),
        };
        Observables {
            t: self.cfg.time_at(step),
            step,
            train_loss,
            train_error,
            unfitted,
            test_loss,
            test_error,
            weight_norm: all.weight_norm,
            weight_distance: all.weight_distance,
            weight_change: all.weight_change,
            w_1,
            w_perp,
            layers,
            extra: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_log_spaced_and_unique() {
        let mut s = CheckpointSchedule::new(4);
        let mut steps = vec![0];
        while let Some(n) = s.next_after(*steps.last().unwrap()) {
            if n > 1000 {
                break;
            }
            steps.push(n);
        }
        assert_eq!(
            steps,
            vec![0, 1, 2, 3, 6, 10, 18, 32, 56, 100, 178, 316, 562, 1000]
        );
        assert_eq!(CheckpointSchedule::new(0).next_after(0), None);
        // Jumping ahead skips the checkpoints in between.
        let mut s = CheckpointSchedule::new(1);
        assert_eq!(s.next_after(50), Some(100));
    }
}
