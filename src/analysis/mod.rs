//! Analysis (method §5): fits of power laws, scaling collapses, characteristic temperatures,
//! phase diagrams, from the results of a sweep, as typed values; `report.rs` renders them as
//! Markdown and as the exponents table.

pub mod accept;
pub mod collapse;
pub mod curves;
pub mod drift;
pub mod evt;
pub mod exponents;
pub mod fit;
pub mod phase;
mod report;
pub use report::conventions;
pub mod variants;

use crate::config::Regime;
use crate::error::Result;
use crate::sweep::{RunStore, Stored};
use crate::train::result::RunResult;
use exponents::{GroupExponents, RegimeSource, fit_group};
use phase::PhaseDiagram;
use std::path::Path;

/// Every finished run of the sweep stored in `dir`.
pub fn load_results(dir: &Path) -> Result<Vec<RunResult>> {
    Ok(load_sweep(dir)?.0)
}

/// Every finished run of the sweep stored in `dir`, and the regime its sweep file declares.
pub fn load_sweep(dir: &Path) -> Result<(Vec<RunResult>, Option<Regime>)> {
    let (store, spec) = RunStore::open(dir)?;
    let mut out = Vec::new();
    for r in spec.runs()? {
        if let Stored::Done(result) = store.load(&r.id)? {
            out.push(*result);
        }
    }
    Ok((out, spec.regime))
}

/// All groups' exponents and all phase diagrams of a set of runs.
pub struct Analysis {
    pub groups: Vec<GroupExponents>,
    pub phases: Vec<PhaseDiagram>,
    /// Each group's exponents on the lower and upper part of its P range (same order as
    /// `groups`; empty for a group with fewer than four sizes).
    pub windows: Vec<Vec<drift::WindowFit>>,
}

/// Analyse with the regime declared for every group, or (`None`) the default rule per group.
pub fn analyze_declared(results: &[RunResult], regime: Option<Regime>) -> Analysis {
    let (groups, windows) = curves::group_runs(results, true)
        .into_iter()
        .map(|g| {
            let (r, source) = match regime {
                Some(r) => (r, RegimeSource::Declared),
                None => (
                    Regime::by_rule(g.config.model, g.config.alpha),
                    RegimeSource::Rule,
                ),
            };
            (
                fit_group(&g.label, &g.config, &g.runs, r, source),
                drift::window_fits(&g.label, &g.config, &g.runs, r, source),
            )
        })
        .unzip();
    Analysis {
        groups,
        phases: phase::phase_diagrams(results),
        windows,
    }
}

/// Analyse with the default regime rule.
pub fn analyze(results: &[RunResult]) -> Analysis {
    analyze_declared(results, None)
}
