//! `sgd-regimes reproduce perceptron`: the teacher-student perceptron of method §5 on
//! `depleted-sign` data (d = 128, B = 2) for chi in {0, 1, 3}: the sweep, the fits, the
//! extreme-value Monte-Carlo, the figures and a Markdown report.
//!
//! Checks (printed and in the report): `gamma = 1/(1+chi)` within 0.05 (from `w_1 ~ T^delta
//! P^gamma`), the slope of `|w_perp|` in T is 1 within 0.1 and its P exponent is ~0, and the
//! extreme-value exponent is within 0.05 of `1/(1+chi)`.

use super::plan::{self, Part, Planned, ints, log2, table};
use toml::Table;
use super::{QuickArgs, QuickReproduction, Report};
use crate::analysis::curves::Observable;
use crate::analysis::evt::{EvtCheck, evt_check};
use crate::analysis::{Analysis, analyze, conventions, load_results};
use crate::error::Result;
use crate::plot::figures::{all_figures, slug};
use crate::plot::trajectories::perceptron_trajectories;
use std::fmt::Write as _;
use std::path::Path;

/// One sweep per chi: the number of steps to convergence grows as `P^b` with `b` from ~1.2
/// (chi = 3) to ~2.4 (chi = 0), so each chi gets the widest P range that stays affordable.
fn sweep(chi: u32, quick: bool) -> Table {
    let (p_max_log2, seeds, t_step) = match (chi, quick) {
        (0, false) => (12, 8, 1.0),
        (1, false) => (14, 8, 1.0),
        (_, false) => (15, 8, 1.0),
        (0, true) => (11, 4, 2.0),
        (1, true) => (12, 4, 2.0),
        (_, true) => (13, 4, 2.0),
    };
    let ps: Vec<i64> = (8..=p_max_log2).map(|k| 1 << k).collect();
    let base = table([
        ("model", "perceptron".into()),
        ("dataset", "depleted-sign".into()),
        ("dim", 128.into()),
        ("chi", f64::from(chi).into()),
        ("batch", 2.into()),
        ("alpha", 32768.into()),
        ("p_test", 1024.into()),
        ("max_steps", 40_000_000.into()),
    ]);
    let grid = table([
        ("temperature", log2(-18, -2, t_step)),
        ("p", ints(&ps)),
        ("seed", plan::seeds(seeds)),
    ]);
    table([("base", base.into()), ("grid", grid.into())])
}

/// The chi values of the reproduction.
pub const CHIS: [u32; 3] = [0, 1, 3];

/// Tolerances of the checks.
pub const GAMMA_TOL: f64 = 0.05;
pub const WPERP_SLOPE_TOL: f64 = 0.1;
pub const EVT_TOL: f64 = 0.05;

/// One check and whether it passed.
#[derive(Clone, Debug)]
pub struct Check {
    pub what: String,
    pub measured: String,
    pub expected: String,
    pub pass: bool,
}

/// `reproduce perceptron`.
#[derive(clap::Args, Clone, Debug)]
pub struct Perceptron {
    #[command(flatten)]
    pub args: QuickArgs,
}

impl QuickReproduction for Perceptron {
    const NAME: &'static str = "perceptron";

    fn args(&self) -> &QuickArgs {
        &self.args
    }

    fn parts(quick: bool) -> Vec<Part> {
        parts(quick)
    }

    fn report(&self, out: &Path, planned: &[Planned]) -> Result<Report> {
        report(out, planned, self.args.quick)
    }
}

/// One part per chi: `sweeps/chi<chi>.toml`, results in `results/chi<chi>`.
fn parts(quick: bool) -> Vec<Part> {
    CHIS.iter()
        .map(|&chi| Part {
            name: match chi {
                0 => "chi0",
                1 => "chi1",
                _ => "chi3",
            },
            what: match chi {
                0 => "perceptron, chi = 0",
                1 => "perceptron, chi = 1",
                _ => "perceptron, chi = 3",
            },
            regime: None,
            title: format!(
                "sgd-regimes reproduce perceptron{}: chi = {chi}",
                if quick { " --quick" } else { "" }
            ),
            sweep: sweep(chi, quick),
        })
        .collect()
}

/// Analyse the runs done so far (all chi), run the extreme-value Monte-Carlo, check, draw, and
/// write `report.md` and `analysis/exponents.{md,csv}`; the summary is the exponents table and
/// the checks.
fn report(out: &Path, planned: &[Planned], quick: bool) -> Result<Report> {
    let n_runs: usize = planned.iter().map(|p| p.runs.len()).sum();
    let mut results = Vec::new();
    for p in planned {
        results.extend(load_results(&p.store.dir)?);
    }
    let analysis = analyze(&results);
    let ps: Vec<usize> = if quick {
        (8..=15).map(|k| 1 << k).collect()
    } else {
        (8..=16).map(|k| 1 << k).collect()
    };
    let reps = if quick { 150 } else { 400 };
    let evt: Vec<EvtCheck> = [0.0, 1.0, 3.0]
        .iter()
        .filter_map(|&chi| evt_check(chi, &ps, reps, 7))
        .collect();

    let mut checks = Vec::new();
    for g in &analysis.groups {
        // The group's own config holds chi (its label is for people).
        let Some(chi) = g.config.chi else {
            continue;
        };
        let predicted = 1.0 / (1.0 + chi);
        if let Some(gamma) = g.gamma() {
            checks.push(Check {
                what: format!("chi = {chi}: gamma of w_1 ~ T^delta P^gamma"),
                measured: gamma.show(),
                expected: format!("1/(1+chi) = {predicted:.3} ± {GAMMA_TOL}"),
                pass: (gamma.value - predicted).abs() <= GAMMA_TOL,
            });
        }
        if let Some(law) = g
            .others
            .iter()
            .find(|f| f.obs == Observable::WPerp)
            .and_then(|f| f.law.clone())
        {
            checks.push(Check {
                what: format!("chi = {chi}: slope of |w_perp| in T"),
                measured: law.delta.show(),
                expected: format!("1 ± {WPERP_SLOPE_TOL}"),
                pass: (law.delta.value - 1.0).abs() <= WPERP_SLOPE_TOL,
            });
            if let Some(g_perp) = law.gamma {
                checks.push(Check {
                    what: format!("chi = {chi}: P exponent of |w_perp| (independent of P)"),
                    measured: g_perp.show(),
                    expected: format!("0 ± {WPERP_SLOPE_TOL}"),
                    pass: g_perp.value.abs() <= WPERP_SLOPE_TOL,
                });
            }
        }
    }
    for e in &evt {
        checks.push(Check {
            what: format!("chi = {}: extreme-value exponent of max c/|x_1|", e.chi),
            measured: e.exponent.show(),
            expected: format!("1/(1+chi) = {:.3} ± {EVT_TOL}", e.predicted),
            pass: (e.exponent.value - e.predicted).abs() <= EVT_TOL,
        });
    }

    let mut figures = all_figures(&analysis, &results, &out.join("figures"))?;
    figures.extend(perceptron_trajectories(&results, &out.join("figures"))?);
    let analysis_dir = out.join("analysis");
    std::fs::create_dir_all(&analysis_dir).map_err(|e| crate::Error::io(&analysis_dir, e))?;
    crate::io::write_atomic(
        &analysis_dir.join("exponents.md"),
        format!("{}\n{}\n", analysis.markdown(), conventions()).as_bytes(),
    )?;
    crate::table::write(&analysis.table(), &analysis_dir.join("exponents.csv"))?;
    let mut summary = analysis.markdown();
    for c in &checks {
        summary += &format!(
            "\n{:<4} {}: {} (expected {})",
            if c.pass { "pass" } else { "FAIL" },
            c.what,
            c.measured,
            c.expected
        );
    }
    Report::write(
        out,
        &report_text(&analysis, &evt, &checks, quick, n_runs),
        figures.len(),
        summary,
    )
}

fn report_text(
    analysis: &Analysis,
    evt: &[EvtCheck],
    checks: &[Check],
    quick: bool,
    n_runs: usize,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Perceptron on depleted-sign data: SGD noise and the extreme-value law\n"
    );
    let _ = writeln!(
        s,
        "Preset: {} ({n_runs} runs: d = 128, B = 2, alpha = 32768, chi in {{0, 1, 3}}; one sweep per chi in `sweeps/`, results in `results/chi*/`).\n",
        if quick { "`--quick`" } else { "default" }
    );
    let _ = writeln!(
        s,
        "## Checks\n\n| check | measured | expected | |\n|---|---|---|---|"
    );
    for c in checks {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            c.what,
            c.measured,
            c.expected,
            if c.pass { "pass" } else { "FAIL" }
        );
    }
    let _ = writeln!(
        s,
        "\n## Exponents\n\n{}\n{}\n",
        analysis.markdown(),
        conventions()
    );
    let _ = writeln!(
        s,
        "## Extreme-value Monte-Carlo\n\nTypical `max_mu c_mu/|x_1^mu|` (exp of the mean log over repetitions) against P:\n"
    );
    let _ = writeln!(
        s,
        "| chi | P range | exponent | 1/(1+chi) |\n|---|---|---|---|"
    );
    for e in evt {
        let _ = writeln!(
            s,
            "| {} | {} .. {} | {} | {:.3} |",
            e.chi,
            e.points[0].0,
            e.points[e.points.len() - 1].0,
            e.exponent.show(),
            e.predicted
        );
    }
    let _ = writeln!(s, "\n## Figures\n");
    for g in &analysis.groups {
        let sl = slug(&g.label);
        let _ = writeln!(s, "### {}\n", g.label);
        for (name, caption) in [
            ("w1_raw", "w_1 against T, one curve per P"),
            (
                "w1_scaled",
                "w_1 P^(-1/(1+chi)) against T: the curves meet on the noise-dominated branch",
            ),
            ("wperp_raw", "|w_perp| against T: slope 1, independent of P"),
            ("tstar_scaled", "t* P^(-b) against T"),
            (
                "w1_trajectory_by_T",
                "w_1(t) at one P, one curve per T (the paper's Fig. 21)",
            ),
            (
                "wperp_trajectory_by_T",
                "|w_perp|(t) at one P, one curve per T",
            ),
            ("w1_trajectory_by_P", "w_1(t) at one T, one curve per P"),
        ] {
            let _ = writeln!(s, "![{caption}](figures/{sl}__{name}.png)\n");
        }
    }
    s
}
