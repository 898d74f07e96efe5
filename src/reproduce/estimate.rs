//! The wall-time estimate of `reproduce table1 --dry-run` (issue #22): the number of steps of a
//! run from an empirical model of training time, times a calibrated step, plus the evaluations
//! of its log-spaced checkpoints; rescaled by the runs already finished.
//!
//! The model was fitted by eye to the 1,216 laptop runs of `reproduce fc-mnist`
//! (docs/results/fc-mnist: fc L = 5, h = 64, B = 16, P = 256 .. 4096, alpha = 2^-10 .. 2^14,
//! T = 2^-16 .. 2^5), in epochs (`steps B / P`):
//!
//! `epochs = 15 (P/1024)^0.35 + A(alpha) (P/1024)^x(alpha) (2^-10 / T)` below `T_max(alpha)`,
//!
//! - a floor of ~15-40 epochs at high T (lazy runs fit in that many whatever T);
//! - the low-T cost growing as `1/T` (time to fit ~ constant, steps ~ 1/eta), with `A(alpha)`
//!   peaking between the regimes (8,500 epochs at alpha = 16 and T = 2^-10 against 190 at
//!   alpha = 2^-10 and 7 in the lazy regime; the table below), and its growth with `P` reversing
//!   from the feature regime (`x = -0.45`: fewer epochs for more points) to the lazy one (`x =
//!   0.35`);
//! - above `T_max(alpha)` (2^-4.5 at alpha = 2^-10, rising as alpha^0.6, 2^3.5 at most) a run
//!   diverges within a few steps.
//!
//! Checkpoints are 4 per decade of steps, each evaluating the training and the test set. How
//! well this predicts other widths and data is measured, not assumed: see EXPERIMENTS.md.

use super::plan::{Planned, todo};
use crate::config::RunConfig;
use crate::error::Result;

/// `A(alpha)` at P = 1024: `(log2 alpha, epochs beyond the floor at T = 2^-10)`: up to alpha =
/// 2^8 the laptop phase diagram's medians over its cells at T <= 2^-8 brought to 2^-10 by the
/// 1/T law (gelu; the relu feature row gives 195 at alpha = 2^-10); from 2^10 on, where the
/// floor dominates, read at T = 2^-10 itself, and the lazy row at alpha = 32768. Interpolated linearly in `log2 alpha`, flat beyond the ends.
const LOW_T_EPOCHS: [(f64, f64); 14] = [
    (-10.0, 190.0),
    (-8.0, 320.0),
    (-6.0, 450.0),
    (-4.0, 780.0),
    (-2.0, 1680.0),
    (0.0, 2250.0),
    (2.0, 4550.0),
    (4.0, 8500.0),
    (6.0, 8200.0),
    (8.0, 2550.0),
    (10.0, 140.0),
    (12.0, 25.0),
    (14.0, 12.0),
    (15.0, 7.5),
];

/// Linear interpolation in a table sorted by `x`, flat beyond its ends.
fn interpolate(table: &[(f64, f64)], x: f64) -> f64 {
    let (first, last) = (table[0], table[table.len() - 1]);
    if x <= first.0 {
        return first.1;
    }
    if x >= last.0 {
        return last.1;
    }
    let k = table
        .iter()
        .position(|p| p.0 >= x)
        .unwrap_or(table.len() - 1);
    let (a, b) = (table[k - 1], table[k]);
    a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0)
}

/// The largest stable temperature of the model: 2^-4.5 at alpha = 2^-10, growing as
/// alpha^0.6, at most 2^3.5.
fn t_max(alpha: f64) -> f64 {
    2f64.powf((-4.5 + 0.6 * (alpha.log2() + 10.0)).min(3.5))
}

/// Modelled number of SGD steps of a run (at most its budget).
pub fn steps(cfg: &RunConfig) -> f64 {
    let p = cfg.p as f64 / 1024.0;
    let t = cfg.temperature_value();
    let log_alpha = cfg.alpha.log2();
    let budget = cfg.max_steps.unwrap_or(u64::MAX) as f64;
    if t > t_max(cfg.alpha) {
        return 10f64.min(budget);
    }
    // The P exponent of the low-T cost: -0.45 for alpha <= 1, 0.35 from alpha = 2^10 on.
    let x = -0.45 + 0.8 * (log_alpha / 10.0).clamp(0.0, 1.0);
    let epochs = 15.0 * p.powf(0.35)
        + interpolate(&LOW_T_EPOCHS, log_alpha) * p.powf(x) * 2f64.powi(-10) / t;
    (epochs * cfg.p as f64 / cfg.batch as f64).min(budget)
}

/// Estimated seconds of one run: modelled steps times `step_s` (a calibrated step with every
/// batch point active), plus `4 log10(steps) + 3` evaluations of the training and test sets at
/// `point_s` per point.
pub fn run_seconds(cfg: &RunConfig, step_s: f64, point_s: f64) -> f64 {
    let steps = steps(cfg);
    let evaluations = 4.0 * steps.max(1.0).log10() + 3.0;
    steps * step_s + evaluations * (cfg.p + cfg.p_test) as f64 * point_s
}

/// Estimated wall seconds of each part's missing runs with `jobs` workers, from a calibration
/// of each part's net (a few timed steps). Where a part already has at least five finished
/// runs, the model is rescaled by the median ratio of their measured to their modelled times.
pub fn wall_seconds(planned: &[Planned], jobs: usize) -> Result<Vec<f64>> {
    planned
        .iter()
        .map(|p| {
            let missing = todo(p);
            let Some(first) = missing.first() else {
                return Ok(0.0);
            };
            let (step_s, point_s) = crate::bench::calibrate(&first.config);
            // The plan's finished runs, read through its store (a directory whose sweep file
            // is about to be adopted has none yet).
            let mut ratios: Vec<f64> = p
                .runs
                .iter()
                .filter(|r| p.store.has_result(&r.id))
                .filter_map(|r| match p.store.load(&r.id) {
                    Ok(crate::sweep::Stored::Done(result)) => {
                        Some(result.timing.wall_s / run_seconds(&result.config, step_s, point_s))
                    }
                    _ => None,
                })
                .filter(|x| x.is_finite() && *x > 0.0)
                .collect();
            ratios.sort_by(f64::total_cmp);
            let scale = if ratios.len() >= 5 {
                ratios[ratios.len() / 2]
            } else {
                1.0
            };
            let total: f64 = missing
                .iter()
                .map(|r| run_seconds(&r.config, step_s, point_s))
                .sum();
            Ok(scale * total / jobs.max(1) as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(alpha: f64, p: usize, t: f64) -> RunConfig {
        RunConfig {
            alpha,
            p,
            temperature: Some(t),
            batch: 16,
            ..RunConfig::default()
        }
    }

    fn epochs(alpha: f64, p: usize, t: f64) -> f64 {
        steps(&cfg(alpha, p, t)) * 16.0 / p as f64
    }

    #[test]
    fn the_model_follows_the_laptop_runs_it_was_fitted_to() {
        // Medians of docs/results/fc-mnist (epochs): lazy P = 1024 at T = 2^-16, 2^-10, 2^0:
        // 318, 21, 15; feature P = 1024 at T = 2^-13, 2^-10: 1365, 210; P = 4096 at 2^-13:
        // 687; the phase diagram at alpha = 16, T = 2^-10: 6418 (its lower seed).
        for (alpha, p, t, measured) in [
            (32768.0, 1024, 2f64.powi(-16), 318.0),
            (32768.0, 1024, 2f64.powi(-10), 21.0),
            (32768.0, 1024, 1.0, 15.0),
            (2f64.powi(-10), 1024, 2f64.powi(-13), 1365.0),
            (2f64.powi(-10), 1024, 2f64.powi(-10), 210.0),
            (2f64.powi(-10), 4096, 2f64.powi(-13), 687.0),
            (16.0, 1024, 2f64.powi(-10), 6418.0),
        ] {
            let e = epochs(alpha, p, t);
            assert!(
                e / measured < 2.0 && measured / e < 2.0,
                "alpha {alpha} P {p} T {t}: model {e:.0} epochs, measured {measured}"
            );
        }
    }

    #[test]
    fn runs_past_t_max_end_at_once_and_budgets_cap_the_steps() {
        assert!(steps(&cfg(2f64.powi(-10), 1024, 2f64.powi(-3))) <= 10.0);
        assert!(steps(&cfg(32768.0, 1024, 8.0)) > 100.0);
        assert!(steps(&cfg(32768.0, 1024, 32.0)) <= 10.0);
        let capped = RunConfig {
            max_steps: Some(1000),
            ..cfg(16.0, 16384, 2f64.powi(-14))
        };
        assert_eq!(steps(&capped), 1000.0);
        // More points and lower T cost more in both regimes.
        for alpha in [2f64.powi(-10), 32768.0] {
            assert!(
                run_seconds(&cfg(alpha, 4096, 1e-4), 1e-4, 1e-6)
                    > run_seconds(&cfg(alpha, 1024, 1e-4), 1e-4, 1e-6)
            );
            assert!(steps(&cfg(alpha, 1024, 1e-4)) > 1.5 * steps(&cfg(alpha, 1024, 4e-4)));
        }
    }
}
