//! The report of a reproduction that compares runs at equal `T` across a variant (batch size
//! or dynamics): per sweep and observable a figure and a verdict (`analysis::variants`).

use super::Report;
use super::plan::Planned;
use crate::analysis::curves::Observable;
use crate::analysis::load_results;
use crate::analysis::variants::{Variant, agreement, ratios_to_first};
use crate::error::Result;
use crate::plot::save_plot;
use crate::plot::variants::variants_figure;
use std::fmt::Write as _;
use std::path::Path;

/// The observables compared.
pub const OBSERVABLES: [Observable; 3] = [
    Observable::TestError,
    Observable::WeightChange,
    Observable::TStar,
];

/// Figures and `report.md` (titled `title`, introduced by `intro`) from the runs done so far.
pub fn write_report(
    out: &Path,
    planned: &[Planned],
    variant: Variant,
    title: &str,
    intro: &str,
) -> Result<Report> {
    let fig_dir = out.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| crate::Error::io(&fig_dir, e))?;
    let mut figures = Vec::new();
    let mut table = format!(
        "| sweep | observable | temperatures compared | spread across {} | spread across seeds | verdict |\n|---|---|---|---|---|---|\n",
        variant.name()
    );
    let mut ratios = format!(
        "| sweep | observable | {0} | median over T of its median / the first {0}'s [smallest, largest] |\n|---|---|---|---|\n",
        variant.name()
    );
    let mut links = String::new();
    for p in planned {
        let runs = load_results(&p.store.dir)?;
        for obs in OBSERVABLES {
            let plot = variants_figure(
                &runs,
                obs,
                variant,
                &format!("{}: {} against T", p.part.what, obs.name()),
            );
            if let Some(png) = save_plot(
                &plot,
                &fig_dir.join(format!("{}__{}", p.part.name, obs.slug())),
            )? {
                let _ = writeln!(
                    links,
                    "![{} {}](figures/{})",
                    p.part.name,
                    obs.name(),
                    png.file_name().unwrap_or_default().to_string_lossy()
                );
                figures.push(png);
            }
            let row = match agreement(&runs, obs, variant) {
                Some(a) => format!(
                    "| {} | {} | {} | {:.3} | {:.3} | {} |",
                    p.part.what,
                    obs.name(),
                    a.temperatures,
                    a.across_variants,
                    a.across_seeds,
                    if a.agree() {
                        format!(
                            "{} does not matter at equal T (within single-run scatter)",
                            variant.name()
                        )
                    } else {
                        format!("{} matters beyond T", variant.name())
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
            for r in ratios_to_first(&runs, obs, variant) {
                let _ = writeln!(
                    ratios,
                    "| {} | {} | {} | {:.2} [{:.2}, {:.2}] |",
                    p.part.what,
                    obs.name(),
                    r.label,
                    r.median,
                    r.min,
                    r.max
                );
            }
        }
    }
    let v = variant.name();
    let text = format!(
        "# {title}\n\n{intro}\n\n\
         Spreads are standard deviations of `ln y`: across {v}, of the medians over seeds at one `T` (the median over temperatures is shown); across seeds, of single runs in one `({v}, T)` cell (median over cells). Only converged runs count.\n\n\
         {table}\n## How far each {v} lies from the first\n\nAt each temperature where both have converged runs, the median over seeds of the {v} divided by that of the first {v} (the order of the figures' legends).\n\n{ratios}\n## Figures\n\n{links}"
    );
    Report::write(out, &text, figures.len(), table)
}
