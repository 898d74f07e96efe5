//! The `(alpha, T)` phase diagram at fixed `P` (method §5): median test error per cell, how many
//! runs of each cell converged, diverged, stalled or ran out of budget, the largest stable
//! temperature `T_max(alpha)` (with two stated definitions of instability) and its exponent `k`
//! (`T_max ~ alpha^k`) fitted in the feature regime, the lazy `T_max` (expected independent of
//! alpha), and the temperature of lowest test error `T_opt(alpha)`.

use super::curves::{Group, group_runs, median};
use super::fit::{Estimate, power_law};
use crate::train::result::{RunResult, Status};
use std::collections::BTreeMap;

/// alpha at or below which a column counts as feature-learning for the fit of `k` (the
/// default regime rule of the analysis, `analysis::regime`); above it, lazy.
pub const FEATURE_ALPHA: f64 = 1.0;

/// What makes a cell unstable when `T_max` is located.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instability {
    /// A majority of its runs blew up to non-finite values (`diverged`): the authors' rule.
    Diverged,
    /// A majority of its runs diverged or stalled (dead ReLUs after large steps).
    DivergedOrStalled,
}

impl Instability {
    pub fn describe(self) -> &'static str {
        match self {
            Instability::Diverged => "diverged (non-finite)",
            Instability::DivergedOrStalled => "diverged or stalled",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PhaseCell {
    pub alpha: f64,
    pub t: f64,
    /// Median test error over converged runs.
    pub test_error: Option<f64>,
    /// Runs per status, in the order of [`Status::ALL`].
    pub counts: [usize; 4],
    pub runs: usize,
}

impl PhaseCell {
    pub fn count(&self, s: Status) -> usize {
        self.counts[Status::ALL.iter().position(|x| *x == s).unwrap_or(0)]
    }

    pub fn converged(&self) -> usize {
        self.count(Status::Converged)
    }

    /// Most of its runs are unstable in the sense of `how`.
    pub fn unstable(&self, how: Instability) -> bool {
        let bad = match how {
            Instability::Diverged => self.count(Status::Diverged),
            Instability::DivergedOrStalled => {
                self.count(Status::Diverged) + self.count(Status::Stalled)
            }
        };
        2 * bad > self.runs
    }
}

/// `T_max(alpha)` under one definition of instability, with its fits.
#[derive(Clone, Debug)]
pub struct TMax {
    pub how: Instability,
    /// Per alpha: geometric mean of the largest stable and the smallest unstable temperature
    /// above it (columns with no unstable cell, or unstable from the lowest T, have none).
    pub points: Vec<(f64, f64)>,
    /// `T_max ~ alpha^k` over the feature-regime alphas (`<=` [`FEATURE_ALPHA`]).
    pub k: Option<Estimate>,
    /// The same slope over the lazy alphas (expected ~0: `T_max` independent of alpha).
    pub lazy_slope: Option<Estimate>,
    /// Geometric mean of the lazy `T_max`.
    pub lazy_mean: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct PhaseDiagram {
    pub label: String,
    pub p: usize,
    pub alphas: Vec<f64>,
    pub temperatures: Vec<f64>,
    pub cells: Vec<PhaseCell>,
    /// `T_max` counting only blow-ups (the authors' definition; the one the figures draw), and
    /// counting stalled runs as unstable too.
    pub t_max: TMax,
    pub t_max_with_stalled: TMax,
    /// Per alpha: the temperature of lowest median test error among cells whose every run
    /// converged, and that error.
    pub t_opt: Vec<(f64, f64, f64)>,
}

impl PhaseDiagram {
    /// The exponent `k` of the blow-up definition.
    pub fn k(&self) -> Option<Estimate> {
        self.t_max.k
    }

    /// Runs per status over the whole diagram, as `N converged, N diverged, ...`.
    pub fn status_counts(&self) -> String {
        Status::ALL
            .iter()
            .map(|s| {
                let n: usize = self.cells.iter().map(|c| c.count(*s)).sum();
                format!("{n} {s}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A few lines in words: status counts, `T_max` and `k` under both definitions, the lazy
    /// `T_max`, and `T_opt` next to `T_max` per alpha.
    pub fn summary(&self) -> String {
        let show = |e: Option<Estimate>| e.map_or("-".into(), |e| e.show());
        let mut s = format!(
            "phase diagram {} at P = {}: {} alphas x {} temperatures; runs: {}\n\n",
            self.label,
            self.p,
            self.alphas.len(),
            self.temperatures.len(),
            self.status_counts()
        );
        for tm in [&self.t_max, &self.t_max_with_stalled] {
            s += &format!(
                "- unstable = majority {}: feature k (alpha <= {FEATURE_ALPHA}, {} points) = {}; lazy T_max = {} (slope in alpha {})\n",
                tm.how.describe(),
                tm.points.iter().filter(|p| p.0 <= FEATURE_ALPHA).count(),
                show(tm.k),
                tm.lazy_mean.map_or("-".into(), |t| format!("{t:.3e}")),
                show(tm.lazy_slope),
            );
        }
        s += "\n| alpha | T_max (diverged) | T_max (diverged or stalled) | T_opt | test error at T_opt |\n|---|---|---|---|---|\n";
        for &a in &self.alphas {
            let find = |v: &[(f64, f64)]| {
                v.iter()
                    .find(|p| p.0 == a)
                    .map_or("-".into(), |p| format!("{:.3e}", p.1))
            };
            let opt = self.t_opt.iter().find(|o| o.0 == a);
            s += &format!(
                "| {a:.4e} | {} | {} | {} | {} |\n",
                find(&self.t_max.points),
                find(&self.t_max_with_stalled.points),
                opt.map_or("-".into(), |o| format!("{:.3e}", o.1)),
                opt.map_or("-".into(), |o| format!("{:.4}", o.2)),
            );
        }
        s
    }
}

/// Slope of `ln T_max` against `ln alpha` (an exact line through two points has no error).
fn slope(points: &[(f64, f64)]) -> Option<Estimate> {
    let (a, t): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
    match a.len() {
        0 | 1 => None,
        2 => Some(Estimate::new(
            (t[1].ln() - t[0].ln()) / (a[1].ln() - a[0].ln()),
            f64::NAN,
        )),
        _ => power_law(&a, &t).map(|(s, _)| s),
    }
}

fn t_max(cells: &[PhaseCell], alphas: &[f64], how: Instability) -> TMax {
    let points: Vec<(f64, f64)> = alphas
        .iter()
        .filter_map(|&a| {
            let mut col: Vec<&PhaseCell> = cells.iter().filter(|c| c.alpha == a).collect();
            col.sort_by(|x, y| x.t.total_cmp(&y.t));
            let k = col.iter().position(|c| c.unstable(how))?;
            (k > 0).then(|| (a, (col[k - 1].t * col[k].t).sqrt()))
        })
        .collect();
    let feature: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(a, _)| *a <= FEATURE_ALPHA)
        .collect();
    let lazy: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(a, _)| *a > FEATURE_ALPHA)
        .collect();
    let lazy_mean = (!lazy.is_empty())
        .then(|| (lazy.iter().map(|p| p.1.ln()).sum::<f64>() / lazy.len() as f64).exp());
    TMax {
        how,
        k: slope(&feature),
        lazy_slope: slope(&lazy),
        lazy_mean,
        points,
    }
}

/// One diagram per group (all but alpha, T, P and seeds) and `P`, where at least two alphas exist.
pub fn phase_diagrams(results: &[RunResult]) -> Vec<PhaseDiagram> {
    let mut out = Vec::new();
    for Group { label, runs, .. } in group_runs(results, false) {
        let mut by_p: BTreeMap<usize, Vec<&RunResult>> = BTreeMap::new();
        for r in &runs {
            by_p.entry(r.config.p).or_default().push(r);
        }
        for (p, runs) in by_p {
            // (alpha, T) -> (test errors of converged runs, cell)
            let mut acc: BTreeMap<(u64, u64), (Vec<f64>, PhaseCell)> = BTreeMap::new();
            for r in runs {
                let (a, t) = (r.config.alpha, r.config.temperature_value());
                let e = acc.entry((a.to_bits(), t.to_bits())).or_insert((
                    vec![],
                    PhaseCell {
                        alpha: a,
                        t,
                        test_error: None,
                        counts: [0; 4],
                        runs: 0,
                    },
                ));
                e.1.runs += 1;
                let k = Status::ALL.iter().position(|s| *s == r.status).unwrap_or(0);
                e.1.counts[k] += 1;
                if r.status == Status::Converged {
                    e.0.push(r.final_state.test_error);
                }
            }
            let cells: Vec<PhaseCell> = acc
                .into_values()
                .map(|(errs, mut c)| {
                    c.test_error = (!errs.is_empty()).then(|| median(&errs));
                    c
                })
                .collect();
            let mut alphas: Vec<f64> = cells.iter().map(|c| c.alpha).collect();
            alphas.sort_by(f64::total_cmp);
            alphas.dedup();
            if alphas.len() < 2 {
                continue;
            }
            let mut temperatures: Vec<f64> = cells.iter().map(|c| c.t).collect();
            temperatures.sort_by(f64::total_cmp);
            temperatures.dedup();
            let t_opt = alphas
                .iter()
                .filter_map(|&a| {
                    cells
                        .iter()
                        .filter(|c| c.alpha == a && c.converged() == c.runs)
                        .filter_map(|c| Some((c.t, c.test_error?)))
                        .min_by(|x, y| x.1.total_cmp(&y.1))
                        .map(|(t, e)| (a, t, e))
                })
                .collect();
            out.push(PhaseDiagram {
                label: label.clone(),
                p,
                t_max: t_max(&cells, &alphas, Instability::Diverged),
                t_max_with_stalled: t_max(&cells, &alphas, Instability::DivergedOrStalled),
                t_opt,
                alphas,
                temperatures,
                cells,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::exponents::tests::synthetic_run;
    use crate::config::ModelKind;

    #[test]
    fn t_max_and_its_exponent() {
        // Runs diverge above T_max = 0.01 alpha^0.5; k must come out as 0.5.
        let mut runs = vec![];
        for alpha in [0.01, 0.04, 0.16, 0.64] {
            for k in 0..60 {
                let t = 2f64.powf(-20.0 + 0.25 * k as f64);
                for seed in 0..3 {
                    let mut r = synthetic_run(ModelKind::Fc, 256, t, seed, 0.1, 1.0);
                    r.config.alpha = alpha;
                    if t > 0.01 * alpha.powf(0.5) {
                        r.status = Status::Diverged;
                    }
                    runs.push(r);
                }
            }
        }
        let d = phase_diagrams(&runs);
        assert_eq!(d.len(), 1);
        let d = &d[0];
        assert_eq!((d.alphas.len(), d.temperatures.len(), d.p), (4, 60, 256));
        assert_eq!(d.t_max.points.len(), 4);
        for &(alpha, t) in &d.t_max.points {
            let want = 0.01 * alpha.powf(0.5);
            assert!(
                (t / want).ln().abs() < 0.25f64.ln().abs() * 2f64.ln(),
                "alpha {alpha}: {t} vs {want}"
            );
        }
        let k = d.k().unwrap();
        assert!((k.value - 0.5).abs() < 0.06, "{k:?}");
        assert!(
            d.cells
                .iter()
                .filter(|c| c.unstable(Instability::Diverged))
                .all(|c| c.test_error.is_none())
        );
    }

    #[test]
    fn stalled_runs_lazy_t_max_and_t_opt() {
        // Feature alphas (<= 1): blow-up above 0.01 alpha^0.5, stalled from half of it.
        // Lazy alphas: blow-up above 4, whatever alpha. Test error lowest at T = 2^-8.
        let mut runs = vec![];
        for alpha in [0.01, 0.04, 0.16, 0.64, 16.0, 256.0, 4096.0] {
            for k in 0..24 {
                let t = 2f64.powf(-16.0 + k as f64);
                for seed in 0..2 {
                    let mut r = synthetic_run(ModelKind::Fc, 256, t, seed, 0.1, 1.0);
                    r.config.alpha = alpha;
                    r.final_state.test_error = 0.1 + 0.01 * (k as f64 - 8.0).abs();
                    let t_max = if alpha <= 1.0 {
                        0.01 * alpha.powf(0.5)
                    } else {
                        4.0
                    };
                    if t > t_max {
                        r.status = Status::Diverged;
                    } else if alpha <= 1.0 && t > t_max / 2.0 / 2.0f64.sqrt() {
                        r.status = Status::Stalled;
                    }
                    runs.push(r);
                }
            }
        }
        let d = &phase_diagrams(&runs)[0];
        let (blow_up, both) = (&d.t_max, &d.t_max_with_stalled);
        assert!(
            (blow_up.k.unwrap().value - 0.5).abs() < 0.1,
            "{:?}",
            blow_up.k
        );
        assert!((both.k.unwrap().value - 0.5).abs() < 0.1, "{:?}", both.k);
        // Counting stalled runs as unstable moves each feature T_max down (by the stalled band).
        for (a, b) in blow_up.points.iter().zip(&both.points).take(4) {
            assert!(a.1 > 1.9 * b.1, "{a:?} {b:?}");
        }
        assert_eq!(blow_up.points[4..], both.points[4..]);
        let lazy = blow_up.lazy_mean.unwrap();
        assert!((lazy / (4.0f64 * 8.0).sqrt() - 1.0).abs() < 1e-9, "{lazy}");
        assert!(blow_up.lazy_slope.unwrap().value.abs() < 1e-9);
        assert_eq!(d.t_opt.len(), 7);
        // T_opt: the lowest error among cells where every run converged.
        for o in &d.t_opt {
            if o.0 > 1.0 {
                assert_eq!((o.1, o.2), (2f64.powf(-8.0), 0.1), "{o:?}");
            } else {
                let cell = d
                    .cells
                    .iter()
                    .find(|c| c.alpha == o.0 && c.t == o.1)
                    .unwrap();
                assert_eq!(cell.converged(), cell.runs);
                assert!(o.1 < 2f64.powf(-8.0) && o.2 > 0.1, "{o:?}");
            }
        }
        let text = d.summary();
        assert!(text.contains("stalled"), "{text}");
        let stalled: usize = d.cells.iter().map(|c| c.count(Status::Stalled)).sum();
        assert_eq!(stalled, 4 * 2 * 2);
    }
}
