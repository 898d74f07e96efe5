//! The rules that end a run (method §1), each giving the status it ends with and why: the
//! training loss reached zero, the step or wall budget ran out, the dynamics blew up to
//! non-finite values, or no step can change the weights any more.

use super::result::{Observables, Status};
use super::stall::StallWatch;
use super::trainer::Trainer;
use crate::config::ValidConfig;
use std::cmp::Ordering;
use std::time::Instant;

/// How a run ended, in a status and in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Ended {
    pub status: Status,
    pub detail: String,
}

impl Ended {
    fn new(status: Status, detail: String) -> Self {
        Ended { status, detail }
    }
}

/// Zero training loss: every margin known at the current weights and none below `1/alpha`.
pub fn converged(tr: &Trainer) -> Option<Ended> {
    tr.converged().then(|| {
        Ended::new(
            Status::Converged,
            format!("training loss reached zero at step {}", tr.last_change),
        )
    })
}

/// The step and wall-time budgets (`max_steps`, `max_wall`).
pub struct Budget {
    max_steps: u64,
    max_wall: Option<f64>,
    start: Instant,
}

impl Budget {
    pub fn new(cfg: &ValidConfig, start: Instant) -> Self {
        Budget {
            max_steps: cfg.max_steps,
            max_wall: cfg.max_wall,
            start,
        }
    }

    /// `max_steps` steps taken.
    pub fn steps(&self, tr: &Trainer) -> Option<Ended> {
        (tr.steps() >= self.max_steps).then(|| {
            Ended::new(
                Status::Budget,
                format!("max_steps ({}) reached", self.max_steps),
            )
        })
    }

    /// `max_wall` seconds passed since the run started.
    pub fn wall(&self, tr: &Trainer) -> Option<Ended> {
        let max = self.max_wall?;
        // Compared in seconds: no Duration conversion that could fail on a huge budget.
        (self.start.elapsed().as_secs_f64() >= max).then(|| {
            Ended::new(
                Status::Budget,
                format!("max_wall ({max} s) reached at step {}", tr.steps()),
            )
        })
    }
}

/// Non-finite training loss or weights at a full evaluation, or the opt-in loss threshold.
pub fn diverged(tr: &Trainer) -> Option<Ended> {
    tr.diverged_at_check()
        .map(|why| Ended::new(Status::Diverged, why))
}

/// A mini-batch gave a non-finite output.
pub fn non_finite_output(tr: &Trainer) -> Ended {
    Ended::new(
        Status::Diverged,
        format!("non-finite network output at step {}", tr.steps()),
    )
}

/// Every unfitted point has an exactly zero gradient (watched every 20 epochs).
pub fn stalled(watch: &mut StallWatch, tr: &mut Trainer) -> Option<Ended> {
    watch.check(tr).map(|why| Ended::new(Status::Stalled, why))
}

/// The early-stopping rule fired at `step`.
pub fn stopped_early(rule: &EarlyStopping, step: u64) -> Ended {
    Ended::new(
        Status::Converged,
        format!(
            "early stopping at step {step}: training error zero and the test error did not improve since the previous epoch; lowest test error at step {}",
            rule.best().map_or(step, |b| b.step)
        ),
    )
}

/// Early stopping of a cross-entropy run (method §6), fed the observables of a checkpoint every
/// epoch: stop once the training error is zero and the test error did not improve since the
/// previous checkpoint; the checkpoint of lowest test error (the earliest among equals) is the
/// one reported.
#[derive(Debug, Default)]
pub struct EarlyStopping {
    best: Option<Observables>,
    previous_test_error: Option<f64>,
}

impl EarlyStopping {
    /// Record a checkpoint; `true` when the run stops here.
    pub fn checkpoint(&mut self, o: &Observables) -> bool {
        if self
            .best
            .as_ref()
            .is_none_or(|b| o.test_error < b.test_error)
        {
            self.best = Some(o.clone());
        }
        let stop = o.train_error == 0.0
            && self.previous_test_error.is_some_and(|previous| {
                o.test_error.partial_cmp(&previous) != Some(Ordering::Less)
            });
        self.previous_test_error = Some(o.test_error);
        stop
    }

    /// The checkpoint of lowest test error so far.
    pub fn best(&self) -> Option<&Observables> {
        self.best.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint(step: u64, train_error: f64, test_error: f64) -> Observables {
        Observables {
            t: step as f64,
            step,
            train_loss: 0.0,
            train_error,
            unfitted: 0,
            test_loss: 0.0,
            test_error,
            weight_norm: 0.0,
            weight_distance: 0.0,
            weight_change: 0.0,
            w_1: None,
            w_perp: None,
            layers: Vec::new(),
            extra: Default::default(),
        }
    }

    /// Feed (train error, test error) per epoch; the epoch it stops at and the best epoch.
    fn run(errors: &[(f64, f64)]) -> (Option<u64>, u64) {
        let mut early = EarlyStopping::default();
        let stopped = errors
            .iter()
            .enumerate()
            .find(|(k, (train, test))| early.checkpoint(&checkpoint(*k as u64, *train, *test)))
            .map(|(k, _)| k as u64);
        (stopped, early.best().unwrap().step)
    }

    #[test]
    fn early_stopping_waits_for_zero_training_error_then_for_the_test_error_to_stop_improving() {
        // The test error rises at epoch 2 but training points are still misclassified; training
        // error is zero from epoch 3; the test error improves at 4 and not at 5: stop at 5,
        // report epoch 4.
        let errors = [
            (0.3, 0.30),
            (0.1, 0.20),
            (0.05, 0.25),
            (0.0, 0.22),
            (0.0, 0.15),
            (0.0, 0.15),
            (0.0, 0.10),
        ];
        assert_eq!(run(&errors), (Some(5), 4));
        // Improving at every epoch: never stops; the best is the last.
        let improving: Vec<(f64, f64)> = (0..6).map(|k| (0.0, 0.5 - 0.05 * k as f64)).collect();
        assert_eq!(run(&improving), (None, 5));
        // Zero training error at the first checkpoint: there is no previous one to compare to.
        assert_eq!(run(&[(0.0, 0.2), (0.0, 0.3)]), (Some(1), 0));
        // A NaN test error does not improve anything.
        assert_eq!(run(&[(0.0, 0.2), (0.0, f64::NAN)]), (Some(1), 0));
    }
}
