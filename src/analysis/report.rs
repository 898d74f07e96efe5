//! The analysis rendered (method §5): the exponents table as Markdown and as typed columns
//! (`exponents.csv`), the conventions in words, the fit-window drift. Everything here reads
//! [`Analysis`] and its [`GroupExponents`]; nothing computes.

use super::accept::{ACCEPT_FRACTION, ACCEPT_RMS, Acceptable};
use super::exponents::{
    BRANCH_RATIO, FEATURE_BRANCH_RATIO, GroupExponents, LAZY_DW_LEVELS, RegimeSource, TC_RATIO,
};
use super::fit::Estimate;
use super::{Analysis, drift};
use crate::table::{Cell, Table};
use crate::train::result::Status;

fn show(e: Option<Estimate>) -> String {
    e.map_or("-".into(), |e| e.show())
}

/// `value ± error [acceptable range]`.
fn show_both(e: Option<Estimate>, r: Option<Acceptable>) -> String {
    match (e, r) {
        (Some(e), Some(r)) => format!("{} {}", e.show(), r.show()),
        (e, _) => show(e),
    }
}

/// The branch selection, censoring and collapse conventions, in words (printed with every table).
pub fn conventions() -> String {
    format!(
        "Regime: declared (sweep file [analysis] regime, or analyze --regime), else by rule (alpha <= 1: feature; otherwise, and for the perceptron, lazy). \
         Censoring: a cell (P, T) enters the fits only if every run in it converged; other cells are counted and drawn hollow. \
         Noise-dominated branch: cells whose median over seeds is >= {BRANCH_RATIO} x (lazy) or >= {FEATURE_BRANCH_RATIO} x (feature) the curve's value at its lowest T. \
         gamma, delta: fit of ln y = delta ln T + gamma ln P + c on that branch (y = dw; w_1 for the perceptron); b: ln(t*/T) = b ln P + c on the t* branch. \
         zeta: plateau ~ P^zeta over the curves whose plateau is flat (two lowest T agree within twice their combined standard error over seeds, and at least within 5%). \
         a: lazy networks, collapse of the test-error curves against T P^a with a fitted height factor P^beta, compared with gamma/delta; feature (and perceptron), collapse of y/plateau against T P^a, compared with (gamma - zeta)/delta. \
         Lazy T_c(P): where dw reaches an absolute level ({}), with a from T_c ~ P^-a at each level. Feature T_c(P): where dw reaches {TC_RATIO} x its plateau. \
         Errors: value ± one standard error (fits) or bootstrap/scan error (collapses), then [range] over which the collapse stays acceptable: RMS log-distance between curves at most sqrt(min^2 + tol^2) with tol = ln(1.15) = {ACCEPT_RMS:.3} (the paper's visual criterion, about ±0.2 on a; for the collapses in T P^a, tol = {ACCEPT_FRACTION} x the curves' within-curve standard deviation of ln y when that is smaller, as for test errors that vary little). \
         Verdict: consistent when the ratio lies in a's acceptable range and/or within two combined standard errors; 'weak collapse' when the collapse cost exceeds 0.1.",
        LAZY_DW_LEVELS.map(|l| l.to_string()).join(", ")
    )
}

/// The fit-window drift of one group as Markdown: its exponents on all P and on the lower and
/// upper windows, statistical errors only (empty without windows).
fn window_table(g: &GroupExponents, windows: &[drift::WindowFit]) -> String {
    if windows.is_empty() {
        return String::new();
    }
    let ratio_name = if g.ratio_uses_zeta {
        "(gamma-zeta)/delta"
    } else {
        "gamma/delta"
    };
    let zeta_name = if g.zeta_in_table1() {
        "zeta"
    } else {
        "lazy plateau exponent"
    };
    let mut s = format!(
        "\nFit-window drift ({}): the exponents refitted on the lower and upper sizes of the P range, statistical errors only; an exponent that moves by more than its errors between the windows is still drifting with P.\n\n| P window | b | gamma | delta | {zeta_name} | {ratio_name} | a |\n|---|---|---|---|---|---|---|\n",
        g.label
    );
    let all = drift::WindowFit {
        label: "all P".into(),
        ps: vec![],
        fit: g.clone(),
    };
    for w in std::iter::once(&all).chain(windows) {
        let f = &w.fit;
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            w.label,
            show(f.b),
            show(f.gamma()),
            show(f.delta()),
            show(f.main.zeta),
            show(f.ratio),
            f.measured_a().map_or("-".into(), |m| m.show())
        );
    }
    s
}

/// One group's line of the exponents table (the layout of the paper's Table 1).
fn exponents_line(g: &GroupExponents) -> String {
    let ratio_name = if g.ratio_uses_zeta { "(g-z)/d" } else { "g/d" };
    let m = g.measured_a();
    let source = match g.regime_source {
        RegimeSource::Declared => "declared",
        RegimeSource::Rule => "by rule",
    };
    let coverage = g.main.zeta_coverage();
    let zeta = format!(
        "{}{}{}",
        if g.zeta_in_table1() {
            ""
        } else {
            "(lazy plateau) "
        },
        show_both(g.main.zeta, g.main.zeta_accept),
        if coverage.complete() || g.main.zeta.is_none() {
            String::new()
        } else {
            format!(" ({})", coverage.fraction())
        }
    );
    let how = m.as_ref().map_or("-".into(), |m| {
        let note = m.error_note();
        if note.is_empty() {
            m.how.clone()
        } else {
            format!("{}; {note}", m.how)
        }
    });
    format!(
        "| {} / {} ({source}) | {} | {} | {} | {} | {} = {} | {} | {} | {} |\n",
        g.label,
        g.regime,
        show_both(g.b, g.b_accept),
        show_both(g.gamma(), g.main.law.as_ref().and_then(|l| l.gamma_accept)),
        show_both(g.delta(), g.main.law.as_ref().and_then(|l| l.delta_accept)),
        zeta,
        ratio_name,
        show(g.ratio),
        m.as_ref().map_or("-".into(), |m| m.show()),
        how,
        g.verdict().map_or("-".into(), |v| v.to_string())
    )
}

/// What one group's table rows cannot say: why a row has no exponents, the plateaus' coverage
/// and flatness, the lazy plateau exponent and the perceptron's a (not Table 1's), and the
/// lazy `T_c(P)` levels.
fn group_notes(g: &GroupExponents) -> String {
    let mut s = String::new();
    // Issue #23, case 14: a row of dashes says why.
    let sizes: std::collections::BTreeSet<usize> = g.main.fitted().iter().map(|c| c.p).collect();
    if sizes.len() < 2 {
        s += &format!(
                "
No exponents for {}: gamma, zeta, b and a compare training-set sizes, and its converged runs cover {}; add sizes to the grid (e.g. `p = [256, 512, 1024]`).
",
                g.label,
                match sizes.first() {
                    Some(p) => format!("one P ({p})"),
                    None => "no P".into(),
                }
            );
    }
    let coverage = g.main.zeta_coverage();
    if !coverage.complete() {
        s += &format!("\n{} ({}).\n", coverage.note(), g.label);
    }
    if !g.zeta_in_table1() && g.main.zeta.is_some() {
        s += &format!(
            "\nLazy plateau exponent {} ({}): {} ~ P^zeta at the lowest T; measured, but not Table 1's zeta, which belongs to the feature regime (its Table 1 row shows -).\n",
            show(g.main.zeta),
            g.label,
            g.main.obs.name()
        );
    }
    if let (false, Some(m)) = (g.a_in_table1(), g.measured_a()) {
        s += &format!(
            "\na = {} ({}): the shift T P^a that collapses {} / plateau, i.e. how the crossover temperature of {} moves with P (a ~ 0: it does not); the paper's Table 1 gives no a for the perceptron, so its Table 1 row shows -.\n",
            m.show(),
            g.label,
            g.main.obs.name(),
            g.main.obs.name()
        );
    }
    if !g.main.plateau_checks.is_empty() {
        s += &format!("\nLow-T plateau of {} ({}): ", g.main.obs.name(), g.label);
        let parts: Vec<String> = g
            .main
            .plateau_checks
            .iter()
            .map(|k| {
                format!(
                    "P={} {:.3e} (next T x{:.3}, {})",
                    k.p,
                    k.value,
                    k.step_ratio,
                    if k.flat { "flat" } else { "not flat" }
                )
            })
            .collect();
        s += &parts.join("; ");
        s += "\n";
    }
    s += &lazy_tc_table(g);
    s
}

/// The lazy `T_c(P)` of one group at absolute levels of dw, as a Markdown table (empty when
/// it has none).
fn lazy_tc_table(g: &GroupExponents) -> String {
    let mut s = String::new();
    if !g.lazy_tc.is_empty() {
        s += &format!(
            "\nLazy T_c(P) at absolute levels of dw ({}); gamma/delta = {}:\n\n| dw level | P crossing | a (T_c ~ P^-a) |\n|---|---|---|\n",
            g.label,
            show(g.ratio)
        );
        for l in &g.lazy_tc {
            s += &format!(
                "| {} | {} | {} |\n",
                l.level,
                l.t_c
                    .iter()
                    .map(|(p, _)| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                show(l.a)
            );
        }
    }
    s
}

impl Analysis {
    /// The exponents table in Markdown, in the layout of the paper's Table 1, then the details
    /// (censoring, plateaus, lazy T_c levels).
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "| model / regime | b | gamma | delta | zeta | gamma/delta or (gamma-zeta)/delta | a | a measured by | verdict |\n|---|---|---|---|---|---|---|---|---|\n",
        );
        for g in &self.groups {
            s += &exponents_line(g);
        }
        s += "\n| group | runs: converged / diverged / stalled / budget | cells (P, T) | censored cells (left out of fits) | branch points |\n|---|---|---|---|---|\n";
        for g in &self.groups {
            let c = g.status_counts;
            s += &format!(
                "| {} | {} / {} / {} / {} | {} | {} | {} |\n",
                g.label,
                c[0],
                c[1],
                c[2],
                c[3],
                g.cells,
                g.censored_cells,
                g.main.law.as_ref().map_or(0, |l| l.points)
            );
        }
        for (g, windows) in self.groups.iter().zip(&self.windows) {
            s += &window_table(g, windows);
        }
        for g in &self.groups {
            s += &group_notes(g);
        }
        s
    }

    /// The exponents table as a [`Table`] (for CSV): the group's parameters as columns, then
    /// every exponent with its error and acceptable range, the fit windows' exponents, and
    /// the run and cell counts.
    pub fn table(&self) -> Table {
        let mut t = Table::default();
        for (g, windows) in self.groups.iter().zip(&self.windows) {
            let mut row = config_cells(g);
            row.extend(exponent_cells(g));
            row.extend(window_cells(windows));
            row.extend(count_cells(g));
            t.push(row);
        }
        t
    }
}

type Row = Vec<(String, Cell)>;

/// An estimate as `[value, error]` cells (null when missing or not finite).
fn num(e: Option<Estimate>) -> [Cell; 2] {
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
}

/// An acceptable range as `[lo, hi]` cells.
fn range(r: Option<Acceptable>) -> [Cell; 2] {
    r.map_or([Cell::Null, Cell::Null], |r| {
        [Cell::Float(r.lo), Cell::Float(r.hi)]
    })
}

/// The group: its label, its net and data, its regime and the observable fitted.
fn config_cells(g: &GroupExponents) -> Row {
    let opt_int = |v: Option<usize>| v.map_or(Cell::Null, |v| Cell::Int(v as i64));
    let c = &g.config;
    vec![
        ("group".to_string(), Cell::Str(g.label.clone())),
        ("model".into(), Cell::Str(c.model.to_string())),
        ("dataset".into(), Cell::Str(c.dataset.to_string())),
        ("alpha".into(), Cell::Float(c.alpha)),
        ("batch".into(), Cell::Int(c.batch as i64)),
        ("width".into(), opt_int(c.width)),
        ("depth".into(), opt_int(c.depth)),
        (
            "activation".into(),
            c.activation
                .map_or(Cell::Null, |a| Cell::Str(a.to_string())),
        ),
        ("dim".into(), opt_int(c.dim)),
        ("chi".into(), c.chi.map_or(Cell::Null, Cell::Float)),
        ("regime".into(), Cell::Str(g.regime.to_string())),
        (
            "regime_source".into(),
            Cell::Str(
                match g.regime_source {
                    RegimeSource::Declared => "declared",
                    RegimeSource::Rule => "rule",
                }
                .into(),
            ),
        ),
        ("observable".into(), Cell::Str(g.main.obs.name().into())),
    ]
}

/// Every exponent with `_err`, `_lo` and `_hi`; how a was measured; the plateau coverage;
/// the verdict; the lazy T_c exponents per dw level.
fn exponent_cells(g: &GroupExponents) -> Row {
    let mut row = Row::new();
    let m = g.measured_a();
    let law = g.main.law.as_ref();
    for (name, e, r) in [
        ("b", g.b, g.b_accept),
        ("gamma", g.gamma(), law.and_then(|l| l.gamma_accept)),
        ("delta", g.delta(), law.and_then(|l| l.delta_accept)),
        ("zeta", g.main.zeta, g.main.zeta_accept),
        ("ratio", g.ratio, None),
        (
            "a",
            m.as_ref().map(|m| m.a),
            m.as_ref().and_then(|m| m.accept),
        ),
        (
            "beta",
            g.test_collapse.as_ref().map(|c| c.beta),
            g.test_collapse.as_ref().and_then(|c| c.beta_accept),
        ),
        ("a_tc", g.main.t_c_exponent, None),
    ] {
        let [v, err] = num(e);
        let [lo, hi] = range(r);
        row.push((name.to_string(), v));
        row.push((format!("{name}_err"), err));
        row.push((format!("{name}_lo"), lo));
        row.push((format!("{name}_hi"), hi));
    }
    row.push((
        "a_measured_by".into(),
        m.as_ref().map_or(Cell::Null, |m| Cell::Str(m.how.clone())),
    ));
    row.push((
        "a_err_source".into(),
        m.as_ref()
            .map_or(Cell::Null, |m| Cell::Str(m.error_source.as_str().into())),
    ));
    let coverage = g.main.zeta_coverage();
    row.push(("zeta_curves".into(), Cell::Int(coverage.flat.len() as i64)));
    row.push((
        "zeta_curves_planned".into(),
        Cell::Int(g.main.curves.len() as i64),
    ));
    row.push((
        "verdict".into(),
        Cell::Str(g.verdict().map_or("-".into(), |v| v.to_string())),
    ));
    for l in &g.lazy_tc {
        let [v, err] = num(l.a);
        row.push((format!("a_tc_dw_{}", l.level), v));
        row.push((format!("a_tc_dw_{}_err", l.level), err));
    }
    row
}

/// The exponents refitted on the lower and upper P windows (`_lower`, `_upper`).
fn window_cells(windows: &[drift::WindowFit]) -> Row {
    let mut row = Row::new();
    for (w, side) in windows.iter().zip(["lower", "upper"]) {
        let f = &w.fit;
        row.push((
            format!("p_{side}"),
            Cell::Str(
                w.ps.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        ));
        let m = f.measured_a();
        for (name, e) in [
            ("b", f.b),
            ("gamma", f.gamma()),
            ("delta", f.delta()),
            ("zeta", f.main.zeta),
            ("ratio", f.ratio),
            ("a", m.as_ref().map(|m| m.a)),
        ] {
            let [v, err] = num(e);
            row.push((format!("{name}_{side}"), v));
            row.push((format!("{name}_{side}_err"), err));
        }
    }
    row
}

/// Runs per status, cells, censored cells and branch points.
fn count_cells(g: &GroupExponents) -> Row {
    let mut row: Row = Status::ALL
        .iter()
        .enumerate()
        .map(|(k, status)| {
            (
                format!("runs_{status}"),
                Cell::Int(g.status_counts[k] as i64),
            )
        })
        .collect();
    row.push(("cells".into(), Cell::Int(g.cells as i64)));
    row.push(("censored_cells".into(), Cell::Int(g.censored_cells as i64)));
    row.push((
        "branch_points".into(),
        g.main
            .law
            .as_ref()
            .map_or(Cell::Null, |l| Cell::Int(l.points as i64)),
    ));
    row
}
