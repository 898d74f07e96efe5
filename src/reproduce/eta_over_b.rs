//! `sgd-regimes reproduce eta-over-b`: SGD's effect is set by `T = eta/B` (method §6; the
//! paper's Figs. 18-19). fc on MNIST parity at P = 1024, a grid of temperatures times batch
//! sizes `B = 4 .. 128` (so at one `T` the learning rate `eta = T B` spans a factor 32), at
//! alpha = 1 (the paper's Fig. 18) and at the lazy alpha = 32768. Figures of test error, `dw`
//! and `t*` against `T`, one colour per `B`, and a verdict per observable: the spread across
//! `B` of the medians at equal `T`, against the spread of single runs across seeds.

use super::fc_mnist::{Part, Planned, plan_parts};
use crate::analysis::curves::{Observable, curves, median};
use crate::analysis::load_results;
use crate::error::Result;
use crate::plot::{Plot, Series, save_plot};
use crate::train::result::RunResult;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The observables compared across batch sizes.
pub const OBSERVABLES: [Observable; 3] = [
    Observable::TestError,
    Observable::WeightChange,
    Observable::TStar,
];

/// The two sweeps: alpha = 1 and the lazy alpha. `quick`: two batch sizes, three temperatures,
/// two seeds, a small net.
pub fn parts(quick: bool) -> Vec<Part> {
    let (net, p, p_test, batches, t, seeds) = if quick {
        (
            "depth = 2\nwidth = 16\n",
            256,
            256,
            "[4, 32]",
            "{ log2 = [-6, -2], step = 2 }",
            1,
        )
    } else {
        (
            "depth = 5\nwidth = 64\n",
            1024,
            2048,
            "[4, 8, 16, 32, 64, 128]",
            "{ log2 = [-8, -2], step = 1 }",
            2,
        )
    };
    [
        ("alpha1", "fc, alpha = 1 (the paper's Fig. 18)", 1.0),
        ("lazy", "fc, alpha = 32768 (lazy)", 32768.0),
    ]
    .into_iter()
    .map(|(name, what, alpha)| Part {
        name,
        what,
        regime: None,
        text: format!(
            "# sgd-regimes reproduce eta-over-b{}: {what}\n\
             [base]\nmodel = \"fc\"\n{net}dataset = \"mnist-parity\"\np = {p}\np_test = {p_test}\nalpha = {alpha:?}\n\n\
             [grid]\nbatch = {batches}\ntemperature = {t}\nseed = {{ linear = [0, {seeds}] }}\n",
            if quick { " --quick" } else { "" }
        ),
    })
    .collect()
}

/// Write the sweep files and open the results directories under `out`.
pub fn plan(out: &Path, quick: bool) -> Result<Vec<Planned>> {
    plan_parts(out, parts(quick))
}

/// How much one observable depends on `B` at equal `T`.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    pub observable: Observable,
    /// Temperatures where at least two batch sizes have converged runs.
    pub temperatures: usize,
    /// Median over those temperatures of the standard deviation of `ln(median over seeds)`
    /// across batch sizes.
    pub across_b: f64,
    /// Median over cells `(B, T)` with two or more seeds of the standard deviation of `ln y`
    /// across seeds: the scatter of a single run.
    pub across_seeds: f64,
}

impl Agreement {
    /// The batch sizes agree when their medians scatter no more than single runs do.
    pub fn agree(&self) -> bool {
        self.across_b <= self.across_seeds
    }
}

fn log_sd(v: &[f64]) -> f64 {
    let logs: Vec<f64> = v.iter().map(|x| x.ln()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    (logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64).sqrt()
}

/// The values of all seeds at one temperature.
type Cell = (f64, Vec<f64>);

/// Per batch size, the cells `(T, values of the seeds)` of `obs` over `runs` (one `P`).
fn cells_by_batch(runs: &[RunResult], obs: Observable) -> Vec<(usize, Vec<Cell>)> {
    let mut batches: Vec<usize> = runs.iter().map(|r| r.config.batch).collect();
    batches.sort_unstable();
    batches.dedup();
    batches
        .into_iter()
        .map(|b| {
            let sub: Vec<RunResult> = runs
                .iter()
                .filter(|r| r.config.batch == b)
                .cloned()
                .collect();
            let cells = curves(&sub, obs)
                .into_iter()
                .flat_map(|c| c.cells)
                .map(|c| (c.t, c.values))
                .collect();
            (b, cells)
        })
        .collect()
}

/// The agreement of `obs` across batch sizes in `runs` (`None` without two batch sizes at a
/// common temperature).
pub fn agreement(runs: &[RunResult], obs: Observable) -> Option<Agreement> {
    let by_b = cells_by_batch(runs, obs);
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
        across_b: median(&across_b),
        across_seeds: median(&across_seeds),
    })
}

/// `obs` against `T`, one curve per batch size (medians over seeds, their spread as bars).
pub fn figure(runs: &[RunResult], obs: Observable, title: &str) -> Plot {
    let series = cells_by_batch(runs, obs)
        .into_iter()
        .enumerate()
        .map(|(k, (b, cells))| Series {
            label: format!("B = {b}"),
            points: cells.iter().map(|(t, v)| (*t, median(v))).collect(),
            spread: cells
                .iter()
                .map(|(_, v)| {
                    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (lo, hi)
                })
                .collect(),
            color: k,
            line: true,
            ..Default::default()
        })
        .collect();
    Plot {
        title: title.to_string(),
        x_label: "temperature T = eta/B".into(),
        y_label: format!("{} (median over seeds)", obs.name()),
        log_y: true,
        series,
    }
}

pub struct Report {
    pub path: PathBuf,
    pub figures: Vec<PathBuf>,
    pub summary: String,
}

/// Figures and `report.md` from the runs done so far.
pub fn write_report(out: &Path, planned: &[Planned]) -> Result<Report> {
    let fig_dir = out.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| crate::Error::io(&fig_dir, e))?;
    let mut figures = Vec::new();
    let mut table = String::from(
        "| sweep | observable | temperatures compared | spread across B | spread across seeds | verdict |\n|---|---|---|---|---|---|\n",
    );
    let mut links = String::new();
    for p in planned {
        let runs = load_results(&p.store.dir)?;
        for obs in OBSERVABLES {
            let plot = figure(
                &runs,
                obs,
                &format!("{}: {} against T", p.part.what, obs.name()),
            );
            let png = save_plot(
                &plot,
                &fig_dir.join(format!("{}__{}", p.part.name, obs.slug())),
            )?;
            let _ = writeln!(
                links,
                "![{} {}](figures/{})",
                p.part.name,
                obs.name(),
                png.file_name().unwrap_or_default().to_string_lossy()
            );
            figures.push(png);
            let row = match agreement(&runs, obs) {
                Some(a) => format!(
                    "| {} | {} | {} | {:.3} | {:.3} | {} |",
                    p.part.what,
                    obs.name(),
                    a.temperatures,
                    a.across_b,
                    a.across_seeds,
                    if a.agree() {
                        "B does not matter at equal T (within single-run scatter)"
                    } else {
                        "B matters beyond T"
                    }
                ),
                None => format!(
                    "| {} | {} | - | - | - | not enough runs |",
                    p.part.what,
                    obs.name()
                ),
            };
            table += &row;
            table.push('\n');
        }
    }
    let text = format!(
        "# `sgd-regimes reproduce eta-over-b`\n\n\
         Runs at equal temperature `T = eta/B` with different batch sizes `B`: if SGD's effect is set by `T` alone (the paper's Figs. 18-19), the curves of one observable against `T` coincide for every `B`.\n\n\
         Spreads are standard deviations of `ln y`: across `B`, of the medians over seeds at one `T` (the median over temperatures is shown); across seeds, of single runs in one `(B, T)` cell (median over cells). Only converged runs count.\n\n\
         {table}\n## Figures\n\n{links}"
    );
    let path = out.join("report.md");
    crate::io::write_atomic(&path, text.as_bytes())?;
    Ok(Report {
        path,
        figures,
        summary: table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SweepSpec;

    #[test]
    fn the_sweeps_cross_batch_sizes_with_temperatures() {
        for (quick, runs) in [(false, 6 * 7 * 3), (true, 2 * 3 * 2)] {
            for part in parts(quick) {
                let spec = SweepSpec::parse(&part.text, part.name).unwrap();
                let planned = spec.runs().unwrap();
                assert_eq!(planned.len(), runs, "{}", part.name);
                // One T, several B: the learning rate is T B.
                let t = planned[0].config.temperature.unwrap();
                let lrs: Vec<f64> = planned
                    .iter()
                    .filter(|r| r.config.temperature == Some(t) && r.config.seed_init == 0)
                    .map(|r| r.config.learning_rate() / r.config.batch as f64)
                    .collect();
                assert!(lrs.len() >= 2 && lrs.iter().all(|x| (x - t).abs() < 1e-15));
            }
        }
    }

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
    fn batch_sizes_agree_when_their_medians_scatter_less_than_single_runs() {
        let same = agreement(&runs(|_| 1.0), Observable::WeightChange).unwrap();
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
        )
        .unwrap();
        assert!((doubled.across_b - 0.49).abs() < 0.1, "{doubled:?}");
        assert!(!doubled.agree());
        // A single batch size: nothing to compare.
        let one: Vec<RunResult> = runs(|_| 1.0)
            .into_iter()
            .filter(|r| r.config.batch == 4)
            .collect();
        assert_eq!(agreement(&one, Observable::WeightChange), None);
    }
}
