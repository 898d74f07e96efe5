//! One run (method §1): SGD on the hinge loss with margin `1/alpha` until the training loss is
//! exactly zero (`converged`), the dynamics blow up to non-finite values (`diverged`), no step can
//! change the weights any more (`stalled`) or the budget runs out (`budget`).
//!
//! `t*` is exact whatever the spacing of the checks: a step can only change `w` when its batch
//! holds a point with positive loss, so once a check finds zero loss, `t*` is the time of the
//! last step that changed `w` (see [`margins`]).
//!
//! The loop in [`run_on`] steps the [`Trainer`] and asks the rules of [`stop`] whether the run
//! has ended; [`trajectory`] records the observables on the way, and `finish` builds the result.

pub mod dynamics;
pub mod loss;
pub mod margins;
pub mod observe;
pub mod result;
pub mod sampler;
pub mod stall;
pub mod stop;
pub mod trainer;
pub mod trajectory;

use crate::config::{Loss, RunConfig, ValidConfig};
use crate::data::{self, Split};
use crate::error::{Error, Result};
use result::{Derived, Observables, RunResult, SCHEMA, Status, Timing};
use std::time::{Duration, Instant};
pub use trainer::{CheckPolicy, StepOutcome, Trainer};
use trajectory::Trajectory;

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

/// Check `cfg`, load its data and train.
pub fn run(cfg: &RunConfig, opts: Options<'_>) -> Result<RunResult> {
    if cfg.trainer.is_some() {
        return Err(Error::config(
            "this run names an external trainer ([trainer]); `sgd-regimes sweep run` runs it (docs/external-trainer.md)",
        ));
    }
    run_valid(&cfg.validated()?, opts)
}

/// Load the data of a checked config and train.
pub fn run_valid(cfg: &ValidConfig, opts: Options<'_>) -> Result<RunResult> {
    let start = Instant::now();
    let split = data::load(cfg)?;
    let cfg = &cfg.with_input_shape(split.train.shape)?;
    let data_s = start.elapsed().as_secs_f64();
    let mut result = run_on(cfg, &split, opts)?;
    result.timing.data_s = data_s;
    result.timing.wall_s += data_s;
    Ok(result)
}

/// Train on a given split (its sizes must be the config's `p` and `p_test`): step until a rule
/// of [`stop`] ends the run, recording the trajectory on the way.
pub fn run_on(cfg: &ValidConfig, split: &Split, opts: Options<'_>) -> Result<RunResult> {
    Ok(run_on_keeping_weights(cfg, split, opts)?.0)
}

/// As [`run_on`], also returning the weights where the run stopped (e.g. to draw the function
/// the net learnt).
pub fn run_on_keeping_weights(
    cfg: &ValidConfig,
    split: &Split,
    mut opts: Options<'_>,
) -> Result<(RunResult, Vec<f32>)> {
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
    let budget = stop::Budget::new(cfg, start);
    let mut tr = Trainer::new(cfg, split, opts.check)?;
    let mut trajectory = Trajectory::start(cfg, &mut tr);
    let mut stall = stall::StallWatch::default();
    let mut last_report = Instant::now();
    let mut last_unfitted: Option<usize> = None;

    // The hinge stops by itself at zero loss, checked on the full training set; cross-entropy
    // stops early, judged at a checkpoint every epoch (method §6).
    let hinge = cfg.loss == Loss::Hinge;
    let epoch_steps = cfg.p.div_ceil(cfg.batch) as u64;
    let mut early = (!hinge).then(|| (stop::EarlyStopping::default(), epoch_steps));

    let ended = loop {
        let zero_loss = if hinge { stop::converged(&tr) } else { None };
        if let Some(e) = zero_loss.or_else(|| budget.steps(&tr)) {
            break e;
        }
        if tr.steps().is_multiple_of(256) {
            if let Some(e) = budget.wall(&tr) {
                break e;
            }
            if let Some(cb) = opts.progress.as_mut()
                && last_report.elapsed() >= Duration::from_millis(100)
            {
                last_report = Instant::now();
                cb(&Progress {
                    step: tr.steps(),
                    t: cfg.time_at(tr.steps()),
                    unfitted: last_unfitted,
                    p: cfg.p,
                    elapsed: start.elapsed(),
                });
            }
        }
        if trajectory.due(tr.steps()) {
            last_unfitted = Some(trajectory.record(&mut tr));
            if let Some(e) = stop::diverged(&tr) {
                break e;
            }
            continue;
        }
        if let Some((rule, next_epoch)) = early.as_mut()
            && tr.steps() == *next_epoch
        {
            *next_epoch += epoch_steps;
            let step = tr.steps();
            let o = trajectory.observe(&mut tr, step);
            last_unfitted = Some(o.unfitted);
            if let Some(e) = stop::diverged(&tr) {
                break e;
            }
            if rule.checkpoint(&o) {
                break stop::stopped_early(rule, step);
            }
            continue;
        }
        if let Some(e) = stop::stalled(&mut stall, &mut tr) {
            break e;
        }
        if tr.step() == StepOutcome::NonFinite {
            break stop::non_finite_output(&tr);
        }
        if hinge && tr.check_due() {
            tr.check();
            last_unfitted = Some(tr.margins.known_unfitted());
            if let Some(e) = stop::diverged(&tr) {
                break e;
            }
        }
    };
    let best = early.and_then(|(rule, _)| rule.best().cloned());
    let weights = tr.params().to_vec();
    Ok((
        finish(cfg, split, tr, trajectory, ended, best, start),
        weights,
    ))
}

/// The result of a run that ended: its final observables (at `t*` for a converged hinge run,
/// the `best` checkpoint of a cross-entropy run that did not diverge), the trajectory up to
/// where it stopped, counters and timing.
fn finish(
    cfg: &ValidConfig,
    split: &Split,
    mut tr: Trainer,
    mut trajectory: Trajectory,
    ended: stop::Ended,
    best: Option<Observables>,
    start: Instant,
) -> RunResult {
    let step = tr.steps();
    let mut final_state = trajectory.observe(&mut tr, step);
    // A hinge run out of budget whose final evaluation finds zero loss has converged after all.
    let ended = match ended.status {
        Status::Budget if cfg.loss == Loss::Hinge => stop::converged(&tr).unwrap_or(ended),
        _ => ended,
    };
    let converged_at =
        (cfg.loss == Loss::Hinge && ended.status == Status::Converged).then_some(tr.last_change);
    if let Some(step) = converged_at {
        final_state.step = step;
        final_state.t = cfg.time_at(step);
    }
    let mut stopping_point = None;
    if let Some(best) = best.filter(|_| ended.status != Status::Diverged)
        && best.step != final_state.step
    {
        stopping_point = Some(std::mem::replace(&mut final_state, best));
    }
    let last = stopping_point.as_ref().unwrap_or(&final_state).clone();
    let trajectory_s = trajectory.observe_s;
    let points = trajectory.finish(&last, converged_at);
    RunResult {
        schema: SCHEMA.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        config: cfg.normalized.clone(),
        derived: Derived {
            temperature: cfg.temperature,
            lr: cfg.learning_rate,
            margin: cfg.margin(),
            n_params: tr.params().len(),
            input_shape: split.train.shape,
            data_source: split.source.clone(),
            data_files: split.files.clone(),
        },
        status: ended.status,
        status_detail: ended.detail,
        final_state,
        stopping_point,
        trajectory: points,
        counters: tr.counters.clone(),
        timing: Timing {
            wall_s: start.elapsed().as_secs_f64(),
            data_s: 0.0,
            check_s: tr.check_seconds,
            observe_s: trajectory_s,
        },
        adopted_from: None,
    }
}
