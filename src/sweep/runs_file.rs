//! A runs file: one run id per line, a fixed list of runs of a sweep (for example the runs
//! missing when a Slurm array was submitted), so that shards of it stay the same while tasks
//! finish runs, and every task of an array sized by it has work.

use super::spec::PlannedRun;
use crate::error::{Error, Result};
use std::path::Path;

/// The runs of `runs` listed in `path`, in the file's order.
pub fn select(runs: &[PlannedRun], path: &Path) -> Result<Vec<PlannedRun>> {
    // 17 bytes per run id: the largest sweep's list fits four times over.
    let text = crate::io::read_text(
        path,
        4 * 17 * super::spec::MAX_RUNS as u64,
        "a list of run ids, one per line",
    )?;
    let by_id: std::collections::HashMap<&str, &PlannedRun> =
        runs.iter().map(|r| (r.id.as_str(), r)).collect();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|id| {
            by_id.get(id).map(|r| (*r).clone()).ok_or_else(|| {
                Error::data(path, format!("lists run {id}, which is not a run of this sweep; was the runs file made for another sweep?"))
            })
        })
        .collect()
}

/// Write the ids of `runs`, one per line, atomically.
pub fn write(path: &Path, runs: &[&PlannedRun]) -> Result<()> {
    let text: String = runs.iter().map(|r| format!("{}\n", r.id)).collect();
    crate::io::write_atomic(path, text.as_bytes())
}
