//! The report of `reproduce fc-mnist`: Table 1's two FC rows (lazy and feature) in the paper's
//! layout with both kinds of error bar, the `(alpha, T)` phase diagram with `T_max ~ alpha^k`
//! next to the prediction `(D-1)/(D+1)`, the details of every fit, every figure, and where the
//! preset departs from the authors' settings. Every number comes from the runs through the
//! analysis code.

use super::fc_mnist::{Planned, Preset};
use crate::analysis::exponents::GroupExponents;
use crate::analysis::fit::Estimate;
use crate::analysis::{Analysis, analyze_declared, conventions, load_results};
use crate::error::Result;
use crate::plot::figures::{all_figures, slug};
use crate::table::Table;
use crate::train::result::{RunResult, Status};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub struct Report {
    pub path: PathBuf,
    pub figures: usize,
    /// The exponents table and the phase-diagram summary, for the terminal.
    pub summary: String,
}

pub(super) fn show(e: Option<Estimate>) -> String {
    e.map_or("-".into(), |e| e.show())
}

fn with_range(e: Option<Estimate>, r: Option<crate::analysis::accept::Acceptable>) -> String {
    match (e, r) {
        (Some(e), Some(r)) => format!("{} {}", e.show(), r.show()),
        (e, _) => show(e),
    }
}

/// One Table-1 row: model / regime, b, gamma, delta, ratio, a, verdict.
pub(super) fn table1_row(g: &GroupExponents) -> String {
    let law = g.main.law.as_ref();
    let m = g.measured_a();
    let ratio_name = if g.ratio_uses_zeta {
        "(gamma-zeta)/delta"
    } else {
        "gamma/delta"
    };
    format!(
        "| {} / {} | {} | {} | {} | {} | {ratio_name} = {} | {} | {} |\n",
        g.config.model_label(),
        g.regime,
        with_range(g.b, g.b_accept),
        with_range(g.gamma(), law.and_then(|l| l.gamma_accept)),
        with_range(g.delta(), law.and_then(|l| l.delta_accept)),
        with_range(g.main.zeta, g.main.zeta_accept),
        show(g.ratio),
        m.as_ref()
            .map_or("-".into(), |m| with_range(Some(m.a), m.accept)),
        g.verdict(),
    )
}

/// Runs per status and the summed wall time of the runs.
pub(super) fn run_summary(results: &[RunResult]) -> String {
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|s| format!("{} {s}", results.iter().filter(|r| r.status == *s).count()))
        .collect();
    let cpu: f64 = results.iter().map(|r| r.timing.wall_s).sum::<f64>() + 0.0;
    format!("({}), {:.0} s of run time in all", counts.join(", "), cpu)
}

/// The figures of a part worth showing inline, as Markdown image links relative to `out`.
pub(super) fn figure_links(out: &Path, part: &str, analysis: &Analysis, names: &[&str]) -> String {
    let mut s = String::new();
    for g in &analysis.groups {
        for name in names {
            let rel = format!("figures/{part}/{}__{name}.png", slug(&g.label));
            if out.join(&rel).is_file() {
                let _ = writeln!(s, "![{name} ({part})]({rel})");
            }
        }
    }
    for d in &analysis.phases {
        let rel = format!("figures/{part}/{}__phase_P{}.png", slug(&d.label), d.p);
        if out.join(&rel).is_file() {
            let _ = writeln!(s, "![phase diagram]({rel})");
        }
    }
    s
}

/// Analyse every part's results, draw the figures and write `report.md` and `exponents.csv`.
pub fn write(out: &Path, preset: Preset, planned: &[Planned]) -> Result<Report> {
    let mut figures = 0;
    let mut rows = String::new();
    let mut details = String::new();
    let mut phase_text = String::new();
    let mut figure_text = String::new();
    let mut csv = Table::default();
    let mut runs_text = String::new();
    for p in planned {
        let results = load_results(&p.store.dir)?;
        let _ = writeln!(
            runs_text,
            "- `{}` ({}): {} of {} planned runs {}; `sweeps/{}.toml`",
            p.part.name,
            p.part.what,
            results.len(),
            p.runs.len(),
            run_summary(&results),
            p.part.name
        );
        if results.is_empty() {
            continue;
        }
        let analysis = analyze_declared(&results, p.part.regime);
        figures += all_figures(&analysis, &results, &out.join("figures").join(p.part.name))?.len();
        if p.part.regime.is_some() {
            for g in &analysis.groups {
                rows += &table1_row(g);
            }
            let t = analysis.table();
            for row in t.rows {
                csv.push(t.columns.iter().cloned().zip(row).collect());
            }
            let _ = write!(
                details,
                "\n### {} ({})\n\n{}",
                p.part.name,
                p.part.what,
                analysis.markdown()
            );
            figure_text += &figure_links(
                out,
                p.part.name,
                &analysis,
                &[
                    "dw_scaled",
                    "dw_collapsed",
                    "tstar_scaled",
                    "test_error_vs_TPa",
                    "test_error_collapsed",
                    "test_error_vs_dw",
                    "train_error_vs_time",
                ],
            );
        }
        for d in &analysis.phases {
            let depth = results.first().and_then(|r| r.config.depth).unwrap_or(0) as f64;
            let predicted = (depth - 1.0) / (depth + 1.0);
            let _ = write!(
                phase_text,
                "{}\nFeature regime: T_max ~ alpha^k with k = {} (blow-ups only; {} counting stalled runs too) against the prediction (D-1)/(D+1) = {predicted:.3} for D = {depth} hidden layers. Lazy regime: T_max = {} on average, slope in alpha {} (expected independent of alpha).\n\n",
                d.summary(),
                show(d.t_max.k),
                show(d.t_max_with_stalled.k),
                d.t_max.lazy_mean.map_or("-".into(), |t| format!("{t:.3e}")),
                show(d.t_max.lazy_slope),
            );
            figure_text += &figure_links(out, p.part.name, &analysis, &[]);
        }
    }
    let departures: String = preset
        .departures()
        .iter()
        .map(|[what, theirs, ours]| format!("| {what} | {theirs} | {ours} |\n"))
        .collect();
    let table1 = format!(
        "| model / regime | b | gamma | delta | zeta | gamma/delta or (gamma-zeta)/delta | a | verdict |\n|---|---|---|---|---|---|---|---|\n{rows}"
    );
    let text = format!(
        "# `sgd-regimes reproduce fc-mnist --preset {}`\n\n\
         The paper's fully-connected results on MNIST parity (Sclocchi, Geiger, Wyart, \"Dissecting the Effects of SGD Noise in Distinct Regimes of Deep Learning\"): Table 1's FC rows and the phase diagram of Fig. 1a. Each exponent is given as value ± statistical error [range over which the collapse stays acceptable].\n\n\
         ## Runs\n\n{runs_text}\n\
         ## Table 1: FC rows\n\n{table1}\n\
         ## Phase diagram (Fig. 1a)\n\n{phase_text}\
         ## Details of the fits\n{details}\n\
         ## Where this preset departs from the authors' settings\n\n| setting | authors | this preset |\n|---|---|---|\n{departures}\n\
         ## Conventions\n\n{}\n\n## Figures\n\n{figure_text}",
        preset.name(),
        conventions()
    );
    let path = out.join("report.md");
    crate::io::write_atomic(&path, text.as_bytes())?;
    crate::table::write(&csv, &out.join("exponents.csv"))?;
    Ok(Report {
        path,
        figures,
        summary: format!("{table1}\n{phase_text}"),
    })
}
