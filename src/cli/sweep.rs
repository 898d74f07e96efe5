//! `sgd-regimes sweep plan|run`, and the graceful stop on signals other commands share.

use crate::sweep::status::{Counts, RunState};
use crate::sweep::{Event, RunStore, Shard, SweepSpec, execute, pending};
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Subcommand, Debug)]
pub enum SweepCommand {
    /// Print how many runs a sweep file gives and the first ones; reject a bad file.
    Plan(PlanArgs),
    /// Run what is missing of a sweep into a results directory (restartable at any time).
    Run(RunArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "A sweep file has a [base] table (any run parameter) and a [grid] table of lists or ranges:\n\n  \
[base]\n  model = \"fc\"\n  alpha = 32768\n  batch = 16\n\n  [grid]\n  temperature = { log2 = [-12, -2], step = 0.5 }\n  \
p = [256, 512, 1024]\n  seed = { linear = [0, 4] }    # sets seed_init, seed_batch, seed_train\n\n\
Ranges: { log2 = [a, b], step = s }, { log10 = [a, b], num = n }, { linear = [a, b], num = n | step = s }."
)]
pub struct PlanArgs {
    /// The sweep file (TOML).
    pub file: PathBuf,
    /// How many runs to list.
    #[arg(long, default_value_t = 10)]
    pub show: usize,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The sweep file (TOML).
    pub file: PathBuf,
    /// Results directory: one JSON file per run, plus a copy of the sweep file.
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,
    /// Runs in parallel, each on one thread [default: all cores].
    #[arg(long, short, value_parser = super::at_least_one())]
    pub jobs: Option<usize>,
    /// Run only shard I of N (every N-th run from I): N array tasks split the list exactly.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Run again the runs that ended in an error (their failure records are replaced).
    #[arg(long)]
    pub retry_failed: bool,
    /// Only the runs listed in this file (one run id per line), in its order; `--shard` then
    /// splits this list (written by `sgd-regimes slurm`).
    #[arg(long, value_name = "FILE")]
    pub runs_file: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(cmd: &SweepCommand) -> Result<()> {
    match cmd {
        SweepCommand::Plan(a) => plan(a),
        SweepCommand::Run(a) => run_sweep(a),
    }
}

fn plan(a: &PlanArgs) -> Result<()> {
    let spec = SweepSpec::load(&a.file)?;
    // Streamed: only the runs shown are kept, so a grid of millions of points plans in little
    // memory.
    let mut shown = Vec::new();
    let mut count = 0usize;
    let mut data_dirs = std::collections::HashMap::new();
    spec.for_each_run(|r| {
        if let Some(d) = &r.config.data_dir {
            let key = (r.config.dataset, d.clone(), r.config.positive.clone());
            data_dirs.entry(key).or_insert_with(|| r.config.clone());
        }
        if shown.len() < a.show {
            shown.push(r);
        }
        count += 1;
        Ok(())
    })?;
    // Each data directory is read and checked once here, so a wrong one is found before a
    // sweep starts (issue #23, case 3).
    for cfg in data_dirs.values() {
        crate::data::files_of_config(cfg)?;
    }
    let grids: Vec<String> = spec
        .grids
        .iter()
        .map(|g| {
            let axes: Vec<String> = g.iter().map(|(n, v)| format!("{} {n}", v.len())).collect();
            if axes.is_empty() {
                "of one point".into()
            } else {
                axes.join(" x ")
            }
        })
        .collect();
    println!(
        "{}: {} runs (grid {} = {} points{})",
        a.file.display(),
        count,
        grids.join(" + "),
        spec.grid_size(),
        if count < spec.grid_size() {
            ", identical runs merged"
        } else {
            ""
        }
    );
    for (k, r) in shown.iter().enumerate() {
        println!("{:>6}  {}  {}", k + 1, r.id, r.describe());
    }
    if count > shown.len() {
        println!("   ... {} more", count - shown.len());
    }
    Ok(())
}

fn run_sweep(a: &RunArgs) -> Result<()> {
    let spec = SweepSpec::load(&a.file)?;
    let runs = spec.runs()?;
    let store = RunStore::create_or_open(&a.results, &spec)?;
    if let Some(note) = store.adopted_note() {
        eprintln!("{note}");
    }
    let runs = match &a.runs_file {
        Some(f) => crate::sweep::runs_file::select(&runs, f)?,
        None => runs,
    };
    let todo = pending(&store, &runs, a.shard, a.retry_failed);
    let jobs = a
        .jobs
        .unwrap_or_else(|| crate::sweep::runner::jobs_here(todo.iter().copied()))
        // No more workers than runs: `--jobs 100000` on 16 runs starts 16 threads.
        .clamp(1, todo.len().max(1));
    let scope = a.shard.map_or(String::new(), |s| {
        format!(", shard {}/{}", s.index, s.count)
    });
    eprintln!(
        "{} runs in the sweep{scope}; {} to run on {jobs} worker(s) into {}",
        runs.len(),
        todo.len(),
        a.results.display()
    );
    let bar = super::progress::run_bar(todo.len(), a.quiet);
    let mut counts = Counts::default();
    let stop = stop_on_signals()?;
    // An external trainer is stopped at once (docs/external-trainer.md), a built-in run finishes.
    let external = todo.iter().any(|r| r.config.trainer.is_some());
    let announce = || {
        bar.suspend(|| {
            if external {
                eprintln!("stopping: no new runs start; running trainers get SIGTERM and their runs are left for the next `sweep run`")
            } else {
                eprintln!("stopping: no new runs start; the running ones finish (signal again to quit now, losing them)")
            }
        })
    };
    let mut announced = false;
    let outcome = execute(&store, &todo, jobs, &stop, |e| {
        if !announced && stop.signalled() {
            announced = true;
            announce();
        }
        match e {
            Event::Finished { state, .. } => {
                counts.add(*state);
                bar.inc(1);
            }
            Event::Tick { slowest } => {
                let slow = slowest.as_ref().map_or(String::new(), |(d, t)| {
                    format!(" | slowest: {d} ({:.0} s)", t.as_secs_f64())
                });
                bar.set_message(format!("{}{slow}", counts.describe(&RunState::FINISHED)));
            }
            Event::Skipped { .. } => bar.inc(1),
            Event::Started { .. } => {}
        }
    });
    // A signal that came when no run was going (between one run's end and the next's start)
    // raises no event: say it here, so the stop is always announced before its error.
    if !announced && stop.signalled() {
        announce();
    }
    bar.finish_and_clear();
    let o = outcome?;
    if o.not_started > 0 {
        return Err(stop.error(format!(
            "stopped by a signal after {} runs ({} not started); rerun the same command to finish the sweep",
            o.finished(),
            o.not_started
        )));
    }
    println!(
        "ran {}: {}; results in {}",
        o.finished(),
        o.counts.describe(&RunState::FINISHED),
        a.results.display()
    );
    if o.skipped > 0 {
        println!(
            "{} run(s) left to another process working on {}",
            o.skipped,
            a.results.display()
        );
    }
    if o.failed() > 0 {
        anyhow::bail!(
            "{} run(s) failed; their errors are in runs/<id>.failed.json (`sgd-regimes status {}` lists them, `sweep run --retry-failed` runs them again)",
            o.failed(),
            a.results.display()
        );
    }
    // Failures recorded by an earlier invocation and not retried: the sweep is not done.
    let scope = match a.shard {
        Some(s) => s.select(&runs),
        None => runs.iter().collect(),
    };
    let earlier = scope
        .iter()
        .filter(|r| store.has_failure(&r.id) && !store.has_result(&r.id))
        .count();
    if earlier > 0 {
        anyhow::bail!(
            "{earlier} run(s) failed earlier and were not rerun (`sgd-regimes status {}` lists them); `sweep run --retry-failed` runs them again",
            a.results.display()
        );
    }
    Ok(())
}

/// SIGTERM (a cluster's warning before a kill) or SIGINT (Ctrl-C) raises the flag: no new run
/// starts, running runs finish and write their results, and the command ends with
/// [`StopSignal::error`] (exit code 128 + the signal, as a shell reports a process the signal
/// ended). A second signal exits at once with that code; results are written atomically, so
/// the runs it interrupts are simply missing.
pub(super) struct StopSignal {
    /// Set by a signal, and by the runner when a result cannot be written (a full disk).
    flag: Arc<AtomicBool>,
    /// Set by a signal only: what the "stopping" note and the second-signal exit go by.
    signalled: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl std::ops::Deref for StopSignal {
    type Target = AtomicBool;

    fn deref(&self) -> &AtomicBool {
        &self.flag
    }
}

impl StopSignal {
    /// Whether a signal (not an error) asked to stop.
    pub(super) fn signalled(&self) -> bool {
        self.signalled.load(Ordering::SeqCst)
    }

    /// The error that ends a command the signal stopped: `message` and the exit code.
    pub(super) fn error(&self, message: String) -> anyhow::Error {
        Stopped {
            signal: self.signal.load(Ordering::SeqCst) as i32,
            message,
        }
        .into()
    }
}

/// A command stopped by a signal; `cli::main` exits with 128 + `signal`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(super) struct Stopped {
    pub signal: i32,
    message: String,
}

pub(super) fn stop_on_signals() -> Result<StopSignal> {
    let flag = Arc::new(AtomicBool::new(false));
    let signalled = Arc::new(AtomicBool::new(false));
    let signal = Arc::new(AtomicUsize::new(signal_hook::consts::SIGTERM as usize));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        // Exits only on a second *signal*: a stop the runner asked for does not count.
        signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&signalled))?;
        signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)?;
        signal_hook::flag::register(sig, Arc::clone(&signalled))?;
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    Ok(StopSignal {
        flag,
        signalled,
        signal,
    })
}
