//! The rules that end a run (method §1), each giving the status it ends with and why: the
//! training loss reached zero, the step or wall budget ran out, the dynamics blew up to
//! non-finite values, or no step can change the weights any more.

use super::result::Status;
use super::stall::StallWatch;
use super::trainer::Trainer;
use crate::config::ValidConfig;
use std::time::{Duration, Instant};

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
        (self.start.elapsed() >= Duration::from_secs_f64(max)).then(|| {
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

/// Every unfitted point has an exactly zero gradient (watched at powers of two).
pub fn stalled(watch: &mut StallWatch, tr: &mut Trainer) -> Option<Ended> {
    watch.check(tr).map(|why| Ended::new(Status::Stalled, why))
}
