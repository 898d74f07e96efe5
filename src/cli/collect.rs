//! `sgd-regimes collect DIR --out FILE`: one table of every run (CSV or Parquet).

use crate::sweep::{RunStore, collect::collect};
use crate::table;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// A results directory made by `sweep run`.
    pub dir: PathBuf,
    /// Output table: `.csv` or `.parquet` (one row per run: every config field and final observable).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn run(a: &CollectArgs) -> Result<()> {
    let (store, spec) = RunStore::open(&a.dir)?;
    let runs = spec.runs()?;
    table::writer_for(&a.out)?;
    crate::io::check_destination(&a.out)?;
    let (t, missing) = collect(&store, &runs)?;
    if t.rows.is_empty() {
        bail!(
            "{}: no finished runs yet, nothing written; run the sweep first (sgd-regimes sweep run {} --results {})",
            a.dir.display(),
            a.dir.join("sweep.toml").display(),
            a.dir.display()
        );
    }
    table::write(&t, &a.out)?;
    println!(
        "wrote {} rows x {} columns to {}{}",
        t.rows.len(),
        t.columns.len(),
        a.out.display(),
        if missing > 0 {
            format!(" ({missing} runs still missing)")
        } else {
            String::new()
        }
    );
    Ok(())
}
