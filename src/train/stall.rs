//! A run that can never end: every training point with positive loss has an exactly zero
//! gradient (every ReLU on its way is dead, e.g. after a large step), so no SGD step changes the
//! weights again and the loss stays positive until `max_steps`. Such a run ends with its own
//! status `stalled` (method §1): an instability of large steps like a divergence, but not a
//! blow-up, so the phase diagram can report `T_max` with and without it.
//!
//! Watched every [`WINDOW_EPOCHS`] epochs of steps (from step 0): if the weights are
//! bit-identical to those of the previous watch although steps with positive-loss points were
//! taken, the suspicion is confirmed exactly by computing the gradient of every unfitted point
//! alone, so a net that died at step `s` ends by `s` plus two windows. (Watches at powers of two,
//! as before issue #22, let a net that died at step 600,000 run to 2^21 steps.) The watch costs
//! one copy of the parameters per window; a confirmation that fails (updates below the weights'
//! rounding, not dead) costs one pass over the training set and the run goes on.

use super::trainer::Trainer;

/// Samples drawn between two watches, in epochs (at least 64 steps).
const WINDOW_EPOCHS: u64 = 20;

/// Steps between two watches of a run with `p` points and batch `batch`.
fn window_steps(p: usize, batch: usize) -> u64 {
    (WINDOW_EPOCHS * p as u64)
        .div_ceil(batch.max(1) as u64)
        .max(64)
}

#[derive(Default)]
pub struct StallWatch {
    snapshot: Vec<f32>,
    at_step: u64,
    updates: u64,
}

impl StallWatch {
    /// Every window of steps: why the run is stalled, if it is.
    pub fn check(&mut self, tr: &mut Trainer) -> Option<String> {
        let step = tr.steps();
        if !step.is_multiple_of(window_steps(tr.cfg.p, tr.cfg.batch)) {
            return None;
        }
        let stalled = !self.snapshot.is_empty()
            && tr.counters.updates > self.updates
            && tr.params() == &self.snapshot[..]
            && tr.gradient_vanishes();
        let why = stalled.then(|| {
            format!(
                "stalled: the weights did not change from step {} to {step} although the loss is positive; every unfitted point has an exactly zero gradient (dead ReLUs), so no step can change them",
                self.at_step
            )
        });
        self.snapshot.clear();
        self.snapshot.extend_from_slice(tr.params());
        self.at_step = step;
        self.updates = tr.counters.updates;
        why
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DatasetKind, ModelKind, RunConfig};
    use crate::train::CheckPolicy;

    /// Steps `tr` until the watch fires (returns the step and why) or `steps` are done.
    fn watch(tr: &mut Trainer, steps: u64) -> Option<(u64, String)> {
        let mut w = StallWatch::default();
        for _ in 0..steps {
            if let Some(why) = w.check(tr) {
                return Some((tr.steps(), why));
            }
            if tr.converged() {
                return None;
            }
            tr.step();
        }
        None
    }

    #[test]
    fn a_dead_network_is_caught_and_a_live_one_is_not() {
        let cfg = RunConfig {
            model: ModelKind::Fc,
            dataset: DatasetKind::DepletedSign,
            dim: Some(8),
            depth: Some(2),
            width: Some(8),
            p: 32,
            p_test: 8,
            batch: 4,
            lr: Some(0.05),
            ..RunConfig::default()
        }
        .validated()
        .unwrap();
        let split = crate::data::load(&cfg).unwrap();

        // Zero first-layer weights: every hidden unit outputs relu(0) = 0 with zero slope, so
        // every gradient is exactly zero while the loss stays positive.
        let mut tr = Trainer::new(&cfg, &split, CheckPolicy::Adaptive).unwrap();
        let first = tr.net.layout().segments[0].range();
        tr.params[first].fill(0.0);
        tr.margins.invalidate();
        let (step, why) = watch(&mut tr, 4096).expect("a dead network is caught");
        // A window is 20 epochs (640 samples = 160 steps of 4): the net, dead from step 0, is
        // caught at the end of the first.
        assert_eq!(step, 160);
        assert!(
            why.contains("from step 0 to 160") && why.contains("dead ReLUs"),
            "{why}"
        );

        // The same net alive trains on; the watch never fires.
        let mut tr = Trainer::new(&cfg, &split, CheckPolicy::Adaptive).unwrap();
        assert_eq!(watch(&mut tr, 4096), None);
    }
}
