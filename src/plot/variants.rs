//! Curves that should coincide at equal `T`, one colour per variant (`analysis::variants`).

use super::{Plot, Series};
use crate::analysis::curves::{Observable, median};
use crate::analysis::variants::{Variant, cells_by};
use crate::train::result::RunResult;

/// `obs` against `T`, one curve per variant (medians over seeds, their spread as bars).
pub fn variants_figure(runs: &[RunResult], obs: Observable, variant: Variant, title: &str) -> Plot {
    let series = cells_by(runs, obs, variant)
        .into_iter()
        .enumerate()
        .map(|(k, (label, cells))| Series {
            label,
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
