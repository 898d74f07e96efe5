//! One run (method §1): SGD on the hinge loss with margin `1/alpha` until the training loss is
//! exactly zero (`converged`), the dynamics blow up to non-finite values (`diverged`), no step can
//! change the weights any more (`stalled`) or the budget runs out (`budget`).
//!
//! `t*` is exact whatever the spacing of the checks: a step can only change `w` when its batch
//! holds a point with positive loss, so once a check finds zero loss, `t*` is the time of the
//! last step that changed `w` (see [`margins`]).

pub mod loss;
pub mod margins;
pub mod observe;
pub mod result;
pub mod sampler;
pub mod stall;
pub mod trainer;

use crate::config::RunConfig;
use crate::data::{self, Split};
use crate::error::{Error, Result};
use observe::CheckpointSchedule;
use result::{Derived, Observables, RunResult, SCHEMA, Status, Timing};
use std::time::{Duration, Instant};
pub use trainer::{CheckPolicy, StepOutcome, Trainer};

/// What a progress callback is told, at most every 100 ms.
#[derive(Clone, Debug)]
pub struct Progress {
    pub step: u64,
    pub t: f64,
    /// Training points with positive loss at the last full evaluation.
    pub unfitted: Option<usize>,
    pub p: usize,
    pub elapsed: Duration,
}

/// How to run (none of this changes the result).
#[derive(Default)]
pub struct Options<'a> {
    pub check: CheckPolicy,
    pub progress: Option<&'a mut dyn FnMut(&Progress)>,
}

/// Load the data of `cfg` and train.
pub fn run(cfg: &RunConfig, opts: Options<'_>) -> Result<RunResult> {
    let cfg = cfg.normalized()?;
    let start = Instant::now();
    let split = data::load(&cfg)?;
    let data_s = start.elapsed().as_secs_f64();
    let mut result = run_on(&cfg, &split, opts)?;
    result.timing.data_s = data_s;
    result.timing.wall_s += data_s;
    Ok(result)
}

/// Train on a given split (its sizes must be the config's `p` and `p_test`).
pub fn run_on(cfg: &RunConfig, split: &Split, mut opts: Options<'_>) -> Result<RunResult> {
    let cfg = &cfg.normalized()?;
    if split.train.len() != cfg.p || split.test.len() != cfg.p_test {
        return Err(Error::config(format!(
            "the data has {} training and {} test points but the config asks for p = {} and p_test = {}",
            split.train.len(),
            split.test.len(),
            cfg.p,
            cfg.p_test
        )));
    }
    let start = Instant::now();
    let max_steps = cfg.max_steps.unwrap_or(crate::config::DEFAULT_MAX_STEPS);
    let max_wall = cfg.max_wall.map(Duration::from_secs_f64);
    let mut schedule = CheckpointSchedule::new(cfg.checkpoints_per_decade.unwrap_or(0));
    let mut observe_s = 0.0;

    let mut tr = Trainer::new(cfg, split, opts.check);
    let mut observe = |tr: &mut Trainer, step: u64| {
        let t0 = Instant::now();
        let o = tr.observe_at(step);
        observe_s += t0.elapsed().as_secs_f64();
        o
    };
    let mut trajectory: Vec<Observables> = Vec::new();
    // Number of weight updates at the last trajectory point.
    let mut observed_updates: Option<u64> = None;
    if cfg.checkpoints_per_decade != Some(0) {
        trajectory.push(observe(&mut tr, 0));
        observed_updates = Some(0);
    }
    let mut next_checkpoint = schedule.next_after(0);
    let mut last_report = Instant::now();
    let mut last_unfitted: Option<usize> = None;
    let mut stall = stall::StallWatch::default();

    let (status, detail) = loop {
        if tr.converged() {
            break (
                Status::Converged,
                format!("training loss reached zero at step {}", tr.last_change),
            );
        }
        if tr.steps() >= max_steps {
            break (Status::Budget, format!("max_steps ({max_steps}) reached"));
        }
        if tr.steps().is_multiple_of(256) {
            let elapsed = start.elapsed();
            if max_wall.is_some_and(|m| elapsed >= m) {
                break (
                    Status::Budget,
                    format!(
                        "max_wall ({} s) reached at step {}",
                        cfg.max_wall.unwrap_or_default(),
                        tr.steps()
                    ),
                );
            }
            if let Some(cb) = opts.progress.as_mut()
                && last_report.elapsed() >= Duration::from_millis(100)
            {
                last_report = Instant::now();
                cb(&Progress {
                    step: tr.steps(),
                    t: tr.steps() as f64 * cfg.learning_rate(),
                    unfitted: last_unfitted,
                    p: cfg.p,
                    elapsed,
                });
            }
        }
        if next_checkpoint == Some(tr.steps()) {
            // Unchanged weights since the last checkpoint give the same observables.
            let updates = tr.counters.updates;
            let o = match (observed_updates, trajectory.last()) {
                (Some(u), Some(prev)) if u == updates => Observables {
                    t: tr.steps() as f64 * cfg.learning_rate(),
                    step: tr.steps(),
                    ..prev.clone()
                },
                _ => {
                    let step = tr.steps();
                    observe(&mut tr, step)
                }
            };
            observed_updates = Some(updates);
            last_unfitted = Some(o.unfitted);
            trajectory.push(o);
            next_checkpoint = schedule.next_after(tr.steps());
            if let Some(why) = tr.diverged_at_check() {
                break (Status::Diverged, why);
            }
            continue;
        }
        if let Some(why) = stall.check(&mut tr) {
            break (Status::Stalled, why);
        }
        if tr.step() == StepOutcome::NonFinite {
            break (
                Status::Diverged,
                format!("non-finite network output at step {}", tr.steps()),
            );
        }
        if tr.check_due() {
            tr.check();
            last_unfitted = Some(tr.margins.known_unfitted());
            if let Some(why) = tr.diverged_at_check() {
                break (Status::Diverged, why);
            }
        }
    };

    // A budget run whose final evaluation finds zero loss has converged after all.
    let step = tr.steps();
    let mut final_state = observe(&mut tr, step);
    let status = if status == Status::Budget && tr.converged() {
        Status::Converged
    } else {
        status
    };
    let detail = if status == Status::Converged {
        format!("training loss reached zero at step {}", tr.last_change)
    } else {
        detail
    };
    if status == Status::Converged {
        final_state.step = tr.last_change;
        final_state.t = tr.last_change as f64 * cfg.learning_rate();
        // Checkpoints after t* only repeat the final state, at times that depend on when the
        // zero loss was seen: drop them.
        trajectory.retain(|o| o.step <= tr.last_change);
    }
    if trajectory
        .last()
        .is_some_and(|o| o.step != final_state.step)
        || (trajectory.is_empty() && cfg.checkpoints_per_decade != Some(0))
    {
        trajectory.push(final_state.clone());
    }
    let n_params = tr.params().len();
    let counters = tr.counters.clone();
    let check_s = tr.check_seconds;
    drop(tr);
    Ok(RunResult {
        schema: SCHEMA.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        config: cfg.clone(),
        derived: Derived {
            temperature: cfg.temperature_value(),
            lr: cfg.learning_rate(),
            margin: cfg.margin(),
            n_params,
            input_shape: split.train.shape,
            data_source: split.source.clone(),
        },
        status,
        status_detail: detail,
        final_state,
        trajectory,
        counters,
        timing: Timing {
            wall_s: start.elapsed().as_secs_f64(),
            data_s: 0.0,
            check_s,
            observe_s,
        },
        adopted_from: None,
    })
}
