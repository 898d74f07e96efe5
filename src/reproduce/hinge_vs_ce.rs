//! `sgd-regimes reproduce hinge-vs-ce`: the lazy fc exponents with the hinge loss and with
//! cross-entropy stopped early (method §6; the paper's Fig. 17). The same grid for both losses
//! (fc L = 5, h = 64, MNIST parity, alpha = 32768, B = 16), analysed by the same code as the
//! hinge sweeps (declared lazy): Table 1's row for each loss, each loss's figures, and test
//! error, dw and t* against T at the largest P with one colour per loss.

use super::fc_mnist_report::table1_row_named;
use super::plan::{Part, Planned, ints, log2, seeds, table};
use super::{QuickArgs, QuickReproduction, Report};
use crate::analysis::curves::Observable;
use crate::analysis::variants::Variant;
use crate::analysis::{analyze_declared, load_results};
use crate::config::Regime;
use crate::error::Result;
use crate::plot::figures::all_figures;
use crate::plot::save_plot;
use crate::plot::variants::variants_figure;
use std::fmt::Write as _;
use std::path::Path;

/// One sweep per loss. `quick`: a small net, three sizes, five temperatures, one seed.
pub fn parts(quick: bool) -> Vec<Part> {
    let ((depth, width), ps, t, seed_count, p_test): (_, &[i64], _, _, _) = if quick {
        ((2, 16), &[128, 256, 512], log2(-12, 0, 3.0), 1, 512)
    } else {
        ((5, 64), &[256, 512, 1024, 2048], log2(-14, 2, 1.0), 2, 2048)
    };
    [
        ("hinge", "fc lazy, hinge loss", "hinge"),
        (
            "cross-entropy",
            "fc lazy, cross-entropy with early stopping",
            "cross-entropy",
        ),
    ]
    .into_iter()
    .map(|(name, what, loss)| {
        let base = table([
            ("model", "fc".into()),
            ("depth", depth.into()),
            ("width", width.into()),
            ("dataset", "mnist-parity".into()),
            ("alpha", 32768.0.into()),
            ("batch", 16.into()),
            ("p_test", p_test.into()),
            ("loss", loss.into()),
        ]);
        let grid = table([
            ("p", ints(ps)),
            ("temperature", t.clone()),
            ("seed", seeds(seed_count)),
        ]);
        Part {
            name,
            what,
            regime: Some(Regime::Lazy),
            title: format!(
                "sgd-regimes reproduce hinge-vs-ce{}: {what}",
                if quick { " --quick" } else { "" }
            ),
            sweep: table([("base", base.into()), ("grid", grid.into())]),
        }
    })
    .collect()
}

/// `reproduce hinge-vs-ce`.
#[derive(clap::Args, Clone, Debug)]
pub struct HingeVsCe {
    #[command(flatten)]
    pub args: QuickArgs,
}

impl QuickReproduction for HingeVsCe {
    const NAME: &'static str = "hinge-vs-ce";

    fn args(&self) -> &QuickArgs {
        &self.args
    }

    fn parts(quick: bool) -> Vec<Part> {
        parts(quick)
    }

    fn report(&self, out: &Path, planned: &[Planned]) -> Result<Report> {
        report(out, planned)
    }
}

/// Analyse each loss's runs, draw, and write `report.md`.
pub fn report(out: &Path, planned: &[Planned]) -> Result<Report> {
    let fig_dir = out.join("figures");
    let mut rows = String::new();
    let mut figures = Vec::new();
    let mut links = String::new();
    let mut all = Vec::new();
    for p in planned {
        let runs = load_results(&p.store.dir)?;
        let analysis = analyze_declared(&runs, p.part.regime);
        for g in &analysis.groups {
            rows += &table1_row_named(g, &format!("{} {}", p.part.name, g.config.model_label()));
        }
        figures.extend(all_figures(&analysis, &runs, &fig_dir.join(p.part.name))?);
        for g in &analysis.groups {
            let stem = crate::plot::figures::slug(&g.label);
            let _ = writeln!(
                links,
                "![{0} dw P^-gamma](figures/{0}/{stem}__dw_scaled.png)",
                p.part.name
            );
        }
        all.extend(runs);
    }
    // The largest P both losses reached: one colour per loss.
    let p_max = all.iter().map(|r| r.config.p).max().unwrap_or(0);
    let at_p: Vec<_> = all.into_iter().filter(|r| r.config.p == p_max).collect();
    for obs in [
        Observable::TestError,
        Observable::WeightChange,
        Observable::TStar,
    ] {
        let plot = variants_figure(
            &at_p,
            obs,
            Variant::Loss,
            &format!(
                "{} against T at P = {p_max}, hinge and cross-entropy",
                obs.name()
            ),
        );
        if let Some(png) = save_plot(&plot, &fig_dir.join(format!("losses__{}", obs.slug())))? {
            let _ = writeln!(
                links,
                "![{} by loss](figures/losses__{}.png)",
                obs.name(),
                obs.slug()
            );
            figures.push(png);
        }
    }
    let table = format!(
        "| loss, model / regime | b | gamma | delta | zeta | gamma/delta | a | verdict |\n|---|---|---|---|---|---|---|---|\n{rows}"
    );
    let text = format!(
        "# `sgd-regimes reproduce hinge-vs-ce`\n\n\
         The lazy fc exponents with the hinge loss and with cross-entropy stopped early (a checkpoint every epoch; stop once the training error is zero and the test error did not improve; each run reported at its checkpoint of lowest test error, so `t*` is that checkpoint's time). Same grid, same analysis (declared lazy). Each exponent as value ± statistical error [acceptable range].\n\n\
         {table}\n## Figures\n\n{links}"
    );
    Report::write(out, &text, figures.len(), table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Loss;
    use crate::sweep::SweepSpec;

    #[test]
    fn both_losses_run_the_same_grid_declared_lazy() {
        for quick in [false, true] {
            let specs: Vec<SweepSpec> = parts(quick)
                .iter()
                .map(|p| SweepSpec::parse(&p.text(), p.name).unwrap())
                .collect();
            let [hinge, ce] = [&specs[0], &specs[1]].map(|s| s.runs().unwrap());
            assert_eq!(hinge.len(), ce.len());
            assert!(specs.iter().all(|s| s.regime == Some(Regime::Lazy)));
            assert!(
                hinge
                    .iter()
                    .all(|r| r.config.loss.unwrap_or_default() == Loss::Hinge)
            );
            assert!(ce.iter().all(|r| r.config.loss == Some(Loss::CrossEntropy)));
            for (h, c) in hinge.iter().zip(&ce) {
                assert_eq!(
                    (h.config.p, h.config.temperature),
                    (c.config.p, c.config.temperature)
                );
            }
        }
    }
}
