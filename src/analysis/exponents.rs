//! The exponents of one group of runs (method §5): power laws on the noise-dominated branch,
//! the low-T plateau, the collapse exponent `a`, the characteristic temperature `T_c(P)`, and
//! the consistency relation between them, each with its statistical error and the range over
//! which the collapse stays acceptable (`accept.rs`).
//!
//! The regime is declared (sweep file `[analysis] regime`, `analyze --regime`), else set by the
//! rule of [`Regime::by_rule`]; the two regimes define `T_c` differently:
//! - lazy: `T_c` where `dw` reaches an absolute level (each of [`LAZY_DW_LEVELS`] is reported,
//!   so one sees how `a` moves with it), `a = gamma/delta`; `a` is measured by collapsing the
//!   test-error curves against `T P^a` with a fitted height factor `P^beta`;
//! - feature: `T_c` at the crossover from the low-T plateau `dw ~ P^zeta` (checked to be flat) to
//!   the noise branch, `a = (gamma - zeta)/delta`; `a` is measured by collapsing `dw / plateau`.
//!
//! Censoring rule: a cell `(P, T)` enters the fits only if every one of its runs converged
//! (see [`Cell::censored`]). Branch: a cell is on the *noise-dominated branch* when its median is
//! at least [`BRANCH_RATIO`] (lazy, perceptron) or [`FEATURE_BRANCH_RATIO`] (feature) times the
//! curve's low-T value.

use super::accept::{Acceptable, acceptable, scan};
use super::collapse::{self, Collapse, ErrorSource, HeightCollapse, LogCurve, mismatch};
use super::curves::{Cell, Curve, Observable, curves};
use super::fit::{Estimate, ols, power_law};
use crate::config::{ModelKind, Regime, RunConfig};
use crate::train::result::{RunResult, Status};

/// Branch threshold (times the low-T value) in the lazy regime and for the perceptron.
pub const BRANCH_RATIO: f64 = 10.0;
/// Branch threshold in the feature regime, where dw grows by a small factor before `T_max`.
pub const FEATURE_BRANCH_RATIO: f64 = TC_RATIO;
/// Feature `T_c(P)`: where `dw` reaches this multiple of its plateau.
pub const TC_RATIO: f64 = 2.0;
/// Lazy `T_c(P)`: the absolute levels of `dw` reported (`dw = O(1)` lies beyond `T_max` for the
/// lazy fc on MNIST, so lower levels show how `a` moves with the level).
pub const LAZY_DW_LEVELS: [f64; 4] = [0.003, 0.01, 0.03, 0.1];
/// Range scanned for the collapse exponent.
pub const A_RANGE: (f64, f64) = (-3.0, 3.0);
/// Two lowest temperatures agree when their medians differ by at most twice the combined
/// standard error of `ln y` over seeds (but at least [`FLAT_FLOOR`], since a standard error
/// from a few seeds can be small by chance), or by [`FLAT_SINGLE_SEED`] with a single seed.
pub const FLAT_SINGLE_SEED: f64 = 0.1;
pub const FLAT_FLOOR: f64 = 0.05;

/// `y ~ T^delta P^gamma` on the noise-dominated branch.
#[derive(Clone, Debug)]
pub struct Law {
    pub delta: Estimate,
    /// `None` when the branch holds a single `P`.
    pub gamma: Option<Estimate>,
    pub points: usize,
    pub delta_accept: Option<Acceptable>,
    /// The range of gamma over which `y P^-gamma` against `T` collapses acceptably.
    pub gamma_accept: Option<Acceptable>,
}

/// Whether a curve has a low-T plateau: its two lowest temperatures agree within seed spread.
#[derive(Clone, Debug)]
pub struct PlateauCheck {
    pub p: usize,
    pub value: f64,
    /// Ratio of the second-lowest to the lowest temperature's median.
    pub step_ratio: f64,
    pub flat: bool,
}

/// Everything fitted for one observable of one group.
#[derive(Clone, Debug)]
pub struct ObservableFit {
    pub obs: Observable,
    /// Every curve (censored cells included, for the figures).
    pub curves: Vec<Curve>,
    /// Low-T value of each uncensored curve.
    pub plateau: Vec<(usize, f64)>,
    pub plateau_checks: Vec<PlateauCheck>,
    pub branch_ratio: f64,
    pub law: Option<Law>,
    /// `plateau ~ P^zeta` over the flat plateaus.
    pub zeta: Option<Estimate>,
    pub zeta_accept: Option<Acceptable>,
    /// Collapse of `y / plateau(P)` against `T P^a`.
    pub collapse: Option<Collapse>,
    pub t_c: Vec<(usize, f64)>,
    /// `T_c ~ P^(-a_c)`: the exponent `a_c`.
    pub t_c_exponent: Option<Estimate>,
}

impl ObservableFit {
    pub fn plateau_of(&self, p: usize) -> Option<f64> {
        self.plateau.iter().find(|(q, _)| *q == p).map(|x| x.1)
    }

    /// The curves the fits use: censored cells left out.
    pub fn fitted(&self) -> Vec<Curve> {
        self.curves
            .iter()
            .map(Curve::uncensored)
            .filter(|c| !c.cells.is_empty())
            .collect()
    }

    /// The (T, median) cells of curve `c` (uncensored) on the noise-dominated branch.
    pub fn branch(&self, c: &Curve) -> Vec<(f64, f64)> {
        let y0 = self.plateau_of(c.p).unwrap_or(f64::NAN);
        c.uncensored()
            .points()
            .into_iter()
            .filter(|(_, y)| *y >= self.branch_ratio * y0)
            .collect()
    }

    /// Has every curve with a plateau check a flat one? (`None` without checks.)
    pub fn plateaus_flat(&self) -> usize {
        self.plateau_checks.iter().filter(|c| c.flat).count()
    }

    /// Which curves `zeta` was fitted on, of all the group's curves.
    pub fn zeta_coverage(&self) -> ZetaCoverage {
        let flat = |p: usize| self.plateau_checks.iter().any(|k| k.p == p && k.flat);
        let checked = |p: usize| self.plateau_checks.iter().any(|k| k.p == p);
        let ps = self.curves.iter().map(|c| c.p);
        ZetaCoverage {
            flat: ps.clone().filter(|&p| flat(p)).collect(),
            not_flat: ps.clone().filter(|&p| checked(p) && !flat(p)).collect(),
            unchecked: ps.filter(|&p| !checked(p)).collect(),
        }
    }
}

/// The curves (by `P`) that the plateau exponent `zeta` was fitted on, and those it could not
/// use: a plateau that is not flat means the temperature grid does not reach low enough for
/// that `P`; an unchecked curve has fewer than two uncensored temperatures.
#[derive(Clone, Debug, PartialEq)]
pub struct ZetaCoverage {
    pub flat: Vec<usize>,
    pub not_flat: Vec<usize>,
    pub unchecked: Vec<usize>,
}

impl ZetaCoverage {
    /// All planned curves were used.
    pub fn complete(&self) -> bool {
        self.not_flat.is_empty() && self.unchecked.is_empty()
    }

    /// `k/n P`.
    pub fn fraction(&self) -> String {
        let n = self.flat.len() + self.not_flat.len() + self.unchecked.len();
        format!("{}/{n} P", self.flat.len())
    }

    /// What was left out and why, in words (empty when complete).
    pub fn note(&self) -> String {
        if self.complete() {
            return String::new();
        }
        let list = |ps: &[usize]| {
            ps.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut why = Vec::new();
        if !self.not_flat.is_empty() {
            why.push(format!(
                "no flat plateau at P = {} (the T grid does not reach low enough there)",
                list(&self.not_flat)
            ));
        }
        if !self.unchecked.is_empty() {
            why.push(format!(
                "fewer than two uncensored T at P = {}",
                list(&self.unchecked)
            ));
        }
        format!(
            "zeta fitted on {} curves of the {} planned: {}",
            self.flat.len(),
            self.flat.len() + self.not_flat.len() + self.unchecked.len(),
            why.join("; ")
        )
    }
}

/// Where `points` (increasing T) first cross `level` upwards, interpolated in log-log.
pub fn crossing(points: &[(f64, f64)], level: f64) -> Option<f64> {
    points
        .windows(2)
        .find(|w| w[0].1 < level && w[1].1 >= level)
        .map(|w| {
            let ((t0, y0), (t1, y1)) = (w[0], w[1]);
            let f = (level.ln() - y0.ln()) / (y1.ln() - y0.ln());
            (t0.ln() + f * (t1.ln() - t0.ln())).exp()
        })
}

/// `T_c ~ P^(-a)` from `(P, T_c)` pairs (at least three).
fn tc_exponent(t_c: &[(usize, f64)]) -> Option<Estimate> {
    if t_c.len() < 3 {
        return None;
    }
    let (p, t): (Vec<f64>, Vec<f64>) = t_c.iter().map(|&(p, t)| (p as f64, t)).unzip();
    power_law(&p, &t).map(|(s, _)| Estimate::new(-s.value, s.error))
}

fn plateau_check(c: &Curve) -> Option<PlateauCheck> {
    let (c0, c1): (&Cell, &Cell) = (c.cells.first()?, c.cells.get(1)?);
    let (m0, m1) = (c0.median(), c1.median());
    let gap = (m1.ln() - m0.ln()).abs();
    let tolerance = match (c0.log_standard_error(), c1.log_standard_error()) {
        (Some(a), Some(b)) => (2.0 * (a * a + b * b).sqrt()).max((1.0 + FLAT_FLOOR).ln()),
        _ => (1.0 + FLAT_SINGLE_SEED).ln(),
    };
    Some(PlateauCheck {
        p: c.p,
        value: m0,
        step_ratio: m1 / m0,
        flat: gap <= tolerance,
    })
}

/// Log curves of the branch points of `fit`, each `y` mapped by `map(T, y)` first.
fn branch_logs(fit: &ObservableFit, map: impl Fn(f64, f64) -> f64) -> Vec<LogCurve> {
    fit.curves
        .iter()
        .map(|c| LogCurve {
            ln_p: (c.p as f64).ln(),
            points: fit
                .branch(c)
                .into_iter()
                .map(|(t, y)| (t.ln(), map(t, y).ln()))
                .collect(),
        })
        .filter(|c| c.points.len() >= 2)
        .collect()
}

/// Acceptable range of a vertical exponent `e` for log curves (`y P^-e` against `T`).
fn vertical_accept(logs: &[LogCurve], center: f64) -> Option<Acceptable> {
    if logs.len() < 2 {
        return None;
    }
    acceptable(&scan(center - 2.0, center + 2.0, 0.005, |e| {
        mismatch(logs, 0.0, -e).map(f64::sqrt)
    }))
}

/// Fit everything for `obs` over `runs` (one group) in `regime`.
pub fn fit_observable(runs: &[RunResult], obs: Observable, regime: Regime) -> ObservableFit {
    let curves = curves(runs, obs);
    let fitted: Vec<Curve> = curves
        .iter()
        .map(Curve::uncensored)
        .filter(|c| !c.cells.is_empty())
        .collect();
    let plateau: Vec<(usize, f64)> = fitted.iter().map(|c| (c.p, c.cells[0].median())).collect();
    let plateau_checks: Vec<PlateauCheck> = fitted.iter().filter_map(plateau_check).collect();
    let branch_ratio = match regime {
        Regime::Feature => FEATURE_BRANCH_RATIO,
        Regime::Lazy => BRANCH_RATIO,
    };
    let mut fit = ObservableFit {
        obs,
        curves,
        plateau,
        plateau_checks,
        branch_ratio,
        law: None,
        zeta: None,
        zeta_accept: None,
        collapse: None,
        t_c: vec![],
        t_c_exponent: None,
    };

    let mut rows = Vec::new();
    let mut ys = Vec::new();
    let mut ps = std::collections::BTreeSet::new();
    for c in &fit.curves {
        for (t, y) in fit.branch(c) {
            rows.push(vec![t.ln(), (c.p as f64).ln(), 1.0]);
            ys.push(y.ln());
            ps.insert(c.p);
        }
    }
    fit.law = if ps.len() >= 2 {
        ols(&rows, &ys).map(|b| {
            // delta: residual RMS of the plane with delta fixed (gamma, c refitted).
            let delta_accept = acceptable(&scan(b[0].value - 2.0, b[0].value + 2.0, 0.005, |d| {
                let y2: Vec<f64> = ys.iter().zip(&rows).map(|(y, r)| y - d * r[0]).collect();
                let r2: Vec<Vec<f64>> = rows.iter().map(|r| vec![r[1], 1.0]).collect();
                let c = ols(&r2, &y2)?;
                let rss: f64 = y2
                    .iter()
                    .zip(&r2)
                    .map(|(y, r)| (y - c[0].value * r[0] - c[1].value).powi(2))
                    .sum();
                Some((rss / y2.len() as f64).sqrt())
            }));
            Law {
                delta: b[0],
                gamma: Some(b[1]),
                points: ys.len(),
                delta_accept,
                gamma_accept: None,
            }
        })
    } else {
        let rows: Vec<Vec<f64>> = rows.iter().map(|r| vec![r[0], 1.0]).collect();
        ols(&rows, &ys).map(|b| Law {
            delta: b[0],
            gamma: None,
            points: ys.len(),
            delta_accept: None,
            gamma_accept: None,
        })
    };
    if let Some(g) = fit.law.as_ref().and_then(|l| l.gamma) {
        let logs = branch_logs(&fit, |_, y| y);
        let accept = vertical_accept(&logs, g.value);
        if let Some(l) = fit.law.as_mut() {
            l.gamma_accept = accept;
        }
    }

    let flat: Vec<(f64, f64)> = fit
        .plateau_checks
        .iter()
        .filter(|c| c.flat)
        .map(|c| (c.p as f64, c.value))
        .collect();
    if flat.len() >= 3 {
        let (p, y): (Vec<f64>, Vec<f64>) = flat.iter().copied().unzip();
        fit.zeta = power_law(&p, &y).map(|(s, _)| s);
        if let Some(z) = fit.zeta {
            fit.zeta_accept = acceptable(&scan(z.value - 2.0, z.value + 2.0, 0.005, |z| {
                let r: Vec<f64> = flat.iter().map(|(p, y)| y.ln() - z * p.ln()).collect();
                let m = r.iter().sum::<f64>() / r.len() as f64;
                Some((r.iter().map(|v| (v - m).powi(2)).sum::<f64>() / r.len() as f64).sqrt())
            }));
        }
    }
    // The dw/plateau collapse: in the feature regime only over curves with a flat plateau.
    let collapse_curves: Vec<Curve> = fitted
        .iter()
        .filter(|c| {
            regime == Regime::Lazy || fit.plateau_checks.iter().any(|k| k.p == c.p && k.flat)
        })
        .cloned()
        .collect();
    let plateau = fit.plateau.clone();
    let norm = move |p: usize| plateau.iter().find(|(q, _)| *q == p).map_or(1.0, |x| x.1);
    fit.collapse = collapse::find(&collapse_curves, Some(&norm), A_RANGE);
    fit.t_c = collapse_curves
        .iter()
        .filter_map(|c| crossing(&c.points(), TC_RATIO * fit.plateau_of(c.p)?).map(|t| (c.p, t)))
        .collect();
    fit.t_c_exponent = tc_exponent(&fit.t_c);
    fit
}

/// `t* ~ T P^b` on the noise-dominated branch of `t*`: fit `ln(t*/T) = b ln P + c`; with the
/// range of `b` over which `t* P^-b` against `T` collapses acceptably.
pub fn fit_b(tstar: &ObservableFit) -> (Option<Estimate>, Option<Acceptable>) {
    let mut rows = Vec::new();
    let mut ys = Vec::new();
    for c in &tstar.curves {
        for (t, y) in tstar.branch(c) {
            rows.push(vec![(c.p as f64).ln(), 1.0]);
            ys.push((y / t).ln());
        }
    }
    let b = ols(&rows, &ys).map(|b| b[0]);
    let accept = b.and_then(|b| vertical_accept(&branch_logs(tstar, |t, y| y / t), b.value));
    (b, accept)
}

/// Lazy `T_c(P)` where `dw` reaches `level`, and the exponent `a` of `T_c ~ P^-a`.
#[derive(Clone, Debug)]
pub struct LevelTc {
    pub level: f64,
    pub t_c: Vec<(usize, f64)>,
    pub a: Option<Estimate>,
}

/// How a group was assigned its regime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegimeSource {
    Declared,
    /// The default rule (alpha <= 1: feature; the perceptron is lazy).
    Rule,
}

/// One row of the exponents table.
#[derive(Clone, Debug)]
pub struct GroupExponents {
    pub label: String,
    /// The config of one of its runs (T, P and seeds arbitrary): the group's parameters.
    pub config: RunConfig,
    pub model: ModelKind,
    pub regime: Regime,
    pub regime_source: RegimeSource,
    /// The observable whose laws give gamma, delta, zeta and a (dw; w_1 for the perceptron).
    pub main: ObservableFit,
    pub tstar: ObservableFit,
    pub others: Vec<ObservableFit>,
    pub b: Option<Estimate>,
    pub b_accept: Option<Acceptable>,
    /// `gamma/delta` (lazy) or `(gamma - zeta)/delta` (feature, and the perceptron, whose
    /// low-T `w_1` grows with P by the same extreme-value law).
    pub ratio: Option<Estimate>,
    pub ratio_uses_zeta: bool,
    /// Lazy networks: `T_c` at each absolute level of dw.
    pub lazy_tc: Vec<LevelTc>,
    /// Lazy networks: the test-error curves collapsed against `T P^a` with a height `P^beta`.
    pub test_collapse: Option<HeightCollapse>,
    /// Runs per status (order of [`Status::ALL`]), cells, and censored cells of the main observable.
    pub status_counts: [usize; 4],
    pub cells: usize,
    pub censored_cells: usize,
}

/// Which measurement of `a` the consistency relation is checked against.
#[derive(Clone, Debug)]
pub struct MeasuredA {
    pub a: Estimate,
    pub accept: Option<Acceptable>,
    pub how: String,
    pub collapses: bool,
    /// Where `a.error` comes from, and the bootstrap's spread over seeds (if there were seeds).
    pub error_source: ErrorSource,
    pub bootstrap_sd: Option<f64>,
}

impl MeasuredA {
    /// `value ± error [acceptable range]`; the error marked `(scan)` when it is the cost
    /// interval's, `± undetermined` when there is none.
    pub fn show(&self) -> String {
        let value = match self.error_source {
            ErrorSource::Bootstrap => self.a.show(),
            ErrorSource::Scan => format!("{} (scan)", self.a.show()),
            ErrorSource::Undetermined => format!("{:.3} ± undetermined", self.a.value),
        };
        match self.accept {
            Some(r) => format!("{value} {}", r.show()),
            None => value,
        }
    }

    /// Why the error is not the bootstrap's, in words (empty when it is).
    pub fn error_note(&self) -> String {
        let half = self.accept.map(|r| (r.hi - r.lo) / 2.0);
        let unstable = match (self.bootstrap_sd.filter(|s| s.is_finite()), half) {
            (Some(sd), Some(h)) => format!(
                "the bootstrap over seeds is unstable (spread {sd:.3} > {h:.3}, half the acceptable range)"
            ),
            _ => "one seed, no bootstrap".into(),
        };
        match self.error_source {
            ErrorSource::Bootstrap => String::new(),
            ErrorSource::Scan => format!("error from the cost scan: {unstable}"),
            ErrorSource::Undetermined => format!(
                "error undetermined: {unstable}, and the cost interval is wider than the acceptable range too"
            ),
        }
    }
}

impl GroupExponents {
    pub fn gamma(&self) -> Option<Estimate> {
        self.main.law.as_ref().and_then(|l| l.gamma)
    }

    pub fn delta(&self) -> Option<Estimate> {
        self.main.law.as_ref().map(|l| l.delta)
    }

    /// The collapse exponent of the main observable (`y / plateau` against `T P^a`).
    pub fn a(&self) -> Option<Estimate> {
        self.main.collapse.as_ref().map(|c| c.a)
    }

    /// Is this the lazy regime of a network (where `a` comes from the test error)?
    pub fn lazy_network(&self) -> bool {
        self.regime == Regime::Lazy && self.model != ModelKind::Perceptron
    }

    /// The `a` the paper compares with the ratio: lazy networks, the test-error collapse (with
    /// its height factor); otherwise the collapse of `y / plateau`.
    pub fn measured_a(&self) -> Option<MeasuredA> {
        if self.lazy_network() {
            let c = self.test_collapse.as_ref()?;
            Some(MeasuredA {
                a: c.a,
                accept: c.a_accept,
                how: format!(
                    "test error P^beta vs T P^a, beta = {} (cost {:.3})",
                    c.beta.show(),
                    c.cost
                ),
                collapses: c.collapses(),
                error_source: c.error_source,
                bootstrap_sd: Some(c.bootstrap_sd).filter(|s| s.is_finite()),
            })
        } else {
            let c = self.main.collapse.as_ref()?;
            Some(MeasuredA {
                a: c.a,
                accept: c.accept,
                how: format!(
                    "{} / plateau vs T P^a (cost {:.3})",
                    self.main.obs.name(),
                    c.cost
                ),
                collapses: c.collapses(),
                error_source: c.error_source,
                bootstrap_sd: c.bootstrap_sd,
            })
        }
    }

    /// Does Table 1 list `zeta` for this row? Only in the feature regime: the lazy plateau
    /// exponent (`dw ~ P^zeta` at the lowest T) is measured too, but is not Table 1's zeta.
    pub fn zeta_in_table1(&self) -> bool {
        self.regime == Regime::Feature
    }

    /// Does Table 1 list `a` for this row? Not for the perceptron, whose `w_1 / plateau`
    /// collapse measures how its crossover temperature moves with P (not at all, `a ~ 0`),
    /// which the paper does not tabulate.
    pub fn a_in_table1(&self) -> bool {
        self.model != ModelKind::Perceptron
    }

    /// The consistency of the measured `a` with the ratio (method §5); `None` when either is
    /// missing.
    pub fn verdict(&self) -> Option<Verdict> {
        let (Some(m), Some(r)) = (self.measured_a(), self.ratio) else {
            return None;
        };
        let in_range = m.accept.is_some_and(|acc| acc.contains(r.value));
        let sigma = (m.a.error.powi(2) + r.error.powi(2)).sqrt();
        let within = sigma.is_finite() && (m.a.value - r.value).abs() <= 2.0 * sigma;
        Some(Verdict {
            agreement: match (in_range, within) {
                (true, true) => Agreement::Consistent,
                (true, false) => Agreement::InRange,
                (false, true) => Agreement::TwoSigma,
                (false, false) => Agreement::Differ,
            },
            weak_collapse: !m.collapses,
        })
    }
}

/// How the measured `a` compares with the exponent ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// The ratio lies in the acceptable range of `a` and within two combined standard errors.
    Consistent,
    /// In the acceptable range only.
    InRange,
    /// Within two combined standard errors only.
    TwoSigma,
    Differ,
}

/// A row's verdict: the agreement, and whether the collapse that measured `a` is weak (cost
/// above [`collapse::NO_COLLAPSE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub agreement: Agreement,
    pub weak_collapse: bool,
}

impl Verdict {
    pub fn is_consistent(&self) -> bool {
        self.agreement != Agreement::Differ
    }
}

impl std::fmt::Display for Verdict {
    /// `consistent`, `consistent (acceptable range)`, `consistent (2 sigma)` or `differ`, then
    /// `; weak collapse` when it is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.agreement {
            Agreement::Consistent => "consistent",
            Agreement::InRange => "consistent (acceptable range)",
            Agreement::TwoSigma => "consistent (2 sigma)",
            Agreement::Differ => "differ",
        })?;
        if self.weak_collapse {
            f.write_str("; weak collapse")?;
        }
        Ok(())
    }
}

pub fn fit_group(
    label: &str,
    config: &RunConfig,
    runs: &[RunResult],
    regime: Regime,
    regime_source: RegimeSource,
) -> GroupExponents {
    let model = config.model;
    let perceptron = model == ModelKind::Perceptron;
    let main_obs = if perceptron {
        Observable::W1
    } else {
        Observable::WeightChange
    };
    let main = fit_observable(runs, main_obs, regime);
    let tstar = fit_observable(runs, Observable::TStar, regime);
    let mut others = vec![fit_observable(runs, Observable::TestError, regime)];
    if perceptron {
        others.push(fit_observable(runs, Observable::WPerp, regime));
        others.push(fit_observable(runs, Observable::WeightChange, regime));
    }
    let (b, b_accept) = fit_b(&tstar);
    let ratio_uses_zeta = regime == Regime::Feature || perceptron;
    let ratio = main.law.as_ref().and_then(|l| {
        let g = l.gamma?;
        let d = l.delta;
        let z = if ratio_uses_zeta {
            main.zeta?
        } else {
            Estimate::new(0.0, 0.0)
        };
        let r = (g.value - z.value) / d.value;
        let err = ((g.error.powi(2) + z.error.powi(2)) / d.value.powi(2)
            + (r * d.error / d.value).powi(2))
        .sqrt();
        Some(Estimate::new(r, err))
    });
    let lazy = regime == Regime::Lazy && !perceptron;
    let lazy_tc = if lazy {
        let fitted = main.fitted();
        LAZY_DW_LEVELS
            .iter()
            .map(|&level| {
                let t_c: Vec<(usize, f64)> = fitted
                    .iter()
                    .filter_map(|c| crossing(&c.points(), level).map(|t| (c.p, t)))
                    .collect();
                LevelTc {
                    level,
                    a: tc_exponent(&t_c),
                    t_c,
                }
            })
            .collect()
    } else {
        vec![]
    };
    let test_collapse = if lazy {
        others[0]
            .fitted()
            .len()
            .ge(&2)
            .then(|| collapse::find_with_height(&others[0].fitted(), (-1.5, 2.5)))
            .flatten()
    } else {
        None
    };
    let mut status_counts = [0usize; 4];
    for r in runs {
        let k = Status::ALL.iter().position(|s| *s == r.status).unwrap_or(0);
        status_counts[k] += 1;
    }
    let mut cells = std::collections::BTreeSet::new();
    let mut bad = std::collections::BTreeSet::new();
    for r in runs {
        let key = (r.config.p, r.config.temperature_value().to_bits());
        cells.insert(key);
        if r.status != Status::Converged {
            bad.insert(key);
        }
    }
    GroupExponents {
        label: label.to_string(),
        config: config.clone(),
        model,
        regime,
        regime_source,
        main,
        tstar,
        others,
        b,
        b_accept,
        ratio,
        ratio_uses_zeta,
        lazy_tc,
        test_collapse,
        status_counts,
        cells: cells.len(),
        censored_cells: bad.len(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::{analyze, analyze_declared};
    use crate::config::{DatasetKind, RunConfig};
    use crate::train::result::{Counters, Derived, Observables, RunResult, Status, Timing};

    /// A converged run with the given final `dw`, `t*` and test error.
    pub fn synthetic_run(
        model: ModelKind,
        p: usize,
        t: f64,
        seed: u64,
        dw: f64,
        t_star: f64,
    ) -> RunResult {
        let config = RunConfig {
            model,
            dataset: DatasetKind::DepletedSign,
            p,
            temperature: Some(t),
            seed_init: seed,
            alpha: 100.0,
            ..RunConfig::default()
        }
        .normalized()
        .unwrap();
        let perceptron = model == ModelKind::Perceptron;
        let obs = Observables {
            t: t_star,
            step: 1,
            train_loss: 0.0,
            train_error: 0.0,
            unfitted: 0,
            test_loss: 0.0,
            test_error: 0.1,
            weight_norm: dw,
            weight_distance: dw,
            weight_change: if perceptron { f64::NAN } else { dw },
            w_1: perceptron.then_some(dw),
            w_perp: perceptron.then_some(t),
            layers: vec![],
            extra: Default::default(),
        };
        RunResult {
            schema: String::new(),
            version: String::new(),
            config,
            derived: Derived {
                temperature: t,
                lr: t * 16.0,
                margin: 0.01,
                n_params: 1,
                input_shape: [1, 1, 1],
                data_source: String::new(),
                data_files: Vec::new(),
            },
            status: Status::Converged,
            status_detail: String::new(),
            final_state: obs.clone(),
            stopping_point: None,
            trajectory: vec![obs],
            counters: Counters::default(),
            timing: Timing::default(),
            adopted_from: None,
        }
    }

    /// dw = c P^zeta (1 + (T / T_c(P))^delta), T_c = 1e-3 P^-a; t* = t0 (1 + T P^b / 1e-2) ... with noise.
    pub(crate) fn synthetic(
        delta: f64,
        zeta: f64,
        a: f64,
        b: f64,
        noise: f64,
        seeds: u64,
    ) -> Vec<RunResult> {
        let mut s = 3u64;
        let mut u = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            1.0 + noise * ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        };
        let mut out = vec![];
        for p in [128usize, 256, 512, 1024, 2048, 4096] {
            let pf = p as f64;
            for k in 0..33 {
                let t = 2f64.powf(-24.0 + 0.5 * k as f64);
                let tc = 1e-3 * pf.powf(-a);
                let dw = 1e-3 * pf.powf(zeta) * (1.0 + (t / tc).powf(delta));
                let tstar = 1.0 + t * pf.powf(b) * 1e4;
                for seed in 0..seeds {
                    out.push(synthetic_run(
                        ModelKind::Fc,
                        p,
                        t,
                        seed,
                        dw * u(),
                        tstar * u(),
                    ));
                }
            }
        }
        out
    }

    #[test]
    fn recovers_known_exponents() {
        let (delta, zeta, a, b) = (1.0, 0.2, 0.5, 0.3);
        let runs = synthetic(delta, zeta, a, b, 0.1, 3);
        let g = fit_group(
            "synthetic",
            &runs[0].config,
            &runs,
            Regime::Lazy,
            RegimeSource::Declared,
        );
        let law = g.main.law.as_ref().unwrap();
        let gamma = zeta + a * delta;
        // Within the stated error bars, widened by the crossover's residual curvature on the branch.
        assert!(
            (law.delta.value - delta).abs() < 0.05 && law.delta.error < 0.05,
            "{:?}",
            law.delta
        );
        assert!(
            (law.gamma.unwrap().value - gamma).abs() < 0.05,
            "{:?}",
            law.gamma
        );
        assert!(
            g.main.zeta.unwrap().agrees_with(zeta, 3.0)
                || (g.main.zeta.unwrap().value - zeta).abs() < 0.02,
            "{:?}",
            g.main.zeta
        );
        let c = g.main.collapse.as_ref().unwrap();
        assert!(
            c.collapses() && (c.a.value - a).abs() <= c.a.error.max(0.03),
            "{:?} cost {}",
            c.a,
            c.cost
        );
        assert!((g.b.unwrap().value - b).abs() < 0.05, "{:?}", g.b);
        assert!(
            (g.main.t_c_exponent.unwrap().value - a).abs() < 0.05,
            "{:?}",
            g.main.t_c_exponent
        );
        assert_eq!(g.regime, Regime::Lazy);
        let r = g.ratio.unwrap();
        // Lazy ratio gamma/delta = zeta + a here, the collapse gives a: they differ by zeta.
        assert!((r.value - gamma / delta).abs() < 0.07, "{r:?}");
    }

    #[test]
    fn feature_regime_uses_gamma_minus_zeta() {
        // Large dw at low T: feature regime; (gamma - zeta)/delta must equal a. At the largest
        // P one seed of the three highest temperatures stalls: those cells are censored.
        let runs: Vec<RunResult> = synthetic(1.0, 0.2, 0.5, 0.3, 0.05, 2)
            .into_iter()
            .map(|mut r| {
                r.final_state.weight_change *= 1e3;
                if r.config.p == 4096
                    && r.config.seed_init == 1
                    && r.config.temperature_value() > 2f64.powf(-9.25)
                {
                    r.status = Status::Stalled;
                }
                r
            })
            .collect();
        let g = fit_group(
            "synthetic",
            &runs[0].config,
            &runs,
            Regime::Feature,
            RegimeSource::Declared,
        );
        assert_eq!(g.regime, Regime::Feature);
        assert_eq!((g.status_counts[2], g.censored_cells), (3, 3));
        assert_eq!(g.main.fitted().last().unwrap().cells.len(), 33 - 3);
        assert!(g.main.plateau_checks.iter().all(|c| c.flat));
        let (r, a) = (g.ratio.unwrap(), g.a().unwrap());
        assert!(
            (r.value - 0.5).abs() < 0.1 && (a.value - 0.5).abs() < 0.05,
            "ratio {r:?}, a {a:?}"
        );
        let v = g.verdict().unwrap();
        assert!(v.is_consistent(), "{v}");
        // The acceptable range of a holds the true value and is of the paper's size (~±0.2).
        let acc = g.measured_a().unwrap().accept.unwrap();
        assert!(acc.contains(0.5) && acc.hi - acc.lo < 1.0, "{acc:?}");
    }

    /// Lazy synthetic runs: dw = 1e-5 P^0.2 + 1e-2 T P^0.5 (delta = 1, gamma = 0.5: dw reaches
    /// 0.01 at T_c = P^-0.5, a = gamma/delta = 0.5), test error = 0.2 P^-0.3 (1 - 0.4 s(T P^0.5))
    /// with s a smooth step at T P^0.5 = 0.3 (a = 0.5, beta = 0.3), t* = T P^1.2.
    fn lazy_runs(seeds: u64) -> Vec<RunResult> {
        let mut s = 7u64;
        let mut u = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            1.0 + 0.04 * ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5)
        };
        let mut out = vec![];
        for p in [256usize, 512, 1024, 2048, 4096] {
            let pf = p as f64;
            for k in 0..41 {
                let t = 2f64.powf(-16.0 + 0.5 * k as f64);
                let dw = 1e-5 * pf.powf(0.2) + 1e-2 * t * pf.sqrt();
                let x = (t * pf.sqrt() / 0.3).ln();
                let err = 0.2 * pf.powf(-0.3) * (1.0 - 0.4 * 0.5 * (1.0 + x.tanh()));
                for seed in 0..seeds {
                    let mut r =
                        synthetic_run(ModelKind::Fc, p, t, seed, dw * u(), t * pf.powf(1.2) * u());
                    r.config.alpha = 32768.0;
                    r.final_state.test_error = err * u();
                    out.push(r);
                }
            }
        }
        out
    }

    #[test]
    fn lazy_t_c_at_an_absolute_level_and_the_test_error_collapse() {
        let runs = lazy_runs(3);
        let g = fit_group(
            "lazy",
            &runs[0].config,
            &runs,
            Regime::Lazy,
            RegimeSource::Declared,
        );
        let r = g.ratio.unwrap();
        assert!((r.value - 0.5).abs() < 0.03, "gamma/delta {r:?}");
        // T_c where dw = 0.01 scales as P^-0.5 (every P crosses that level).
        let level = g.lazy_tc.iter().find(|l| l.level == 0.01).unwrap();
        assert_eq!(level.t_c.len(), 5);
        let a = level.a.unwrap();
        assert!((a.value - 0.5).abs() < 0.03, "{a:?}");
        // The test-error curves collapse with a = 0.5 and a height factor P^0.3.
        let c = g.test_collapse.as_ref().unwrap();
        assert!(c.collapses(), "cost {}", c.cost);
        assert!((c.a.value - 0.5).abs() < 0.08, "{:?}", c.a);
        assert!((c.beta.value - 0.3).abs() < 0.03, "{:?}", c.beta);
        assert!(g.measured_a().unwrap().how.contains("test error"));
        let v = g.verdict().unwrap();
        assert!(v.is_consistent(), "{v}");
        assert!((g.b.unwrap().value - 1.2).abs() < 0.03, "{:?}", g.b);
        assert!(g.b_accept.unwrap().contains(1.2));
    }

    #[test]
    fn the_regime_is_declared_or_set_by_the_stated_rule() {
        let runs = lazy_runs(1);
        let by_rule = analyze(&runs);
        assert_eq!(by_rule.groups.len(), 1);
        assert_eq!(by_rule.groups[0].regime, Regime::Lazy);
        assert_eq!(by_rule.groups[0].regime_source, RegimeSource::Rule);
        let declared = analyze_declared(&runs, Some(Regime::Feature));
        assert_eq!(declared.groups[0].regime, Regime::Feature);
        assert_eq!(declared.groups[0].regime_source, RegimeSource::Declared);
        assert!(declared.markdown().contains("feature (declared)"));
        // A feature-regime CNN at alpha = 1 (the paper's mnas setting) is feature by the rule,
        // whatever its dw; the perceptron is lazy.
        let mut cnn = runs.clone();
        for r in &mut cnn {
            r.config.model = ModelKind::Mnas;
            r.config.alpha = 1.0;
        }
        assert_eq!(analyze(&cnn).groups[0].regime, Regime::Feature);
        assert_eq!(Regime::by_rule(ModelKind::Perceptron, 0.01), Regime::Lazy);
    }

    #[test]
    fn censored_cells_are_counted_and_left_out_of_the_fits() {
        let mut runs = lazy_runs(3);
        // At the largest P, one seed of each of the 8 highest temperatures diverges, and one
        // seed of the lowest temperature runs out of budget.
        let tmax = 2f64.powf(4.0);
        for r in &mut runs {
            let t = r.config.temperature_value();
            if r.config.p == 4096 && r.config.seed_init == 0 {
                if t > tmax / 2f64.powf(4.0) {
                    r.status = Status::Diverged;
                    r.final_state.weight_change = 1e30;
                } else if t < 2f64.powf(-15.9) {
                    r.status = Status::Budget;
                }
            }
        }
        let g = fit_group(
            "lazy",
            &runs[0].config,
            &runs,
            Regime::Lazy,
            RegimeSource::Declared,
        );
        assert_eq!(g.status_counts, [5 * 41 * 3 - 9, 8, 0, 1]);
        assert_eq!((g.cells, g.censored_cells), (5 * 41, 9));
        let curve = g.main.curves.iter().find(|c| c.p == 4096).unwrap();
        assert_eq!(curve.cells.iter().filter(|c| c.censored()).count(), 9);
        assert_eq!(
            g.main
                .fitted()
                .iter()
                .find(|c| c.p == 4096)
                .unwrap()
                .cells
                .len(),
            41 - 9
        );
        // The exponents are unchanged by the censored cells.
        let r = g.ratio.unwrap();
        assert!((r.value - 0.5).abs() < 0.03, "{r:?}");
        let md = crate::analysis::Analysis {
            groups: vec![g],
            phases: vec![],
            windows: vec![],
        }
        .markdown();
        assert!(md.contains("| 606 / 8 / 0 / 1 | 205 | 9 |"), "{md}");
    }
}
