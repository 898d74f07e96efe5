//! `sgd-regimes status DIR`: what a results directory holds, per state and per axis value,
//! the failures, the Slurm tasks, running claims and leftovers.

use crate::sweep::RunStore;
use crate::sweep::status::{Counts, RunState, status};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// A results directory made by `sweep run`.
    pub dir: PathBuf,
    /// Also count per value of this grid axis.
    #[arg(long, value_name = "AXIS")]
    pub by: Option<String>,
}

pub fn run(a: &StatusArgs) -> Result<()> {
    let (store, spec) = RunStore::open(&a.dir)?;
    let runs = spec.runs()?;
    let s = status(&store, &runs, a.by.as_deref())?;
    println!("{}: sweep of {} runs", a.dir.display(), runs.len());
    let line = |c: &Counts| {
        RunState::ALL
            .iter()
            .map(|s| format!("{s} {}", c.get(*s)))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(&s.total));
    if let Some((axis, rows)) = &s.by_axis {
        let width = rows
            .iter()
            .map(|(v, _)| v.len())
            .max()
            .unwrap_or(0)
            .max(axis.len());
        println!(
            "\n{axis:<width$}  {}",
            RunState::ALL.map(|s| format!("{s:>9}")).join(" ")
        );
        for (value, c) in rows {
            println!(
                "{value:<width$}  {}",
                c.0.map(|n| format!("{n:>9}")).join(" ")
            );
        }
    }
    if s.total.get(RunState::Failed) > 0 {
        println!("\nfailed runs (first 5; `sweep run --retry-failed` runs them again):");
        let mut shown = 0;
        for r in runs.iter().filter(|r| store.has_failure(&r.id)) {
            if let crate::sweep::Stored::Failed(f) = store.load(&r.id)? {
                println!("  {} {}: {}", r.id, r.describe(), f.error);
                shown += 1;
            }
            if shown == 5 {
                break;
            }
        }
    }
    if let Some(lines) = crate::sweep::slurm::queue(&a.dir) {
        println!("\nSlurm tasks of this directory (squeue: id state time reason):");
        for l in &lines {
            println!("  {l}");
        }
        if lines.is_empty() {
            println!("  none queued or running");
        }
    }
    let running = store.running()?;
    if running > 0 {
        println!("\n{running} run(s) being run now by a live process (claimed in runs/*.claim)");
    }
    let orphans = store.orphans()?;
    if orphans > 0 {
        println!(
            "\n{orphans} leftover file(s) of killed processes in runs/ (temporary or unclaimed claim files); the next `sweep run` on this directory removes them"
        );
    }
    if s.foreign > 0 {
        println!(
            "({} result files belong to no run of this sweep)",
            s.foreign
        );
    }
    Ok(())
}
