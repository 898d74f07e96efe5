//! Command-line interface: parsing with clap, one module per subcommand, and the error policy:
//! every failure is one line on stderr (`error: ...`) and a non-zero exit code, never a panic.

mod analyze;
mod bench;
mod collect;
mod data;
mod plot;
mod progress;
mod reproduce;
mod slurm;
mod status;
mod sweep;
mod train;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Measure how SGD noise changes what neural networks learn, in the lazy and feature-learning
/// regimes: train with the hinge loss until every training point is fitted, at temperature
/// T = lr / batch and initialization scale alpha.
#[derive(Parser, Debug)]
#[command(name = "sgd-regimes", version, about, long_about = None, propagate_version = true, args_override_self = true)]
#[command(
    after_help = "Example:\n  sgd-regimes train --model fc --dataset mnist-parity --p 1024 --p-test 2048 \\\n      --alpha 32768 --lr 0.016 --batch 16 --out run.json"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train one network until the hinge loss is zero; print a summary and write a JSON result.
    Train(Box<train::TrainArgs>),
    /// Plan or run a sweep: a grid of runs from a TOML file, one result file per run.
    #[command(subcommand)]
    Sweep(sweep::SweepCommand),
    /// Write (and --submit) a Slurm job array for the missing runs of a sweep.
    Slurm(slurm::SlurmArgs),
    /// Count the converged, diverged, budget, failed and missing runs of a results directory.
    Status(status::StatusArgs),
    /// Gather a results directory into one table (CSV or Parquet), one row per run.
    Collect(collect::CollectArgs),
    /// Fit the exponents of a results directory (b, gamma, delta, zeta, a) and write the table.
    Analyze(analyze::AnalyzeArgs),
    /// Draw the figures of a results directory (PNG and SVG).
    Plot(plot::PlotArgs),
    /// Reproduce a published result with one command: sweep, fits, figures, report.
    #[command(subcommand)]
    Reproduce(reproduce::ReproduceCommand),
    /// Time SGD steps and full-set evaluations against baselines measured in the same run.
    Bench(bench::BenchArgs),
    /// Download the real data sets (MNIST, CIFAR-10) and check their SHA-256.
    #[command(subcommand)]
    Data(data::DataCommand),
}

/// Parse the command line and run; the binary's `main` is just this.
pub fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of stdout goes away
    // (`sgd-regimes status DIR | head`) instead of failing on every later write.
    // SAFETY: resetting a signal disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    one_line_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            eprintln!("{}", one_line_clap_error(&e));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Train(args) => train::run(&args),
        Command::Sweep(cmd) => sweep::run(&cmd),
        Command::Slurm(args) => slurm::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Collect(args) => collect::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Plot(args) => plot::run(&args),
        Command::Reproduce(cmd) => reproduce::run(&cmd),
        Command::Bench(args) => bench::run(&args),
        Command::Data(cmd) => data::run(&cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&format!("{e:#}")));
            match e.downcast_ref::<sweep::Stopped>() {
                Some(s) => ExitCode::from((128 + s.signal) as u8),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// A panic is a bug; say so in one line (where, and what) instead of a backtrace, unless the
/// user asked for one with `RUST_BACKTRACE`. In a sweep the run is then recorded as failed
/// and the sweep goes on (`sweep::runner`).
fn one_line_panics() {
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        let what = crate::error::panic_message(info.payload());
        let place = info
            .location()
            .map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!(
            "error: internal error (a bug in sgd-regimes; please report it with the command): {}{place}",
            one_line(&what)
        );
    }));
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// clap's errors span several lines (message, possible values, usage, a tip); keep the message
/// and the possible values on one line and point at `--help`.
fn one_line_clap_error(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let kept: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    format!("{} (see --help)", kept.join(" "))
}

/// A count of at least one (`--jobs 0` is a usage error, not "one job").
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}
