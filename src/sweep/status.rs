//! How far a sweep is: where each run stands ([`RunState`]), counted overall and per value of a
//! grid axis.

use super::spec::PlannedRun;
use super::store::RunStore;
use crate::error::{Error, Result};
use crate::train::result::Status;
use std::collections::HashSet;

/// Where one run of a sweep stands: ended with a run [`Status`], failed (an error, recorded in
/// its failure file), or not run yet. The runner, `status`, `collect` and the summaries all
/// speak of runs in these terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Ended(Status),
    Failed,
    Missing,
}

impl RunState {
    /// Every state, in the order tables list them.
    pub const ALL: [RunState; 6] = [
        RunState::Ended(Status::Converged),
        RunState::Ended(Status::Diverged),
        RunState::Ended(Status::Stalled),
        RunState::Ended(Status::Budget),
        RunState::Failed,
        RunState::Missing,
    ];

    /// The states of a run that ran: [`Self::ALL`] without `Missing`.
    pub const FINISHED: [RunState; 5] = [
        RunState::Ended(Status::Converged),
        RunState::Ended(Status::Diverged),
        RunState::Ended(Status::Stalled),
        RunState::Ended(Status::Budget),
        RunState::Failed,
    ];

    /// The name in tables and messages: a status name, `failed` or `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Ended(s) => s.as_str(),
            RunState::Failed => "failed",
            RunState::Missing => "missing",
        }
    }

    fn index(self) -> usize {
        RunState::ALL
            .iter()
            .position(|s| *s == self)
            .expect("ALL lists every state")
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Run counts by state, in the order of [`RunState::ALL`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub [usize; RunState::ALL.len()]);

impl Counts {
    pub fn add(&mut self, state: RunState) {
        self.0[state.index()] += 1;
    }

    pub fn get(&self, state: RunState) -> usize {
        self.0[state.index()]
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }

    /// `N converged, N diverged, ...` over `states`.
    pub fn describe(&self, states: &[RunState]) -> String {
        states
            .iter()
            .map(|s| format!("{} {s}", self.get(*s)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub struct SweepStatus {
    pub total: Counts,
    /// Axis name and, per value in grid order, the counts.
    pub by_axis: Option<(String, Vec<(String, Counts)>)>,
    /// Result files in the directory that belong to no run of the sweep.
    pub foreign: usize,
}

pub fn status(store: &RunStore, runs: &[PlannedRun], by: Option<&str>) -> Result<SweepStatus> {
    let axis_values: Option<Vec<String>> = match by {
        None => None,
        Some(axis) => {
            let first = runs
                .first()
                .map(|r| r.point.iter().any(|(k, _)| k == axis))
                .unwrap_or(false);
            if !first {
                let names: Vec<&str> = runs
                    .first()
                    .map(|r| r.point.iter().map(|(k, _)| k.as_str()).collect())
                    .unwrap_or_default();
                return Err(Error::config(format!(
                    "`{axis}` is not a grid axis of this sweep (axes: {})",
                    names.join(", ")
                )));
            }
            let mut seen = Vec::new();
            for r in runs {
                let v = r.axis_value(axis).unwrap_or_default();
                if !seen.contains(&v) {
                    seen.push(v);
                }
            }
            Some(seen)
        }
    };
    let mut total = Counts::default();
    let mut per_value: Vec<Counts> =
        vec![Counts::default(); axis_values.as_ref().map_or(0, Vec::len)];
    for r in runs {
        let state = store.load(&r.id)?.state();
        total.add(state);
        if let (Some(axis), Some(values)) = (by, &axis_values) {
            let v = r.axis_value(axis).unwrap_or_default();
            let k = values
                .iter()
                .position(|x| *x == v)
                .expect("value collected above");
            per_value[k].add(state);
        }
    }
    let ids: HashSet<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    let foreign = store
        .stored_ids()?
        .iter()
        .filter(|id| !ids.contains(id.as_str()))
        .count();
    Ok(SweepStatus {
        total,
        by_axis: by
            .zip(axis_values)
            .map(|(a, values)| (a.to_string(), values.into_iter().zip(per_value).collect())),
        foreign,
    })
}
