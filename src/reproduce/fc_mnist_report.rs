//! The report of `reproduce fc-mnist`: the Table-1-shaped exponents table of the lazy and
//! feature FC rows, the phase diagram, and every figure, into `out/report.md`.

use super::fc_mnist::{Planned, Preset};
use crate::analysis::{analyze_declared, load_results};
use crate::error::Result;
use crate::plot::figures::all_figures;
use std::path::{Path, PathBuf};

pub struct Report {
    pub path: PathBuf,
    pub figures: usize,
    /// The exponents table and the phase-diagram summary, for the terminal.
    pub summary: String,
}

/// Analyse every part's results, draw the figures and write the report.
pub fn write(out: &Path, preset: Preset, planned: &[Planned]) -> Result<Report> {
    let mut summary = String::new();
    let mut figures = 0;
    for p in planned {
        let results = load_results(&p.store.dir)?;
        if results.is_empty() {
            continue;
        }
        let analysis = analyze_declared(&results, p.part.regime);
        summary += &format!(
            "## {} ({})\n\n{}\n",
            p.part.name,
            p.part.what,
            analysis.markdown()
        );
        for d in &analysis.phases {
            summary += &d.summary();
        }
        figures += all_figures(&analysis, &results, &out.join("figures").join(p.part.name))?.len();
    }
    let path = out.join("report.md");
    let text = format!(
        "# reproduce fc-mnist --preset {}\n\n{summary}",
        preset.name()
    );
    crate::io::write_atomic(&path, text.as_bytes())?;
    Ok(Report {
        path,
        figures,
        summary,
    })
}
