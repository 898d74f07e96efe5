//! Gathering a sweep's results into one table, rows in sweep order.

use super::spec::PlannedRun;
use super::store::{RunStore, Stored};
use crate::error::Result;
use crate::table::{self, Table};

/// The table of every finished or failed run of `runs`, and how many are missing.
pub fn collect(store: &RunStore, runs: &[PlannedRun]) -> Result<(Table, usize)> {
    let mut t = Table::default();
    let mut missing = 0;
    for r in runs {
        match store.load(&r.id)? {
            Stored::Done(result) => t.push(table::result_row(&r.id, &result)),
            Stored::Failed(f) => t.push(table::failure_row(&r.id, &f)),
            Stored::Missing => missing += 1,
        }
    }
    Ok((t, missing))
}
