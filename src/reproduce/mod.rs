//! One-command reproductions of published results.
//!
//! Each reproduction is one file holding a type that is both its command-line arguments
//! (`clap::Args`) and a [`Reproduction`]: its parts (sweep files), its report. [`ALL`] lists
//! them (one line each in the `reproductions!` call below); the CLI's one driver
//! (`cli/reproduce.rs`) claims the output directory, plans, prints a `--dry-run`, runs what is
//! missing in one queue and writes the report, the same way for every one (ARCHITECTURE.md,
//! "Adding a reproduction").

pub mod equal_t;
pub mod estimate;
pub mod fc_mnist_report;
pub mod owner;
pub mod plan;
#[macro_use]
pub mod registry;
pub mod table1_report;
pub mod timing;

// The registry: one line per reproduction (`module::Type => "subcommand", "help";`), which
// declares its module and lists it in `ALL`, the order `reproduce --help` shows.
reproductions! {
    perceptron::Perceptron => "perceptron", "The teacher-student perceptron (d=128, B=2, chi in {0,1,3}): sweep, fits, extreme-value check, figures and report. Resumable: rerun to finish an interrupted sweep.";
    fc_mnist::FcMnist => "fc-mnist", "The paper's fully-connected results on MNIST parity: Table 1's lazy and feature FC rows and the (alpha, T) phase diagram of Fig. 1a. Runs the missing runs of three sweeps (resumable: interrupt and rerun), then fits, draws and writes report.md.";
    table1::Table1 => "table1", "Every row of the paper's Table 1 that the data here allows: FC (from `reproduce fc-mnist`), mnas and simple-cnn lazy on MNIST parity, perceptron at chi = 1.5 and 4, and with CIFAR-10 the CIFAR rows and Fig. 1b. Resumable; --dry-run estimates the time per row.";
    eta_over_b::EtaOverB => "eta-over-b", "SGD's effect is set by T = eta/B (the paper's Figs. 18-19): fc on MNIST parity, P = 1024, temperatures x batch sizes 4 .. 128 at alpha = 1 and alpha = 32768; figures of test error, dw and t* against T (one colour per B) and a verdict per observable. About 10 minutes on 2 cores; resumable.";
    sgd_vs_sde::SgdVsSde => "sgd-vs-sde", "SGD against its SDE (full-batch gradient plus Gaussian noise with SGD's mini-batch covariance) at equal T: fc on MNIST parity, B = 16, lazy (P = 1024) and alpha = 1 (P = 256); figures of test error, dw and t* against T and a verdict per observable. Resumable.";
    decision_boundary::DecisionBoundary => "decision-boundary", "The paper's Fig. 5: decision boundaries learnt at increasing T in two dimensions (32 points; the perceptron and a one-hidden-layer fc net), drawn over the true boundary. A few seconds.";
    hinge_vs_ce::HingeVsCe => "hinge-vs-ce", "The lazy fc exponents with the hinge loss and with cross-entropy stopped early (the paper's Fig. 17): the same grid, the same analysis; Table 1's row per loss and figures. Resumable.";
}

use crate::error::Result;
use plan::{Planned, Planning};
use std::path::{Path, PathBuf};

/// A one-command reproduction: what it runs and what it reports.
pub trait Reproduction {
    /// The command that makes it, as its directory records it (`reproduce fc-mnist --preset
    /// laptop`): another command is refused that directory.
    fn command(&self) -> String;
    /// Its output directory (sweeps/, results/, figures/, report.md).
    fn out(&self) -> PathBuf;
    /// How it runs (`--dry-run`, `--no-run`, `--jobs`, `--quiet`).
    fn run_flags(&self) -> RunFlags {
        RunFlags::default()
    }
    /// Other reproductions' directories its runs go into, each with the command that owns it
    /// (Table 1's FC rows run in `reproduce fc-mnist`'s directory).
    fn shared_dirs(&self) -> Vec<(PathBuf, String)> {
        Vec::new()
    }
    /// Its parts, planned: the sweep files written and the results directories opened (with
    /// [`Planning::DryRun`], only read).
    fn plan(&self, out: &Path, planning: Planning) -> Result<Plan>;
    /// Whether `--dry-run` estimates each part's wall time (`estimate`: a model of fc runs).
    fn estimates_wall_time(&self) -> bool {
        false
    }
    /// A sentence `--dry-run` prints under the plan.
    fn dry_run_note(&self, _out: &Path) -> Option<String> {
        None
    }
    /// Whether the wall time of its runs is kept in `OUT/timing.json` for its report.
    fn keeps_timing(&self) -> bool {
        false
    }
    /// Analyse the runs done so far, draw the figures and write the report.
    fn report(&self, out: &Path, plan: &Plan) -> Result<Report>;
}

/// The planned parts of a reproduction, and the ones it skips with the reason.
#[derive(Default)]
pub struct Plan {
    pub planned: Vec<Planned>,
    pub skipped: Vec<Skipped>,
}

/// A part not run, and why (e.g. no CIFAR-10 here).
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub name: &'static str,
    pub what: &'static str,
    pub reason: String,
}

/// What a reproduction wrote.
pub struct Report {
    /// `report.md`.
    pub path: PathBuf,
    /// How many figures, and the directory they are in.
    pub figures: usize,
    pub figure_dir: PathBuf,
    /// What the terminal shows: the main table and verdicts.
    pub summary: String,
}

impl Report {
    /// Write `text` as `out/report.md` (atomically) and describe it.
    pub fn write(out: &Path, text: &str, figures: usize, summary: String) -> Result<Self> {
        let path = out.join("report.md");
        crate::io::write_atomic(&path, text.as_bytes())?;
        Ok(Report {
            path,
            figures,
            figure_dir: out.join("figures"),
            summary,
        })
    }
}

/// How a reproduction runs.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct RunFlags {
    /// Print the plan (each part's runs, how many are missing; for fc-mnist and table1 an
    /// estimated wall time on this machine) and stop, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Analyse and report the runs that exist, without running the missing ones.
    #[arg(long)]
    pub no_run: bool,
    /// Runs in parallel [default: all cores].
    #[arg(long, short, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub jobs: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// The arguments of a reproduction with one full size and a `--quick` smoke test.
#[derive(clap::Args, Clone, Debug)]
pub struct QuickArgs {
    /// Output directory (sweeps/, results/, figures/, report.md) [default:
    /// reproduce-<command>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A smoke test: a smaller grid and fewer seeds, with rougher results.
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub run: RunFlags,
}

/// A reproduction whose arguments are [`QuickArgs`] and whose parts depend on `--quick` alone:
/// it says its name, its parts and its report; the rest of [`Reproduction`] follows.
pub trait QuickReproduction {
    /// The subcommand (`eta-over-b`).
    const NAME: &'static str;
    fn args(&self) -> &QuickArgs;
    /// Its sweeps, full size or `--quick`.
    fn parts(quick: bool) -> Vec<plan::Part>;
    /// Analyse, draw and write the report from the runs done so far.
    fn report(&self, out: &Path, planned: &[Planned]) -> Result<Report>;
}

impl<R: QuickReproduction> Reproduction for R {
    fn command(&self) -> String {
        self.args().command(R::NAME)
    }

    fn out(&self) -> PathBuf {
        self.args().out(R::NAME)
    }

    fn run_flags(&self) -> RunFlags {
        self.args().run.clone()
    }

    fn plan(&self, out: &Path, planning: Planning) -> Result<Plan> {
        Ok(Plan {
            planned: plan::plan_parts(out, R::parts(self.args().quick), planning)?,
            skipped: Vec::new(),
        })
    }

    fn report(&self, out: &Path, plan: &Plan) -> Result<Report> {
        QuickReproduction::report(self, out, &plan.planned)
    }
}

impl QuickArgs {
    /// `reproduce <name>` (with ` --quick`), the command a directory records.
    pub fn command(&self, name: &str) -> String {
        let quick = if self.quick { " --quick" } else { "" };
        format!("reproduce {name}{quick}")
    }

    /// `--out`, else `reproduce-<name>`.
    pub fn out(&self, name: &str) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("reproduce-{name}")))
    }
}
