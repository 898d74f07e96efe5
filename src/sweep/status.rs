//! How far a sweep is: counts of converged / diverged / stalled / budget / failed / missing runs, overall
//! and per value of a grid axis.

use super::spec::PlannedRun;
use super::store::RunStore;
use crate::error::{Error, Result};
use std::collections::HashSet;

pub const LABELS: [&str; 6] = [
    "converged",
    "diverged",
    "stalled",
    "budget",
    "failed",
    "missing",
];

/// Run counts by label, in the order of [`LABELS`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub [usize; LABELS.len()]);

impl Counts {
    fn add(&mut self, label: &str) {
        let k = LABELS
            .iter()
            .position(|l| *l == label)
            .expect("known label");
        self.0[k] += 1;
    }

    pub fn get(&self, label: &str) -> usize {
        LABELS
            .iter()
            .position(|l| *l == label)
            .map_or(0, |k| self.0[k])
    }

    pub fn total(&self) -> usize {
        self.0.iter().sum()
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
        let label = store.load(&r.id)?.label();
        total.add(label);
        if let (Some(axis), Some(values)) = (by, &axis_values) {
            let v = r.axis_value(axis).unwrap_or_default();
            let k = values
                .iter()
                .position(|x| *x == v)
                .expect("value collected above");
            per_value[k].add(label);
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
