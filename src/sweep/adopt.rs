//! Finished runs survive a change of step budget.
//!
//! A run is a pure function of its config (method §1), and the budget (`max_steps`,
//! `max_wall`) only decides when an unfinished run stops: a run that converged, diverged or
//! stalled after `s` simulated steps is, step for step, the run any budget of at least `s`
//! steps would give. So when a sweep's budget changes, the results directory keeps those runs
//! under their new ids instead of running them again; runs that ran out of budget are run
//! again (a different budget ends them differently). Only the config's budget fields and the
//! wall-clock timing can tell an adopted result from a fresh one; `adopted_from` says where it
//! came from.

use super::spec::PlannedRun;
use super::store::{RunStore, Stored};
use crate::config::RunConfig;
use crate::error::Result;
use crate::train::result::{RunResult, Status};
use std::collections::{HashMap, HashSet};

/// Id of a config with its budget removed: runs that differ only in budget share it.
pub fn budget_free_id(cfg: &RunConfig) -> String {
    let mut c = cfg.clone();
    c.max_steps = None;
    c.max_wall = None;
    super::id::run_id(&c)
}

/// Would running `cfg` reproduce `result` (same config but for the budget) step for step?
pub fn reusable_under(result: &RunResult, cfg: &RunConfig) -> bool {
    let finished = matches!(
        result.status,
        Status::Converged | Status::Diverged | Status::Stalled
    );
    // The loop tests the budget only while the run is unfinished, so a budget of at least
    // the steps simulated never fires.
    let steps = result.counters.steps_simulated;
    let within_steps = cfg.max_steps.is_none_or(|m| steps <= m);
    let within_wall = cfg.max_wall.is_none_or(|w| result.timing.wall_s < w);
    // A run stopped by its own budget whose final evaluation found zero loss is `converged`
    // too, but a longer budget would have gone on checking: keep only runs that ended before
    // their budget could fire.
    let old = &result.config;
    let ended_early = old.max_steps.is_none_or(|m| steps < m)
        && old.max_wall.is_none_or(|w| result.timing.wall_s < w);
    finished
        && ended_early
        && within_steps
        && within_wall
        && budget_free_id(old) == budget_free_id(cfg)
}

/// Move every stored result that a missing run of `runs` can reuse to that run's id, with
/// the run's config; the old file is removed once the new one is written. Returns how many.
pub fn adopt(store: &RunStore, runs: &[PlannedRun]) -> Result<usize> {
    let planned: HashSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    let others: Vec<String> = store
        .stored_ids()?
        .into_iter()
        .filter(|id| !planned.contains(id.as_str()))
        .collect();
    if others.is_empty() {
        return Ok(0);
    }
    let mut by_family: HashMap<String, Vec<(String, RunResult)>> = HashMap::new();
    for id in others {
        // Unreadable or failed records are left alone: they are not results to reuse.
        if let Ok(Stored::Done(r)) = store.load(&id) {
            by_family
                .entry(budget_free_id(&r.config))
                .or_default()
                .push((id, *r));
        }
    }
    let mut adopted = 0;
    for run in runs {
        if store.has_result(&run.id) {
            continue;
        }
        let Some(candidates) = by_family.get_mut(&budget_free_id(&run.config)) else {
            continue;
        };
        let Some(k) = candidates
            .iter()
            .position(|(_, r)| reusable_under(r, &run.config))
        else {
            continue;
        };
        let (old_id, mut result) = candidates.swap_remove(k);
        let old_steps = result
            .config
            .max_steps
            .map_or("no".to_string(), |m| m.to_string());
        result.adopted_from = Some(format!(
            "run {old_id} (max_steps {old_steps}), which ended after {} steps",
            result.counters.steps_simulated
        ));
        result.config = run.config.clone();
        store.write_result(&run.id, &result)?;
        let _ = std::fs::remove_file(store.result_path(&old_id));
        adopted += 1;
    }
    Ok(adopted)
}

/// Adopt the results of a directory made when a relative `data_dir` was hashed as written
/// (before sweep files resolved it, issue #23): each stored result whose config, with its
/// data_dir joined to `base`, is a missing run of `runs` is stored again under that run's id
/// and config, and the old file removed. Nothing is rerun. Returns how many.
pub fn adopt_resolved_data_dirs(
    store: &RunStore,
    runs: &[PlannedRun],
    base: &std::path::Path,
) -> Result<usize> {
    let planned: HashMap<&str, &PlannedRun> = runs.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut adopted = 0;
    for old_id in store.stored_ids()? {
        if planned.contains_key(old_id.as_str()) {
            continue;
        }
        let Ok(Stored::Done(mut result)) = store.load(&old_id) else {
            continue;
        };
        let Some(relative) = result.config.data_dir.clone() else {
            continue;
        };
        if std::path::Path::new(&relative).is_absolute() {
            continue;
        }
        let mut config = result.config.clone();
        config.data_dir = Some(crate::config::absolute_path(&base.join(&relative)));
        let id = super::id::run_id(&config);
        let Some(run) = planned.get(id.as_str()) else {
            continue;
        };
        if store.has_result(&id) {
            continue;
        }
        result.adopted_from = Some(format!(
            "run {old_id} (data_dir `{relative}`, read relative to {})",
            base.display()
        ));
        result.config = run.config.clone();
        store.write_result(&id, &result)?;
        let _ = std::fs::remove_file(store.result_path(&old_id));
        adopted += 1;
    }
    Ok(adopted)
}
