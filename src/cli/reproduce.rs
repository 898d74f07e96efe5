//! `sgd-regimes reproduce perceptron|fc-mnist|table1|eta-over-b|sgd-vs-sde|hinge-vs-ce|
//! decision-boundary`.

use crate::reproduce::fc_mnist::{self, Preset};
use crate::reproduce::fc_mnist_report;
use crate::reproduce::perceptron::{Ended, reproduce};
use crate::reproduce::plan::{self, Planned, Planning};
use crate::reproduce::table1::{self, DataDirs};
use crate::reproduce::table1_report::{self, Timing};
use crate::reproduce::{decision_boundary, equal_t, eta_over_b, hinge_vs_ce, owner, sgd_vs_sde};
use crate::sweep::Event;
use anyhow::Result;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ReproduceCommand {
    /// The teacher-student perceptron (d=128, B=2, chi in {0,1,3}): sweep, fits, extreme-value
    /// check, figures and report. Resumable: rerun to finish an interrupted sweep.
    Perceptron(ReproduceArgs),
    /// The paper's fully-connected results on MNIST parity: Table 1's lazy and feature FC rows
    /// and the (alpha, T) phase diagram of Fig. 1a. Runs the missing runs of three sweeps
    /// (resumable: interrupt and rerun), then fits, draws and writes report.md.
    FcMnist(FcMnistArgs),
    /// Every row of the paper's Table 1 that the data here allows: FC (from `reproduce
    /// fc-mnist`), mnas and simple-cnn lazy on MNIST parity, perceptron at chi = 1.5 and 4, and
    /// with CIFAR-10 the CIFAR rows and Fig. 1b. Resumable; --dry-run estimates the time per row.
    Table1(Table1Args),
    /// SGD's effect is set by T = eta/B (the paper's Figs. 18-19): fc on MNIST parity, P =
    /// 1024, temperatures x batch sizes 4 .. 128 at alpha = 1 and alpha = 32768; figures of test
    /// error, dw and t* against T (one colour per B) and a verdict per observable. About 10
    /// minutes on 2 cores; resumable.
    EtaOverB(EqualTArgs),
    /// SGD against its SDE (full-batch gradient plus Gaussian noise with SGD's mini-batch
    /// covariance) at equal T: fc on MNIST parity, B = 16, lazy (P = 1024) and alpha = 1 (P =
    /// 256); figures of test error, dw and t* against T and a verdict per observable. Resumable.
    SgdVsSde(EqualTArgs),
    /// The paper's Fig. 5: decision boundaries learnt at increasing T in two dimensions (32
    /// points; the perceptron and a one-hidden-layer fc net), drawn over the true boundary.
    /// A few seconds.
    DecisionBoundary(DecisionBoundaryArgs),
    /// The lazy fc exponents with the hinge loss and with cross-entropy stopped early (the
    /// paper's Fig. 17): the same grid, the same analysis; Table 1's row per loss and figures.
    /// Resumable.
    HingeVsCe(EqualTArgs),
}

#[derive(Args, Debug)]
pub struct DecisionBoundaryArgs {
    /// Output directory (decision_boundaries.png and .svg, report.md).
    #[arg(long, default_value = "reproduce-decision-boundary")]
    pub out: PathBuf,
}

/// `reproduce eta-over-b`, `sgd-vs-sde` and `hinge-vs-ce`.
#[derive(Args, Debug)]
pub struct EqualTArgs {
    /// Output directory (sweeps/, results/, figures/, report.md)
    /// [default: reproduce-eta-over-b, reproduce-sgd-vs-sde, reproduce-hinge-vs-ce].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A smoke test: a small net, two batch sizes, three temperatures, two seeds.
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub run: RunFlags,
}

#[derive(Args, Debug)]
pub struct Table1Args {
    /// laptop: the bundled MNIST digits, h = 8 CNNs, the FC rows and Fig. 1a of `reproduce
    /// fc-mnist --preset laptop`; 98 minutes measured on 2 cores (AMD EPYC, 2026-11-30), FC rows
    /// included (BENCHMARKS.md has the faster CNN steps since). paper: the FC rows and Fig. 1a of
    /// `reproduce fc-mnist --preset paper` (the authors' FC settings, full MNIST via --data-dir),
    /// the perceptron at the authors' sizes, the laptop's CNN rows; a few hours on 2 cores.
    /// cluster: the authors' settings (full MNIST via --data-dir) for `sgd-regimes slurm
    /// OUT/sweeps/<row>.toml --results <its results dir>`. quick: a smoke test.
    #[arg(long, value_enum, default_value = "laptop")]
    pub preset: Preset,
    /// Output directory (sweeps/, results/, figures/, report.md, exponents.csv, timing.json)
    /// [default: reproduce-table1-<preset>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the FC rows' runs live (`reproduce fc-mnist`'s directory; run there if missing)
    /// [default: reproduce-fc-mnist-<preset>].
    #[arg(long, value_name = "DIR")]
    pub fc_mnist: Option<PathBuf>,
    /// Full MNIST IDX files (required by the paper and cluster presets).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// CIFAR-10 binary files, for the CIFAR rows and Fig. 1b [default: $SGD_REGIMES_CIFAR10,
    /// else data/cifar10 if present; without CIFAR-10 those rows are skipped with a note].
    #[arg(long, value_name = "DIR")]
    pub cifar_dir: Option<String>,
    #[command(flatten)]
    pub run: RunFlags,
}

#[derive(Args, Debug)]
pub struct FcMnistArgs {
    /// laptop: the 10,000 bundled digits, h = 64, P up to 4096, about 40 minutes on 2 cores.
    /// paper: the authors' FC settings on the full MNIST via --data-dir (h = 128, P to 16384,
    /// P_test = 32768, 5 seeds; T grids that reach the low-T plateau) and Fig. 1a at h = 128,
    /// gelu, on a grid cut to about an hour; a few hours on 2 cores. cluster: the authors' settings (h = 128, P to 16384, P_test = 32768, full MNIST via
    /// --data-dir), 8,179 runs; plan it here, run it with `sgd-regimes slurm
    /// OUT/sweeps/<part>.toml --results OUT/results/<part>`. quick: a 3-layer net of width 32,
    /// few temperatures, one seed.
    #[arg(long, value_enum, default_value = "laptop")]
    pub preset: Preset,
    /// Output directory (sweeps/, results/, figures/, report.md, exponents.csv)
    /// [default: reproduce-fc-mnist-<preset>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// MNIST IDX files (full MNIST; required by the paper and cluster presets). The laptop preset uses the
    /// bundled digits.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    #[command(flatten)]
    pub run: RunFlags,
}

/// How `reproduce fc-mnist` and `reproduce table1` run.
#[derive(Args, Debug)]
pub struct RunFlags {
    /// Print the plan (what runs, how many are missing; for table1 an estimated wall time per
    /// row on this machine) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Analyse and report the runs that exist, without running the missing ones.
    #[arg(long)]
    pub no_run: bool,
    /// Runs in parallel [default: all cores].
    #[arg(long, short, value_parser = super::at_least_one())]
    pub jobs: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// Output directory (sweep file, results, figures, report.md).
    #[arg(long, default_value = "reproduce-perceptron")]
    pub out: PathBuf,
    /// A smaller preset (under a minute on 2 cores), with rougher exponents.
    #[arg(long)]
    pub quick: bool,
    /// Runs in parallel [default: all cores].
    #[arg(long, short, value_parser = super::at_least_one())]
    pub jobs: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

fn jobs(j: Option<usize>) -> usize {
    j.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// A progress bar over `total` runs with an ETA (hidden when `quiet`).
fn run_bar(total: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} runs  {elapsed_precise} ETA {eta}")
            .expect("static template"),
    );
    b
}

/// Run what is missing of `planned` (all parts in one queue, one progress bar); a signal stops
/// it gracefully, and the error then says how to resume. `on_finished` is called after each
/// finished run; its first error is returned once the runs have stopped.
fn run_missing(
    planned: &[Planned],
    results: Option<&std::path::Path>,
    run: &RunFlags,
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
    let bar = run_bar(total, run.quiet);
    let stop = super::sweep::stop_on_signals()?;
    let mut hook_error = None;
    let not_started = plan::run_all(planned, jobs(run.jobs), &stop, |e| {
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
fn print_report(summary: &str, report: &std::path::Path, figures: usize, out: &std::path::Path) {
    println!("{}", summary.trim_end());
    println!(
        "\nreport: {} ({figures} figures in {})",
        report.display(),
        out.join("figures").display()
    );
}

pub fn run(cmd: &ReproduceCommand) -> Result<()> {
    match cmd {
        ReproduceCommand::Perceptron(a) => perceptron(a),
        ReproduceCommand::FcMnist(a) => fc_mnist(a),
        ReproduceCommand::Table1(a) => table1(a),
        ReproduceCommand::EtaOverB(a) => {
            equal_t(a, "eta-over-b", eta_over_b::plan, eta_over_b::report)
        }
        ReproduceCommand::HingeVsCe(a) => {
            equal_t(a, "hinge-vs-ce", hinge_vs_ce::plan, hinge_vs_ce::report)
        }
        ReproduceCommand::DecisionBoundary(a) => {
            owner::claim(&a.out, "reproduce decision-boundary", Planning::Write)?;
            let r = decision_boundary::reproduce(&a.out)?;
            println!(
                "{}\nreport: {} (figure {})",
                r.summary,
                r.path.display(),
                r.figure.display()
            );
            Ok(())
        }
        ReproduceCommand::SgdVsSde(a) => {
            equal_t(a, "sgd-vs-sde", sgd_vs_sde::plan, sgd_vs_sde::report)
        }
    }
}

fn table1(a: &Table1Args) -> Result<()> {
    let name = a.preset.name();
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reproduce-table1-{name}")));
    let fc_dir = a
        .fc_mnist
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reproduce-fc-mnist-{name}")));
    let planning = Planning::of(a.run.dry_run);
    owner::claim(&out, &format!("reproduce table1 --preset {name}"), planning)?;
    owner::claim(
        &fc_dir,
        &format!("reproduce fc-mnist --preset {name}"),
        planning,
    )?;
    let data = DataDirs {
        mnist: a.data_dir.clone(),
        cifar: table1::find_cifar(a.cifar_dir.as_deref())?,
    };
    let (planned, skipped) =
        table1::plan(&out, &fc_dir, a.preset, &data, Planning::of(a.run.dry_run))?;
    let missing = plan::missing(&planned);
    let total: usize = missing.iter().sum();
    let jobs = jobs(a.run.jobs);
    if a.run.dry_run {
        println!("reproduce table1 --preset {name} into {}", out.display());
        let estimates = crate::reproduce::estimate::wall_seconds(&planned, jobs)?;
        println!(
            "  {:<20} {:<52} {:>6} {:>8} {:>12}",
            "row", "what", "runs", "missing", "est. wall"
        );
        for ((p, m), e) in planned.iter().zip(&missing).zip(&estimates) {
            println!(
                "  {:<20} {:<52} {:>6} {:>8} {:>9.0} min",
                p.part.name,
                p.part.what,
                p.runs.len(),
                m,
                e / 60.0
            );
        }
        for s in &skipped {
            println!("  {:<20} skipped: {}", s.name, s.reason);
        }
        let wall: f64 = estimates.iter().sum();
        println!(
            "  total: {total} runs to do, about {:.0} min with {jobs} workers, {:.1} CPU-hours \
             on this CPU (a rough model: calibrated steps, steps per run modelled from fc runs and \
             rescaled by the row's finished runs; expect within 2x)",
            wall / 60.0,
            wall * jobs as f64 / 3600.0
        );
        return Ok(());
    }
    for s in &skipped {
        eprintln!("skipping {} ({}): {}", s.name, s.what, s.reason);
    }
    let mut timing = Timing::load(&out)?;
    // The wall time is saved at every finished run, so a hard stop loses only the time since
    // the last one.
    let mut mark = std::time::Instant::now();
    let mut first = true;
    // The FC rows' runs live in fc-mnist's directory, the others in this one.
    let ran = run_missing(&planned, None, &a.run, || {
        let now = std::time::Instant::now();
        let seconds = (now - mark).as_secs_f64();
        mark = now;
        timing.add(&out, seconds, jobs, std::mem::take(&mut first))
    });
    if !a.run.no_run && total > 0 {
        timing.add(&out, mark.elapsed().as_secs_f64(), jobs, first)?;
    }
    ran?;
    let report = table1_report::write(&out, a.preset, &planned, &skipped, &timing)?;
    print_report(&report.summary, &report.path, report.figures, &out);
    Ok(())
}

/// Run what is missing of `planned` (one queue, progress bar, stop on signals); with
/// `--dry-run` print the plan instead and return `false` (nothing to report).
fn run_planned(planned: &[Planned], out: &std::path::Path, run: &RunFlags) -> Result<bool> {
    let total: usize = plan::missing(planned).iter().sum();
    if run.dry_run {
        for p in planned {
            println!(
                "  {:<14} {:<44} {:>5} runs",
                p.part.name,
                p.part.what,
                p.runs.len()
            );
        }
        println!("  total: {total} runs to do");
        return Ok(false);
    }
    run_missing(planned, Some(&out.join("results")), run, || Ok(()))?;
    Ok(true)
}

/// Plan, run and report a reproduction of several sweeps (the comparisons at equal T,
/// hinge against cross-entropy).
fn equal_t(
    a: &EqualTArgs,
    name: &str,
    plan: fn(&std::path::Path, bool, Planning) -> crate::Result<Vec<Planned>>,
    report: fn(&std::path::Path, &[Planned]) -> crate::Result<equal_t::Report>,
) -> Result<()> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reproduce-{name}")));
    let preset = if a.quick { " --quick" } else { "" };
    let planning = Planning::of(a.run.dry_run);
    owner::claim(&out, &format!("reproduce {name}{preset}"), planning)?;
    let planned = plan(&out, a.quick, planning)?;
    if !run_planned(&planned, &out, &a.run)? {
        return Ok(());
    }
    let report = report(&out, &planned)?;
    print_report(&report.summary, &report.path, report.figures.len(), &out);
    Ok(())
}

fn fc_mnist(a: &FcMnistArgs) -> Result<()> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reproduce-fc-mnist-{}", a.preset.name())));
    owner::claim(
        &out,
        &format!("reproduce fc-mnist --preset {}", a.preset.name()),
        Planning::of(a.run.dry_run),
    )?;
    let planned = fc_mnist::plan(
        &out,
        a.preset,
        a.data_dir.as_deref(),
        Planning::of(a.run.dry_run),
    )?;
    let missing = plan::missing(&planned);
    let total: usize = missing.iter().sum();
    if a.run.dry_run {
        println!(
            "reproduce fc-mnist --preset {} into {}",
            a.preset.name(),
            out.display()
        );
        let jobs = jobs(a.run.jobs);
        let estimates = crate::reproduce::estimate::wall_seconds(&planned, jobs)?;
        for ((p, m), e) in planned.iter().zip(&missing).zip(&estimates) {
            println!(
                "  {:<8} {:<40} {:>5} runs, {:>5} missing, about {:>4.0} min",
                p.part.name,
                p.part.what,
                p.runs.len(),
                m,
                e / 60.0
            );
        }
        println!(
            "  total: {total} runs to do, about {:.0} min with {jobs} workers (a model of the \
             laptop runs' steps times a calibrated step; nothing written: the sweep files go \
             to {} when the runs start)",
            estimates.iter().sum::<f64>() / 60.0,
            out.join("sweeps").display()
        );
        return Ok(());
    }
    run_missing(&planned, Some(&out.join("results")), &a.run, || Ok(()))?;
    let report = fc_mnist_report::write(&out, a.preset, &planned)?;
    print_report(&report.summary, &report.path, report.figures, &out);
    Ok(())
}

fn perceptron(a: &ReproduceArgs) -> Result<()> {
    let preset = if a.quick { " --quick" } else { "" };
    owner::claim(
        &a.out,
        &format!("reproduce perceptron{preset}"),
        Planning::Write,
    )?;
    let jobs = jobs(a.jobs);
    let bar = RefCell::new(ProgressBar::hidden());
    let stop = super::sweep::stop_on_signals()?;
    let ended = reproduce(
        &a.out,
        a.quick,
        jobs,
        &stop,
        |e| {
            if let Event::Finished { .. } = e {
                bar.borrow().inc(1);
            }
        },
        |total| {
            eprintln!("{total} runs to do in {}", a.out.join("results").display());
            *bar.borrow_mut() = run_bar(total, a.quiet);
        },
    )?;
    bar.borrow().finish_and_clear();
    let r = match ended {
        Ended::Reported(r) => r,
        Ended::Stopped { not_started } => return Err(stopped(&stop, not_started)),
    };
    let mut summary = r.analysis.markdown();
    for c in &r.checks {
        summary += &format!(
            "\n{:<4} {}: {} (expected {})",
            if c.pass { "pass" } else { "FAIL" },
            c.what,
            c.measured,
            c.expected
        );
    }
    print_report(&summary, &r.report, r.figures.len(), &a.out);
    Ok(())
}
