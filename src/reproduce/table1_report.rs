//! The report of `reproduce table1`: every row run, in the paper's layout (model / regime, b,
//! gamma, delta, the ratio, a) with both kinds of error bar and the verdicts of
//! `analysis::exponents`; the rows skipped and why; the Fig. 1b phase diagram when it ran; the
//! run time per row and the whole wall time; each row's figures. Every number comes from the runs through the
//! analysis code.

use super::fc_mnist::Preset;
use super::fc_mnist_report::{figure_links, run_summary, show, table1_row, table1_row_named};
use super::plan::Planned;
use super::table1::prediction_depth;
use super::timing::Timing;
use super::{Report, Skipped};
use crate::analysis::{analyze_declared, conventions, load_results};
use crate::error::Result;
use crate::plot::figures::all_figures;
use crate::table::{Cell, Table};
use std::fmt::Write as _;
use std::path::Path;

/// The line under the runs table: the whole reproduction's wall time.
fn wall_note(timing: &Timing) -> String {
    if timing.invocations == 0 {
        "Wall time: not measured here (every run was found done, or run by another command).".into()
    } else {
        format!(
            "Wall time of `reproduce table1` here: {} with {} workers, all rows in one queue (largest runs first), measured while it ran and added up over {} invocation(s). A row's share is its summed run time.",
            minutes(timing.total_wall_s),
            timing.jobs,
            timing.invocations
        )
    }
}

fn minutes(s: f64) -> String {
    if s < 90.0 {
        format!("{s:.0} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

/// A Table 1 row; the perceptron's label names its chi (two rows differ only there).
fn row_with_chi(g: &crate::analysis::exponents::GroupExponents) -> String {
    match (g.config.model, g.config.chi) {
        (crate::config::ModelKind::Perceptron, Some(chi)) => {
            table1_row_named(g, &format!("perceptron chi = {chi}"))
        }
        _ => table1_row(g),
    }
}

/// The names of the figures shown inline for a Table 1 row.
const ROW_FIGURES: [&str; 5] = [
    "dw_scaled",
    "tstar_scaled",
    "test_error_vs_TPa",
    "test_error_collapsed",
    "test_error_vs_dw",
];

/// Analyse every row, draw its figures, and write `report.md` and `exponents.csv`.
pub fn write(
    out: &Path,
    preset: Preset,
    planned: &[Planned],
    skipped: &[Skipped],
    timing: &Timing,
) -> Result<Report> {
    let mut figures = 0;
    let (mut rows, mut details, mut phase_text, mut figure_text) =
        (String::new(), String::new(), String::new(), String::new());
    let mut runs_text =
        String::from("| row | runs done / planned | statuses, summed run time |\n|---|---|---|\n");
    let mut csv = Table::default();
    for p in planned {
        let name = p.part.name;
        let results = load_results(&p.store.dir)?;
        let _ = writeln!(
            runs_text,
            "| `{name}` ({}) | {} / {} | {} |",
            p.part.what,
            results.len(),
            p.runs.len(),
            run_summary(&results),
        );
        if results.is_empty() {
            if p.part.regime.is_some() {
                let _ = writeln!(rows, "| {} | not run yet |||||||", p.part.what);
            } else {
                let _ = write!(
                    phase_text,
                    "### `{name}`: {}\n\nNot run yet.\n\n",
                    p.part.what
                );
            }
            continue;
        }
        let analysis = analyze_declared(&results, p.part.regime);
        figures += all_figures(&analysis, &results, &out.join("figures").join(name))?.len();
        if p.part.regime.is_some() {
            for g in &analysis.groups {
                rows += &row_with_chi(g);
            }
            let t = analysis.table();
            for row in t.rows {
                let mut r: Vec<(String, Cell)> = vec![("row".into(), Cell::Str(name.into()))];
                r.extend(t.columns.iter().cloned().zip(row));
                csv.push(r);
            }
            let _ = write!(
                details,
                "\n### `{name}`: {}\n\n{}",
                p.part.what,
                analysis.markdown()
            );
            let _ = write!(
                figure_text,
                "\n### `{name}`\n\n{}",
                figure_links(out, name, &analysis, &ROW_FIGURES)
            );
        }
        for d in &analysis.phases {
            let depth = results.first().and_then(|r| prediction_depth(&r.config));
            let prediction = depth.map_or("no prediction for this net".into(), |d| {
                let d = d as f64;
                format!(
                    "the prediction (D-1)/(D+1) = {:.3} for D = {d}",
                    (d - 1.0) / (d + 1.0)
                )
            });
            let _ = write!(
                phase_text,
                "### `{name}`: {}\n\n{}\nFeature regime: T_max ~ alpha^k with k = {} (blow-ups only; {} counting stalled runs too) against {prediction}. Lazy regime: T_max = {} on average, slope in alpha {} (expected independent of alpha).\n\n{}",
                p.part.what,
                d.summary(),
                show(d.t_max.k),
                show(d.t_max_with_stalled.k),
                d.t_max.lazy_mean.map_or("-".into(), |t| format!("{t:.3e}")),
                show(d.t_max.lazy_slope),
                figure_links(out, name, &analysis, &[]),
            );
        }
    }
    let skipped_text: String = skipped
        .iter()
        .map(|s| format!("- `{}` ({}): {}\n", s.name, s.what, s.reason))
        .collect();
    // This command's own departures, then those of the FC rows (`reproduce fc-mnist`'s).
    let departures: String = departures(preset)
        .iter()
        .map(|[what, theirs, ours]| format!("| {what} | {theirs} | {ours} |\n"))
        .chain(
            preset
                .departures()
                .iter()
                .map(|[what, theirs, ours]| format!("| FC: {what} | {theirs} | {ours} |\n")),
        )
        .collect();
    let table1 = format!(
        "| model / regime | b | gamma | delta | zeta | gamma/delta or (gamma-zeta)/delta | a | verdict |\n|---|---|---|---|---|---|---|---|\n{rows}"
    );
    let mut phase_section = phase_text.clone();
    if skipped.iter().any(|s| s.name == "cifar-mnas-phase") {
        phase_section += "Fig. 1b not run: it needs CIFAR-10 (see the skipped rows).\n\n";
    }
    let text = format!(
        "# `sgd-regimes reproduce table1 --preset {}`\n\n\
         Table 1 of Sclocchi, Geiger, Wyart, \"Dissecting the Effects of SGD Noise in Distinct Regimes of Deep Learning\": every row the data here allows, each exponent as value ± statistical error [range over which the collapse stays acceptable]. The FC rows on MNIST are the runs of `reproduce fc-mnist` (reused).\n\n\
         ## Table 1\n\n{table1}\n\
         Rows not run:\n\n{}\n\
         ## Runs and time per row\n\n{runs_text}\n{}\n\n\
         ## Phase diagrams (Fig. 1a, Fig. 1b)\n\n{phase_section}\
         ## Details of the fits\n{details}\n\
         ## Where this preset departs from the authors' settings\n\n| setting | authors | this preset |\n|---|---|---|\n{departures}\n\
         ## Conventions\n\n{}\n\n## Figures\n{figure_text}",
        preset.name(),
        if skipped_text.is_empty() {
            "none\n".into()
        } else {
            skipped_text
        },
        wall_note(timing),
        conventions()
    );
    // The summary: Table 1 and the phase-diagram summary.
    let report = Report::write(out, &text, figures, format!("{table1}\n{phase_text}"))?;
    crate::table::write(&csv, &out.join("exponents.csv"))?;
    Ok(report)
}

/// Where a preset departs from the authors' settings (method §7), beyond the FC rows (whose
/// departures `reproduce fc-mnist` lists).
fn departures(preset: Preset) -> Vec<[&'static str; 3]> {
    match preset {
        Preset::Paper => vec![
            [
                "FC rows and Fig. 1a",
                "see `reproduce fc-mnist`",
                "the `reproduce fc-mnist --preset paper` runs (rows `FC:` below)",
            ],
            [
                "CNN rows",
                "h = 64, full MNIST, P = 1024 .. 16384, P_test = 32768, 5 seeds",
                "the laptop preset's rows, the same runs: h = 8, the bundled digits, P = 256 .. 4096, P_test = 2048, 3 seeds, T = 2^-8 .. 2^4 (the authors' widths: about 10 days of wall time on 2 cores here, `--preset cluster --dry-run`)",
            ],
            [
                "simple-cnn rows",
                "not among the published commands",
                "as mnas",
            ],
            [
                "perceptron chi = 1.5, 4",
                "d = 16 .. 128, P = 1024 .. 16384, P_test = 32768, 5 seeds",
                "d = 128 only; their P, P_test and seeds, T = 2^-16 .. 2^1",
            ],
        ],
        Preset::Quick => vec![[
            "everything",
            "h = 64, P to 16384, 5 seeds",
            "a smoke test: h = 2, P = 64 .. 128, 1 seed; its exponents are not a measurement",
        ]],
        Preset::Cluster => vec![
            [
                "simple-cnn rows",
                "not among the published commands",
                "as mnas: h = 64, the same T, P and seeds",
            ],
            ["perceptron chi = 1.5, 4", "d = 16 .. 128", "d = 128 only"],
        ],
        Preset::Laptop => vec![
            [
                "data",
                "full MNIST (70,000 digits)",
                "the 10,000 bundled digits (P + P_test <= 10,000)",
            ],
            ["CNN width h", "64", "8"],
            ["P (CNNs)", "1024 .. 16384", "256 .. 4096"],
            ["P_test (CNNs)", "32768", "2048"],
            ["seeds (CNNs)", "5", "3"],
            [
                "T (CNNs)",
                "temp 2^-20 .. 2^0, i.e. T = 2^-14 .. 2^6 at h = 64",
                "T = 2^-8 .. 2^4: the low-T cost grows as 1/T",
            ],
            [
                "perceptron",
                "d = 16 .. 128, P = 1024 .. 16384, P_test = 32768, 5 seeds",
                "d = 128, P = 256 .. 8192, P_test = 4096, 4 seeds, T = 2^-18 .. 2^-2",
            ],
            [
                "FC rows",
                "see `reproduce fc-mnist`",
                "the `reproduce fc-mnist --preset laptop` runs",
            ],
        ],
    }
}
