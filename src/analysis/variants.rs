//! Curves of one observable against `T` that should coincide: runs at equal `T = eta/B` that
//! differ only in the batch size, the dynamics (SGD or its SDE) or the loss (method §6). The
//! verdict compares the spread of the variants' medians at equal `T` with the scatter of single
//! runs across seeds.

use super::curves::{Observable, curves, median};
use crate::train::result::RunResult;

/// What distinguishes the curves compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Batch,
    Dynamics,
    Loss,
}

impl Variant {
    /// Sort key and label of a run's variant.
    fn of(self, r: &RunResult) -> (usize, String) {
        match self {
            Variant::Batch => (r.config.batch, format!("B = {}", r.config.batch)),
            Variant::Dynamics => {
                let d = r.config.dynamics.unwrap_or_default();
                (d as usize, d.to_string())
            }
            Variant::Loss => {
                let l = r.config.loss.unwrap_or_default();
                (l as usize, l.to_string())
            }
        }
    }

    /// `B`, `dynamics` or `loss`.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Batch => "B",
            Variant::Dynamics => "dynamics",
            Variant::Loss => "loss",
        }
    }
}

/// The values of all seeds at one temperature.
pub type Cell = (f64, Vec<f64>);

/// Per variant (in order, with its label), the cells `(T, values of the seeds)` of `obs` over
/// `runs` (one `P`).
pub fn cells_by(runs: &[RunResult], obs: Observable, variant: Variant) -> Vec<(String, Vec<Cell>)> {
    let mut keys: Vec<(usize, String)> = runs.iter().map(|r| variant.of(r)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(k, label)| {
            let sub: Vec<RunResult> = runs
                .iter()
                .filter(|r| variant.of(r).0 == k)
                .cloned()
                .collect();
            let cells = curves(&sub, obs)
                .into_iter()
                .flat_map(|c| c.cells)
                .map(|c| (c.t, c.values))
                .collect();
            (label, cells)
        })
        .collect()
}

/// How much one observable depends on the variant at equal `T`.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    pub observable: Observable,
    /// Temperatures where at least two variants have converged runs.
    pub temperatures: usize,
    /// Median over those temperatures of the standard deviation of `ln(median over seeds)`
    /// across variants.
    pub across_variants: f64,
    /// Median over cells `(variant, T)` with two or more seeds of the standard deviation of `ln y`
    /// across seeds: the scatter of a single run.
    pub across_seeds: f64,
}

impl Agreement {
    /// The variants agree when their medians scatter no more than single runs do.
    pub fn agree(&self) -> bool {
        self.across_variants <= self.across_seeds
    }
}

fn log_sd(v: &[f64]) -> f64 {
    let logs: Vec<f64> = v.iter().map(|x| x.ln()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt()
}

/// The agreement of `obs` across the variants in `runs` (`None` without two variants at a
/// common temperature, or without two seeds in any cell).
pub fn agreement(runs: &[RunResult], obs: Observable, variant: Variant) -> Option<Agreement> {
    let by_b = cells_by(runs, obs, variant);
    let mut temps: Vec<u64> = by_b
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(|(t, _)| t.to_bits()))
        .collect();
    temps.sort_unstable();
    temps.dedup();
    let across_b: Vec<f64> = temps
        .iter()
        .filter_map(|&bits| {
            let medians: Vec<f64> = by_b
                .iter()
                .filter_map(|(_, cells)| cells.iter().find(|(t, _)| t.to_bits() == bits))
                .map(|(_, v)| median(v))
                .collect();
            (medians.len() >= 2).then(|| log_sd(&medians))
        })
        .collect();
    let across_seeds: Vec<f64> = by_b
        .iter()
        .flat_map(|(_, cells)| cells.iter())
        .filter(|(_, v)| v.len() >= 2)
        .map(|(_, v)| log_sd(v))
        .collect();
    if across_b.is_empty() || across_seeds.is_empty() {
        return None;
    }
    Some(Agreement {
        observable: obs,
        temperatures: across_b.len(),
        across_variants: median(&across_b),
        across_seeds: median(&across_seeds),
    })
}

/// How far each variant's curve lies from the first variant's (the smallest batch, SGD, the
/// hinge): per temperature both have converged runs at, the ratio of the medians over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct RatioToFirst {
    pub label: String,
    /// Median, smallest and largest ratio over the common temperatures.
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The ratio of each later variant's medians to the first variant's at equal `T` (variants
/// without a common temperature are left out).
pub fn ratios_to_first(runs: &[RunResult], obs: Observable, variant: Variant) -> Vec<RatioToFirst> {
    let by = cells_by(runs, obs, variant);
    let Some((_, first)) = by.first() else {
        return vec![];
    };
    by.iter()
        .skip(1)
        .filter_map(|(label, cells)| {
            let mut ratios: Vec<f64> = cells
                .iter()
                .filter_map(|(t, v)| {
                    let (_, base) = first.iter().find(|(u, _)| u.to_bits() == t.to_bits())?;
                    Some(median(v) / median(base))
                })
                .filter(|r| r.is_finite())
                .collect();
            ratios.sort_by(f64::total_cmp);
            Some(RatioToFirst {
                label: label.clone(),
                median: median(&ratios),
                min: *ratios.first()?,
                max: *ratios.last()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs with `dw = T (1 + 0.1 noise) factor(B)` for B in {4, 32}, three seeds.
    fn runs(factor: impl Fn(usize) -> f64) -> Vec<RunResult> {
        let mut out = Vec::new();
        for b in [4usize, 32] {
            for t in [1e-3, 1e-2, 1e-1] {
                for seed in 0..3u64 {
                    let noise = [-1.0, 0.2, 0.9][seed as usize]
                        * [1.0, -0.7, 0.4][(b / 32) + (t * 1e3) as usize % 2];
                    let mut r = crate::analysis::exponents::tests::synthetic_run(
                        crate::config::ModelKind::Fc,
                        1024,
                        t,
                        seed,
                        t * (1.0 + 0.1 * noise) * factor(b),
                        1.0,
                    );
                    r.config.batch = b;
                    out.push(r);
                }
            }
        }
        out
    }

    #[test]
    fn variants_agree_when_their_medians_scatter_less_than_single_runs() {
        let same = agreement(&runs(|_| 1.0), Observable::WeightChange, Variant::Batch).unwrap();
        assert_eq!(same.temperatures, 3);
        assert!(
            same.across_seeds > 0.05 && same.across_seeds < 0.2,
            "{same:?}"
        );
        assert!(same.agree(), "{same:?}");
        // B = 32 twice as large: ln 2 / sqrt(2) = 0.49 across B.
        let doubled = agreement(
            &runs(|b| if b == 32 { 2.0 } else { 1.0 }),
            Observable::WeightChange,
            Variant::Batch,
        )
        .unwrap();
        assert!((doubled.across_variants - 0.49).abs() < 0.1, "{doubled:?}");
        assert!(!doubled.agree());
        // A single batch size: nothing to compare.
        let one: Vec<RunResult> = runs(|_| 1.0)
            .into_iter()
            .filter(|r| r.config.batch == 4)
            .collect();
        assert_eq!(
            agreement(&one, Observable::WeightChange, Variant::Batch),
            None
        );
        assert!(ratios_to_first(&one, Observable::WeightChange, Variant::Batch).is_empty());
    }

    #[test]
    fn ratios_to_the_first_variant_are_taken_at_equal_t() {
        let r = ratios_to_first(
            &runs(|b| if b == 32 { 2.0 } else { 1.0 }),
            Observable::WeightChange,
            Variant::Batch,
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].label, "B = 32");
        // Twice as large at every T, up to the seeds' noise in the medians.
        assert!(
            r[0].min > 1.6 && r[0].max < 2.5 && (r[0].median - 2.0).abs() < 0.3,
            "{r:?}"
        );
    }
}
