//! `sgd-regimes reproduce <name>`: one driver for every reproduction of
//! `reproduce::ALL`: claim the output directory, plan, print the plan (`--dry-run`), run
//! what is missing in one queue with one progress bar (graceful on a signal, resumable), and
//! print the report.

use crate::reproduce::plan::{self, Planned, Planning};
use crate::reproduce::timing::Timing;
use crate::reproduce::{Plan, Report, Reproduction, RunFlags, owner};
use crate::sweep::Event;
use anyhow::Result;
use clap::{ArgMatches, FromArgMatches, Subcommand};
use std::path::Path;

/// The reproduction a command line names (one subcommand per entry of the registry).
pub struct ReproduceCommand(Box<dyn Reproduction>);

impl std::fmt::Debug for ReproduceCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReproduceCommand({})", self.0.command())
    }
}

impl FromArgMatches for ReproduceCommand {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, sub)) = m.subcommand() else {
            return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand));
        };
        match crate::reproduce::ALL.iter().find(|e| e.name == name) {
            Some(e) => Ok(Self((e.build)(sub)?)),
            None => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
        }
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl Subcommand for ReproduceCommand {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        crate::reproduce::ALL.iter().fold(cmd, |cmd, e| {
            cmd.subcommand((e.args)(clap::Command::new(e.name)).about(e.about))
        })
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        crate::reproduce::ALL.iter().any(|e| e.name == name)
    }
}

/// `--jobs`, else every core for the runs of all parts.
fn jobs(flags: &RunFlags, planned: &[Planned]) -> usize {
    flags
        .jobs
        .unwrap_or_else(|| crate::sweep::runner::jobs_here(planned.iter().flat_map(|p| &p.runs)))
        .max(1)
}

/// Run what is missing of `planned` (all parts in one queue, one progress bar); a signal stops
/// it gracefully, and the error then says how to resume. `on_finished` is called after each
/// finished run; its first error is returned once the runs have stopped.
fn run_missing(
    planned: &[Planned],
    results: Option<&std::path::Path>,
    run: &RunFlags,
    jobs: usize,
    mut on_finished: impl FnMut() -> crate::Result<()>,
) -> Result<()> {
    let total: usize = plan::missing(planned).iter().sum();
    if run.no_run || total == 0 {
        return Ok(());
    }
    match results {
        Some(dir) => eprintln!("{total} runs to do in {}", dir.display()),
        None => eprintln!("{total} runs to do"),
    }
    let bar = super::progress::run_bar(total, run.quiet);
    let stop = super::sweep::stop_on_signals()?;
    let mut hook_error = None;
    let not_started = plan::run_all(planned, jobs, &stop, |e| {
        if let Event::Finished { .. } = e {
            bar.inc(1);
            if let Err(e) = on_finished() {
                hook_error.get_or_insert(e);
            }
        }
    })?;
    bar.finish_and_clear();
    if let Some(e) = hook_error {
        return Err(e.into());
    }
    if not_started > 0 {
        return Err(stopped(&stop, not_started));
    }
    Ok(())
}

/// The error of a reproduction a signal stopped: how many runs did not start, and to rerun.
fn stopped(stop: &super::sweep::StopSignal, not_started: usize) -> anyhow::Error {
    stop.error(format!(
        "stopped by a signal ({not_started} runs not started); rerun the same command to resume"
    ))
}

/// The last lines of every reproduction: its summary, then where the report and figures are.
fn print_report(report: &Report) {
    println!("{}", report.summary.trim_end());
    let figures = match report.figures {
        1 => "1 figure".to_string(),
        n => format!("{n} figures"),
    };
    println!(
        "\nreport: {} ({figures} in {})",
        report.path.display(),
        report.figure_dir.display()
    );
}

/// Plan, run and report the reproduction a command line names.
pub fn run(cmd: &ReproduceCommand) -> Result<()> {
    let r = &*cmd.0;
    let flags = r.run_flags();
    let planning = Planning::of(flags.dry_run);
    let out = r.out();
    owner::claim(&out, &r.command(), planning)?;
    for (dir, command) in r.shared_dirs() {
        owner::claim(&dir, &command, planning)?;
    }
    let plan = r.plan(&out, planning)?;
    let jobs = jobs(&flags, &plan.planned);
    if flags.dry_run {
        return print_plan(r, &plan, &out, jobs);
    }
    for s in &plan.skipped {
        eprintln!("skipping {} ({}): {}", s.name, s.what, s.reason);
    }
    if r.keeps_timing() {
        run_timed(&plan.planned, &out, &flags, jobs)?;
    } else {
        let results = out.join("results");
        run_missing(&plan.planned, Some(&results), &flags, jobs, || Ok(()))?;
    }
    print_report(&r.report(&out, &plan)?);
    Ok(())
}

/// [`run_missing`], adding the wall time to `OUT/timing.json` at every finished run (so a hard
/// stop loses only the time since the last one).
fn run_timed(planned: &[Planned], out: &Path, flags: &RunFlags, jobs: usize) -> Result<()> {
    let total: usize = plan::missing(planned).iter().sum();
    let mut timing = Timing::load(out)?;
    let mut mark = std::time::Instant::now();
    let mut first = true;
    // The runs may live in several directories (Table 1's FC rows in fc-mnist's).
    let ran = run_missing(planned, None, flags, jobs, || {
        let now = std::time::Instant::now();
        let seconds = (now - mark).as_secs_f64();
        mark = now;
        timing.add(out, seconds, jobs, std::mem::take(&mut first))
    });
    if !flags.no_run && total > 0 {
        timing.add(out, mark.elapsed().as_secs_f64(), jobs, first)?;
    }
    ran
}

/// `--dry-run`: each part with its runs and how many are missing (and, where the reproduction
/// estimates it, the wall time), the parts skipped, the total. Writes nothing.
fn print_plan(r: &dyn Reproduction, plan: &Plan, out: &Path, jobs: usize) -> Result<()> {
    let missing = plan::missing(&plan.planned);
    let total: usize = missing.iter().sum();
    println!("{} into {}", r.command(), out.display());
    let estimates = if r.estimates_wall_time() {
        Some(crate::reproduce::estimate::wall_seconds(
            &plan.planned,
            jobs,
        )?)
    } else {
        None
    };
    println!(
        "  {:<20} {:<52} {:>6} {:>8}{}",
        "part",
        "what",
        "runs",
        "missing",
        if estimates.is_some() {
            "    est. wall"
        } else {
            ""
        }
    );
    for (i, (p, m)) in plan.planned.iter().zip(&missing).enumerate() {
        let wall = estimates
            .as_ref()
            .map_or(String::new(), |e| format!(" {:>8.0} min", e[i] / 60.0));
        println!(
            "  {:<20} {:<52} {:>6} {:>8}{wall}",
            p.part.name,
            p.part.what,
            p.runs.len(),
            m
        );
    }
    for s in &plan.skipped {
        println!("  {:<20} skipped: {}", s.name, s.reason);
    }
    match &estimates {
        Some(e) => {
            let wall: f64 = e.iter().sum();
            println!(
                "  total: {total} runs to do, about {:.0} min with {jobs} workers, {:.1} CPU-hours on this CPU",
                wall / 60.0,
                wall * jobs as f64 / 3600.0
            );
        }
        None => println!("  total: {total} runs to do"),
    }
    if let Some(note) = r.dry_run_note(out) {
        println!("  ({note})");
    }
    println!("  nothing written");
    Ok(())
}
