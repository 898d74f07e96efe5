//! Fit-window drift (method §5): each group's exponents refitted on the lower and the upper part
//! of its range of `P`, so a reader sees whether an exponent is still moving with `P` (a
//! finite-size effect) or has settled. The two windows each hold a bit more than half of the
//! training-set sizes and share the middle one(s): for `P = 1024 .. 16384` (five sizes),
//! `P <= 4096` against `P >= 4096`.

use super::exponents::{GroupExponents, RegimeSource, fit_group};
use crate::config::{Regime, RunConfig};
use crate::train::result::RunResult;

/// The exponents of a group refitted on part of its `P` range.
#[derive(Clone, Debug)]
pub struct WindowFit {
    /// `P <= 4096` or `P >= 4096`.
    pub label: String,
    pub ps: Vec<usize>,
    pub fit: GroupExponents,
}

/// The lower and upper windows of `runs` (one group), or nothing with fewer than four sizes
/// (a window needs three for zeta and a collapse worth the name).
pub fn window_fits(
    label: &str,
    config: &RunConfig,
    runs: &[RunResult],
    regime: Regime,
    source: RegimeSource,
) -> Vec<WindowFit> {
    let mut ps: Vec<usize> = runs.iter().map(|r| r.config.p).collect();
    ps.sort_unstable();
    ps.dedup();
    let n = ps.len();
    if n < 4 {
        return vec![];
    }
    let k = n / 2 + 1;
    let (lower, upper) = (ps[..k].to_vec(), ps[n - k..].to_vec());
    [
        (format!("P <= {}", lower[k - 1]), lower),
        (format!("P >= {}", upper[0]), upper),
    ]
    .into_iter()
    .map(|(window, ps)| {
        let inside: Vec<RunResult> = runs
            .iter()
            .filter(|r| ps.contains(&r.config.p))
            .cloned()
            .collect();
        WindowFit {
            fit: fit_group(label, config, &inside, regime, source),
            label: window,
            ps,
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::exponents::tests::synthetic_run;
    use crate::config::ModelKind;

    /// dw = 1e-3 P^zeta (1 + (T / T_c)^delta) with T_c = 1e-3 P^-a(P), where the exponent `a`
    /// drifts from 0.3 at small P to 0.7 at large P (gamma = zeta + a delta drifts with it).
    fn drifting() -> Vec<RunResult> {
        let mut out = vec![];
        for (i, p) in [256usize, 512, 1024, 2048, 4096, 8192]
            .into_iter()
            .enumerate()
        {
            let pf = p as f64;
            // ln T_c falls by a(P) ln 2 per doubling, a(P) = 0.3 .. 0.7.
            let ln_tc: f64 = (0..i).map(|j| -(0.3 + 0.08 * j as f64) * 2f64.ln()).sum();
            let tc = 1e-3 * ln_tc.exp();
            for k in 0..45 {
                let t = 2f64.powf(-24.0 + 0.5 * k as f64);
                let dw = 1e-3 * pf.powf(0.2) * (1.0 + t / tc);
                for seed in 0..2 {
                    out.push(synthetic_run(ModelKind::Fc, p, t, seed, dw, 1.0 + t));
                }
            }
        }
        out
    }

    #[test]
    fn windows_share_the_middle_and_show_a_drifting_exponent() {
        let runs = drifting();
        let w = window_fits(
            "g",
            &runs[0].config,
            &runs,
            Regime::Lazy,
            RegimeSource::Declared,
        );
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].label.as_str(), w[1].label.as_str()),
            ("P <= 2048", "P >= 1024")
        );
        assert_eq!(w[0].ps, [256, 512, 1024, 2048]);
        assert_eq!(w[1].ps, [1024, 2048, 4096, 8192]);
        // gamma = zeta + a: about 0.2 + 0.42 on the lower window, 0.2 + 0.58 on the upper.
        let gamma = |f: &WindowFit| f.fit.gamma().unwrap().value;
        assert!(
            gamma(&w[1]) - gamma(&w[0]) > 0.1,
            "lower {} upper {}",
            gamma(&w[0]),
            gamma(&w[1])
        );
        // Three sizes are too few to split.
        let few: Vec<RunResult> = runs.into_iter().filter(|r| r.config.p <= 1024).collect();
        assert!(
            window_fits(
                "g",
                &few[0].config,
                &few,
                Regime::Lazy,
                RegimeSource::Declared
            )
            .is_empty()
        );
    }
}
