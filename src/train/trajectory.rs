//! A run's trajectory (method §1): its observables at step 0 and at log-spaced steps
//! (`checkpoints_per_decade`), and the time spent observing.

use super::observe::CheckpointSchedule;
use super::result::Observables;
use super::trainer::Trainer;
use crate::config::ValidConfig;
use std::time::Instant;

pub struct Trajectory {
    enabled: bool,
    schedule: CheckpointSchedule,
    next: Option<u64>,
    points: Vec<Observables>,
    /// Weight updates at the last point: unchanged weights give the same observables.
    observed_updates: Option<u64>,
    /// Seconds spent in observations (trajectory and final state).
    pub observe_s: f64,
}

impl Trajectory {
    /// The trajectory of a run that starts now: the point at step 0 is taken if it is on.
    pub fn start(cfg: &ValidConfig, tr: &mut Trainer) -> Self {
        let mut schedule = CheckpointSchedule::new(cfg.checkpoints_per_decade);
        let next = schedule.next_after(0);
        let mut t = Trajectory {
            enabled: cfg.checkpoints_per_decade != 0,
            schedule,
            next,
            points: Vec::new(),
            observed_updates: None,
            observe_s: 0.0,
        };
        if t.enabled {
            let o = t.observe(tr, 0);
            t.points.push(o);
            t.observed_updates = Some(0);
        }
        t
    }

    /// Observables at the current weights reported at `step`, timed.
    pub fn observe(&mut self, tr: &mut Trainer, step: u64) -> Observables {
        let t0 = Instant::now();
        let o = tr.observe_at(step);
        self.observe_s += t0.elapsed().as_secs_f64();
        o
    }

    /// Is the current step a checkpoint?
    pub fn due(&self, step: u64) -> bool {
        self.next == Some(step)
    }

    /// Record the checkpoint at the current step; returns its unfitted count.
    pub fn record(&mut self, tr: &mut Trainer) -> usize {
        let step = tr.steps();
        let updates = tr.counters.updates;
        let o = match (self.observed_updates, self.points.last()) {
            (Some(u), Some(prev)) if u == updates => Observables {
                t: tr.cfg.time_at(step),
                step,
                ..prev.clone()
            },
            _ => self.observe(tr, step),
        };
        self.observed_updates = Some(updates);
        let unfitted = o.unfitted;
        self.points.push(o);
        self.next = self.schedule.next_after(step);
        unfitted
    }

    /// The points, ending with `last` (the final state). A converged run's checkpoints after
    /// `t*` (at `converged_at`) only repeat the final state at times that depend on when the
    /// zero loss was seen: they are dropped.
    pub fn finish(mut self, last: &Observables, converged_at: Option<u64>) -> Vec<Observables> {
        if let Some(step) = converged_at {
            self.points.retain(|o| o.step <= step);
        }
        if self.points.last().is_some_and(|o| o.step != last.step)
            || (self.points.is_empty() && self.enabled)
        {
            self.points.push(last.clone());
        }
        self.points
    }
}
