//! Analysis (SPEC §5): fits of power laws, scaling collapses, characteristic temperatures,
//! phase diagrams, and the exponents table, from the results of a sweep.

pub mod collapse;
pub mod curves;
pub mod evt;
pub mod exponents;
pub mod fit;
pub mod phase;

use crate::error::Result;
use crate::sweep::{RunStore, Stored};
use crate::table::{Cell, Table};
use crate::train::result::RunResult;
use exponents::{BRANCH_RATIO, GroupExponents, TC_RATIO, fit_group};
use fit::Estimate;
use phase::PhaseDiagram;
use std::path::Path;

/// Every finished run of the sweep stored in `dir`.
pub fn load_results(dir: &Path) -> Result<Vec<RunResult>> {
    let (store, spec) = RunStore::open(dir)?;
    let mut out = Vec::new();
    for r in spec.runs()? {
        if let Stored::Done(result) = store.load(&r.id)? {
            out.push(*result);
        }
    }
    Ok(out)
}

/// All groups' exponents and all phase diagrams of a set of runs.
pub struct Analysis {
    pub groups: Vec<GroupExponents>,
    pub phases: Vec<PhaseDiagram>,
}

/// Analyse with a declared regime (`None`: the sweep's declaration or the default rule).
pub fn analyze_declared(results: &[RunResult], _regime: Option<crate::config::Regime>) -> Analysis {
    analyze(results)
}

pub fn analyze(results: &[RunResult]) -> Analysis {
    let groups = curves::group_runs(results, true)
        .into_iter()
        .map(|g| fit_group(&g.label, g.config.model, &g.runs))
        .collect();
    Analysis {
        groups,
        phases: phase::phase_diagrams(results),
    }
}

fn show(e: Option<Estimate>) -> String {
    e.map_or("-".into(), |e| e.show())
}

/// The branch selection and collapse conventions, in words (printed with every table).
pub fn conventions() -> String {
    format!(
        "Noise-dominated branch: cells (P, T) whose median over seeds is >= {BRANCH_RATIO} x the curve's value at its lowest T. \
         gamma, delta: fit of ln y = delta ln T + gamma ln P + c on that branch (y = dw; w_1 for the perceptron); b: ln(t*/T) = b ln P + c on the t* branch; \
         zeta: plateau ~ P^zeta. a: collapse of y/plateau(P) against T P^a (also for the test error; the lazy relation gamma/delta is checked against the test-error collapse, the others against that of y) (error: interval where the normalized cost <= {}x its minimum, or the bootstrap over seeds; cost > {} = no collapse). \
         T_c(P): where y reaches {TC_RATIO} x its plateau. Errors are one standard error.",
        collapse::COST_FACTOR,
        collapse::NO_COLLAPSE
    )
}

impl Analysis {
    /// The exponents table in Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "| model / regime | b | gamma | delta | zeta | gamma/delta or (gamma-zeta)/delta | a (collapse of main) | collapse cost | a (test-error collapse) | a vs ratio |\n|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for g in &self.groups {
            let ratio_name = if g.ratio_uses_zeta { "(g-z)/d" } else { "g/d" };
            let cost = g.main.collapse.as_ref().map_or("-".into(), |c| {
                format!(
                    "{:.3}{}",
                    c.cost,
                    if c.collapses() { "" } else { " (no collapse)" }
                )
            });
            let agree = match g.consistent(2.0) {
                Some(true) => "consistent",
                Some(false) => "differ",
                None => "-",
            };
            s += &format!(
                "| {} / {} | {} | {} | {} | {} | {} = {} | {} | {} | {} | {} |\n",
                g.label,
                g.regime,
                show(g.b),
                show(g.gamma()),
                show(g.delta()),
                show(g.main.zeta),
                ratio_name,
                show(g.ratio),
                show(g.a()),
                cost,
                show(g.a_test()),
                agree
            );
        }
        s
    }

    /// The exponents table as a [`Table`] (for CSV).
    pub fn table(&self) -> Table {
        let mut t = Table::default();
        let num = |e: Option<Estimate>| -> [Cell; 2] {
            match e {
                Some(e) if e.value.is_finite() => [
                    Cell::Float(e.value),
                    if e.error.is_finite() {
                        Cell::Float(e.error)
                    } else {
                        Cell::Null
                    },
                ],
                _ => [Cell::Null, Cell::Null],
            }
        };
        for g in &self.groups {
            let mut row = vec![
                ("group".to_string(), Cell::Str(g.label.clone())),
                ("regime".into(), Cell::Str(g.regime.into())),
                ("observable".into(), Cell::Str(g.main.obs.name().into())),
            ];
            for (name, e) in [
                ("b", g.b),
                ("gamma", g.gamma()),
                ("delta", g.delta()),
                ("zeta", g.main.zeta),
                ("ratio", g.ratio),
                ("a", g.a()),
                ("a_test_error", g.a_test()),
                ("a_tc", g.main.t_c_exponent),
            ] {
                let [v, err] = num(e);
                row.push((name.to_string(), v));
                row.push((format!("{name}_err"), err));
            }
            row.push((
                "collapse_cost".into(),
                g.main
                    .collapse
                    .as_ref()
                    .map_or(Cell::Null, |c| Cell::Float(c.cost)),
            ));
            row.push((
                "branch_points".into(),
                g.main
                    .law
                    .as_ref()
                    .map_or(Cell::Null, |l| Cell::Int(l.points as i64)),
            ));
            t.push(row);
        }
        t
    }
}
