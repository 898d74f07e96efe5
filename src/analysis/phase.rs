//! The `(alpha, T)` phase diagram at fixed `P` (SPEC §5): median test error per cell, the
//! fraction of diverged runs, the largest stable temperature `T_max(alpha)` and its exponent
//! `k` (`T_max ~ alpha^k`) fitted in the feature regime.

use super::curves::{Group, group_runs, median};
use super::fit::{Estimate, power_law};
use crate::train::result::Status;
use std::collections::BTreeMap;

type CellAccumulator = (f64, f64, Vec<f64>, usize, usize);

/// alpha below which a group counts as feature-learning for the fit of `k`.
pub const FEATURE_ALPHA: f64 = 1.0;

#[derive(Clone, Debug)]
pub struct PhaseCell {
    pub alpha: f64,
    pub t: f64,
    /// Median test error over converged runs.
    pub test_error: Option<f64>,
    pub diverged: usize,
    pub runs: usize,
}

impl PhaseCell {
    /// Most of its runs diverged.
    pub fn unstable(&self) -> bool {
        2 * self.diverged > self.runs
    }
}

#[derive(Clone, Debug)]
pub struct PhaseDiagram {
    pub label: String,
    pub p: usize,
    pub alphas: Vec<f64>,
    pub temperatures: Vec<f64>,
    pub cells: Vec<PhaseCell>,
    /// Per alpha: geometric mean of the largest stable and the smallest unstable temperature above it.
    pub t_max: Vec<(f64, f64)>,
    /// `T_max ~ alpha^k` over alphas below [`FEATURE_ALPHA`] (all alphas if fewer than 2 are).
    pub k: Option<Estimate>,
}

/// One diagram per group (all but alpha, T, P and seeds) and `P`, where at least two alphas exist.
pub fn phase_diagrams(groups_source: &[crate::train::result::RunResult]) -> Vec<PhaseDiagram> {
    let mut out = Vec::new();
    for Group { label, runs, .. } in group_runs(groups_source, false) {
        let mut by_p: BTreeMap<usize, Vec<&crate::train::result::RunResult>> = BTreeMap::new();
        for r in &runs {
            by_p.entry(r.config.p).or_default().push(r);
        }
        for (p, runs) in by_p {
            // (alpha, T) -> (alpha, T, test errors of converged runs, diverged, runs)
            let mut cells: BTreeMap<(u64, u64), CellAccumulator> = BTreeMap::new();
            for r in runs {
                let (a, t) = (r.config.alpha, r.config.temperature_value());
                let e = cells
                    .entry((a.to_bits(), t.to_bits()))
                    .or_insert((a, t, vec![], 0, 0));
                e.4 += 1;
                match r.status {
                    Status::Diverged => e.3 += 1,
                    Status::Converged => e.2.push(r.final_state.test_error),
                    Status::Budget => {}
                }
            }
            let cells: Vec<PhaseCell> = cells
                .into_values()
                .map(|(alpha, t, errs, diverged, runs)| PhaseCell {
                    alpha,
                    t,
                    test_error: (!errs.is_empty()).then(|| median(&errs)),
                    diverged,
                    runs,
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
            let t_max: Vec<(f64, f64)> = alphas
                .iter()
                .filter_map(|&a| {
                    let mut col: Vec<&PhaseCell> = cells.iter().filter(|c| c.alpha == a).collect();
                    col.sort_by(|x, y| x.t.total_cmp(&y.t));
                    let k = col.iter().position(|c| c.unstable())?;
                    (k > 0).then(|| (a, (col[k - 1].t * col[k].t).sqrt()))
                })
                .collect();
            let feature: Vec<(f64, f64)> = t_max
                .iter()
                .copied()
                .filter(|(a, _)| *a < FEATURE_ALPHA)
                .collect();
            let fit_points = if feature.len() >= 2 {
                feature
            } else {
                t_max.clone()
            };
            let k = if fit_points.len() >= 2 {
                let (a, t): (Vec<f64>, Vec<f64>) = fit_points.into_iter().unzip();
                if a.len() == 2 {
                    let slope = (t[1].ln() - t[0].ln()) / (a[1].ln() - a[0].ln());
                    Some(Estimate::new(slope, f64::NAN))
                } else {
                    power_law(&a, &t).map(|(s, _)| s)
                }
            } else {
                None
            };
            out.push(PhaseDiagram {
                label: label.clone(),
                p,
                alphas,
                temperatures,
                cells,
                t_max,
                k,
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
        assert_eq!(d.t_max.len(), 4);
        for &(alpha, t) in &d.t_max {
            let want = 0.01 * alpha.powf(0.5);
            assert!(
                (t / want).ln().abs() < 0.25f64.ln().abs() * 2f64.ln(),
                "alpha {alpha}: {t} vs {want}"
            );
        }
        let k = d.k.unwrap();
        assert!((k.value - 0.5).abs() < 0.06, "{k:?}");
        assert!(
            d.cells
                .iter()
                .filter(|c| c.unstable())
                .all(|c| c.test_error.is_none())
        );
    }
}
