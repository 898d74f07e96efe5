//! Observables along runs (the paper's Fig. 21): the perceptron's `w_1(t)` and `|w_perp|(t)`,
//! one curve per temperature at one `P`, and one curve per `P` at one temperature, from the
//! trajectories the runs record (method §1).

use super::{Plot, Series, save_plot};
use crate::analysis::curves::group_runs;
use crate::error::Result;
use crate::plot::figures::slug;
use crate::train::result::{Observables, RunResult, Status};
use std::path::{Path, PathBuf};

/// A value along a trajectory.
type Along = fn(&Observables) -> Option<f64>;

const PANELS: [(&str, &str, Along); 2] = [
    ("w1", "w_1", |o| o.w_1),
    ("wperp", "|w_perp|", |o| o.w_perp),
];

fn series(label: String, color: usize, run: &RunResult, y: Along) -> Series {
    Series {
        label,
        points: run
            .trajectory
            .iter()
            .filter_map(|o| Some((o.t, y(o)?)))
            .filter(|(t, v)| *t > 0.0 && *v > 0.0 && v.is_finite())
            .collect(),
        color,
        line: true,
        ..Default::default()
    }
}

/// Up to `n` values of `v` spread evenly over its sorted distinct values.
fn spread<T: Copy + PartialOrd>(mut v: Vec<T>, n: usize) -> Vec<T> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.dedup();
    if v.len() <= n {
        return v;
    }
    (0..n).map(|k| v[k * (v.len() - 1) / (n - 1)]).collect()
}

/// For each perceptron group of `results`: `w_1` and `|w_perp|` against `t` for five
/// temperatures at the middle `P`, and for every `P` at the middle temperature (converged runs
/// of the first seed). Returns the PNG paths.
pub fn perceptron_trajectories(results: &[RunResult], out: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for g in group_runs(results, true) {
        let runs: Vec<&RunResult> = g
            .runs
            .iter()
            .filter(|r| {
                r.status == Status::Converged
                    && r.config.seed_init == 0
                    && r.trajectory.iter().any(|o| o.w_1.is_some())
            })
            .collect();
        let ps = spread(runs.iter().map(|r| r.config.p).collect(), usize::MAX);
        let ts = spread(
            runs.iter().map(|r| r.config.temperature_value()).collect(),
            usize::MAX,
        );
        let (Some(&p_mid), Some(&t_mid)) = (ps.get(ps.len() / 2), ts.get(ts.len() / 2)) else {
            continue;
        };
        let at_p: Vec<&RunResult> = runs
            .iter()
            .copied()
            .filter(|r| r.config.p == p_mid)
            .collect();
        let temps = spread(
            at_p.iter().map(|r| r.config.temperature_value()).collect(),
            5,
        );
        let at_t: Vec<&RunResult> = runs
            .iter()
            .copied()
            .filter(|r| r.config.temperature_value() == t_mid)
            .collect();
        for (file, name, y) in PANELS {
            let by_t: Vec<Series> = temps
                .iter()
                .enumerate()
                .filter_map(|(k, &t)| {
                    let r = at_p.iter().find(|r| r.config.temperature_value() == t)?;
                    Some(series(format!("T = {t:.2e}"), k, r, y))
                })
                .collect();
            let by_p: Vec<Series> = at_t
                .iter()
                .enumerate()
                .map(|(k, r)| series(format!("P = {}", r.config.p), k, r, y))
                .collect();
            for (what, s, title) in [
                (
                    "by_T",
                    by_t,
                    format!("{name}(t) at P = {p_mid}, one curve per T"),
                ),
                (
                    "by_P",
                    by_p,
                    format!("{name}(t) at T = {t_mid:.2e}, one curve per P"),
                ),
            ] {
                let plot = Plot {
                    title,
                    x_label: "time t".into(),
                    y_label: name.into(),
                    log_y: true,
                    series: s,
                }
                .with_subtitle(&g.label);
                let stem = out.join(format!("{}__{file}_trajectory_{what}", slug(&g.label)));
                written.extend(save_plot(&plot, &stem)?);
            }
        }
    }
    Ok(written)
}
