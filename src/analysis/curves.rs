//! From run results to curves: runs are grouped by everything but the temperature, the
//! training-set size and the seeds (a *group* is one curve family), and each curve `y(T)` at
//! fixed `P` holds, per temperature, the values of all seeds (summarized by their median).

use crate::config::RunConfig;
use crate::train::result::{RunResult, Status};
use std::collections::BTreeMap;

/// What is plotted or fitted against the temperature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observable {
    /// `dw = |w - w0| / |w0|` (for the perceptron, whose `w0 = 0`: `|w|`).
    WeightChange,
    /// Training time `t*`.
    TStar,
    TestError,
    /// Perceptron: weight on the informative coordinate.
    W1,
    /// Perceptron: `|w_perp|`.
    WPerp,
}

impl Observable {
    pub fn name(&self) -> &'static str {
        match self {
            Observable::WeightChange => "dw",
            Observable::TStar => "t*",
            Observable::TestError => "test error",
            Observable::W1 => "w_1",
            Observable::WPerp => "|w_perp|",
        }
    }

    /// File-name friendly name.
    pub fn slug(&self) -> &'static str {
        match self {
            Observable::WeightChange => "dw",
            Observable::TStar => "tstar",
            Observable::TestError => "test_error",
            Observable::W1 => "w1",
            Observable::WPerp => "wperp",
        }
    }

    /// The value of a converged run (other runs have none).
    pub fn value(&self, r: &RunResult) -> Option<f64> {
        if r.status != Status::Converged {
            return None;
        }
        let f = &r.final_state;
        let v = match self {
            Observable::WeightChange if f.weight_change.is_finite() => f.weight_change,
            Observable::WeightChange => f.weight_norm,
            Observable::TStar => f.t,
            Observable::TestError => f.test_error,
            Observable::W1 => f.w_1?,
            Observable::WPerp => f.w_perp?,
        };
        (v.is_finite() && v > 0.0).then_some(v)
    }
}

/// Values of all seeds at one temperature.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub t: f64,
    /// The values of the converged runs (positive and finite).
    pub values: Vec<f64>,
    /// Runs in the cell, whatever their status.
    pub runs: usize,
}

pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

impl Cell {
    pub fn median(&self) -> f64 {
        median(&self.values)
    }

    /// Some run of the cell did not give a value (diverged, stalled, budget): its median is over
    /// the survivors only, a biased sample, so fits leave the cell out (the censoring rule).
    pub fn censored(&self) -> bool {
        self.values.len() < self.runs
    }

    /// The smallest and the largest value (the seed spread drawn in figures).
    pub fn spread(&self) -> (f64, f64) {
        self.values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            })
    }

    /// Standard error of the mean of `ln y` over seeds (`None` with fewer than two).
    pub fn log_standard_error(&self) -> Option<f64> {
        let n = self.values.len();
        (n >= 2).then(|| {
            let l: Vec<f64> = self.values.iter().map(|v| v.ln()).collect();
            let m = l.iter().sum::<f64>() / n as f64;
            (l.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64 / n as f64).sqrt()
        })
    }
}

/// `y(T)` at one `P`, cells in increasing `T`.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub p: usize,
    pub cells: Vec<Cell>,
}

impl Curve {
    /// (T, median y) pairs.
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.cells.iter().map(|c| (c.t, c.median())).collect()
    }

    /// The curve without its censored cells (what the fits use).
    pub fn uncensored(&self) -> Curve {
        Curve {
            p: self.p,
            cells: self
                .cells
                .iter()
                .filter(|c| !c.censored())
                .cloned()
                .collect(),
        }
    }
}

/// Runs that differ only in temperature, training-set size and seeds.
#[derive(Clone, Debug)]
pub struct Group {
    pub label: String,
    /// The config of one of its runs (temperature, `p` and seeds are arbitrary).
    pub config: RunConfig,
    pub runs: Vec<RunResult>,
}

/// The config without what varies inside a group (and without budgets and output settings).
fn group_key(c: &RunConfig, keep_alpha: bool) -> String {
    let mut k = RunConfig {
        temperature: None,
        lr: None,
        p: 0,
        p_test: 0,
        seed_init: 0,
        seed_batch: 0,
        seed_train: 0,
        seed_test: 0,
        max_steps: None,
        max_wall: None,
        checkpoints_per_decade: None,
        divergence_factor: None,
        ..c.clone()
    };
    if !keep_alpha {
        k.alpha = 0.0;
    }
    serde_json::to_string(&k).expect("config serializes")
}

/// A short description: `fc L=5 h=64, mnist-parity, alpha=32768, B=16` (`, cross-entropy`
/// appended for that loss, `, trainer train.py v2` for an external trainer's runs).
pub fn label(c: &RunConfig, with_alpha: bool) -> String {
    let model = c.model_label();
    let data = match (c.dim, c.chi, &c.positive) {
        (Some(d), Some(chi), _) => format!("{} d={d} chi={chi}", c.dataset),
        (_, _, Some(positive)) => {
            let classes: Vec<String> = positive.iter().map(i64::to_string).collect();
            format!("{} +{}", c.dataset, classes.join("+"))
        }
        _ => c.dataset.to_string(),
    };
    let alpha = if with_alpha {
        format!(", alpha={}", c.alpha)
    } else {
        String::new()
    };
    // Hinge, the default, stays unnamed so labels (and figure file names) read as before.
    let loss = match c.loss {
        Some(l) if l != crate::config::Loss::Hinge => format!(", {l}"),
        _ => String::new(),
    };
    // An external trainer's runs say whose they are: the script (the command's last word).
    let trainer = c.trainer.as_ref().map_or(String::new(), |t| {
        let name = t.command.last().map_or("", |w| {
            std::path::Path::new(w)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(w)
        });
        let version = t
            .version
            .as_ref()
            .map_or(String::new(), |v| format!(" v{v}"));
        // Its own parameters (a grid may vary them), strings without quotes.
        let params: String = t
            .params
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!(" {k}={s}"),
                v => format!(" {k}={v}"),
            })
            .collect();
        format!(", trainer {name}{version}{params}")
    });
    format!("{model}, {data}{alpha}, B={}{loss}{trainer}", c.batch)
}

/// Group runs by everything but T, P and seeds (`by_alpha`: alpha too splits groups).
pub fn group_runs(results: &[RunResult], by_alpha: bool) -> Vec<Group> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for r in results {
        let key = group_key(&r.config, by_alpha);
        groups
            .entry(key)
            .or_insert_with(|| Group {
                label: label(&r.config, by_alpha),
                config: r.config.clone(),
                runs: Vec::new(),
            })
            .runs
            .push(r.clone());
    }
    groups.into_values().collect()
}

/// Curves of `obs` for every `P` of `runs`, in increasing `P`; temperatures without any
/// converged run are left out, those with some are kept with their run count (see
/// [`Cell::censored`]).
pub fn curves(runs: &[RunResult], obs: Observable) -> Vec<Curve> {
    let mut by_p: BTreeMap<usize, BTreeMap<u64, Cell>> = BTreeMap::new();
    for r in runs {
        let t = r.config.temperature_value();
        let cells = by_p.entry(r.config.p).or_default();
        let cell = cells.entry(t.to_bits()).or_insert_with(|| Cell {
            t,
            values: Vec::new(),
            runs: 0,
        });
        cell.runs += 1;
        if let Some(v) = obs.value(r) {
            cell.values.push(v);
        }
    }
    by_p.into_iter()
        .map(|(p, cells)| {
            let mut cells: Vec<Cell> = cells
                .into_values()
                .filter(|c| !c.values.is_empty())
                .collect();
            cells.sort_by(|a, b| a.t.total_cmp(&b.t));
            Curve { p, cells }
        })
        .filter(|c| !c.cells.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
