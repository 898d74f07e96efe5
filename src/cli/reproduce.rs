//! `sgd-regimes plot DIR` and `sgd-regimes reproduce perceptron`.

use crate::analysis::{analyze, load_results};
use crate::plot::figures::all_figures;
use crate::reproduce::perceptron::reproduce;
use crate::sweep::Event;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::cell::RefCell;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A results directory made by `sweep run`.
    pub dir: PathBuf,
    /// Where to write the figures (PNG and SVG) [default: DIR/figures].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn plot(a: &PlotArgs) -> Result<()> {
    let results = load_results(&a.dir)?;
    if results.is_empty() {
        bail!(
            "{}: no finished runs yet; run the sweep first",
            a.dir.display()
        );
    }
    let out = a.out.clone().unwrap_or_else(|| a.dir.join("figures"));
    let written = all_figures(&analyze(&results), &results, &out)?;
    println!(
        "wrote {} figures (PNG and SVG) to {}",
        written.len(),
        out.display()
    );
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum ReproduceCommand {
    /// The teacher-student perceptron (d=128, B=2, chi in {0,1,3}): sweep, fits, extreme-value
    /// check, figures and report. Resumable: rerun to finish an interrupted sweep.
    Perceptron(ReproduceArgs),
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
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(cmd: &ReproduceCommand) -> Result<()> {
    let ReproduceCommand::Perceptron(a) = cmd;
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let bar = RefCell::new(ProgressBar::hidden());
    let r = reproduce(
        &a.out,
        a.quick,
        jobs,
        |e| {
            if let Event::Finished { .. } = e {
                bar.borrow().inc(1);
            }
        },
        |total| {
            eprintln!("{total} runs to do in {}", a.out.join("results").display());
            if !a.quiet {
                let b =
                    ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
                b.set_style(
                    ProgressStyle::with_template(
                        "{bar:30} {pos}/{len} runs  {elapsed_precise} ETA {eta}",
                    )
                    .expect("static template"),
                );
                *bar.borrow_mut() = b;
            }
        },
    )?;
    bar.borrow().finish_and_clear();
    println!("{}", r.analysis.markdown());
    for c in &r.checks {
        println!(
            "{:<4} {}: {} (expected {})",
            if c.pass { "pass" } else { "FAIL" },
            c.what,
            c.measured,
            c.expected
        );
    }
    println!(
        "\nreport: {} ({} figures in {})",
        r.report.display(),
        r.figures.len(),
        a.out.join("figures").display()
    );
    Ok(())
}
