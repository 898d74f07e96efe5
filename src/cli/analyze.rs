//! `sgd-regimes analyze DIR`: the exponents table of a results directory.

use crate::analysis::{analyze_declared, conventions, load_sweep};
use crate::config::Regime;
use anyhow::{Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// A results directory made by `sweep run`.
    pub dir: PathBuf,
    /// Where to write exponents.md and exponents.csv [default: DIR/analysis].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The experiment's regime: lazy (T_c where dw reaches an absolute level, a = gamma/delta,
    /// measured on the test-error collapse) or feature (T_c at the plateau-to-noise crossover,
    /// a = (gamma - zeta)/delta) [default: the sweep file's [analysis] regime, else alpha <= 1
    /// is feature and larger alpha lazy].
    #[arg(long, value_enum)]
    pub regime: Option<Regime>,
}

pub fn run(a: &AnalyzeArgs) -> Result<()> {
    let (results, declared) = load_sweep(&a.dir)?;
    if results.is_empty() {
        bail!(
            "{}: no finished runs yet; run the sweep first (sgd-regimes sweep run FILE --results {})",
            a.dir.display(),
            a.dir.display()
        );
    }
    let out = a.out.clone().unwrap_or_else(|| a.dir.join("analysis"));
    // The destination is checked before the fits, and the table printed before it is written:
    // a full disk loses no analysis.
    crate::io::create_out_dir(&out)?;
    crate::io::check_destination(&out.join("exponents.md"))?;
    let analysis = analyze_declared(&results, a.regime.or(declared));
    print!("{}", analysis.markdown());
    for p in &analysis.phases {
        println!("\n{}", p.summary());
    }
    println!("\n{}", conventions());
    let md = format!("{}\n{}\n", analysis.markdown(), conventions());
    crate::io::write_atomic(&out.join("exponents.md"), md.as_bytes())
        .and_then(|()| crate::table::write(&analysis.table(), &out.join("exponents.csv")))
        .map_err(|e| anyhow::anyhow!("{e}; the analysis above was not written"))?;
    println!(
        "\nwritten: {} and {}",
        out.join("exponents.md").display(),
        out.join("exponents.csv").display()
    );
    Ok(())
}
