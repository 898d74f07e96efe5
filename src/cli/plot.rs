//! `sgd-regimes plot DIR`: the figures of a results directory (PNG and SVG).

use crate::analysis::{analyze_declared, load_sweep};
use crate::plot::figures::all_figures;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A results directory made by `sweep run`.
    pub dir: PathBuf,
    /// Where to write the figures (PNG and SVG) [default: DIR/figures].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(a: &PlotArgs) -> Result<()> {
    let (results, regime) = load_sweep(&a.dir)?;
    if results.is_empty() {
        bail!(
            "{}: no finished runs yet; run the sweep first",
            a.dir.display()
        );
    }
    let out = a.out.clone().unwrap_or_else(|| a.dir.join("figures"));
    crate::io::create_out_dir(&out)?;
    crate::io::check_destination(&out.join("figure.png"))?;
    let written = all_figures(&analyze_declared(&results, regime), &results, &out)?;
    println!(
        "wrote {} figures (PNG and SVG) to {}",
        written.len(),
        out.display()
    );
    Ok(())
}
