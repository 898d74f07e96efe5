//! `sgd-regimes reproduce decision-boundary`: the paper's Fig. 5, decision boundaries learnt at
//! increasing temperature in two dimensions. `depleted-sign` data with `d = 2` (`y = sign(x_1)`,
//! so the true boundary is `x_1 = 0`), P = 32 training points; the perceptron (alpha = 1, so
//! the margin is not negligible against the noise: at alpha -> infinity a temperature only
//! rescales a linear model's weights) and a one-hidden-layer fc net in the lazy regime
//! (h = 128, alpha = 32768, B = 4, from the kernel regime to dw ~ 1), each trained to zero
//! hinge loss at four temperatures; the learnt `F(x) = 0` drawn over the true boundary.

use super::plan::Planning;
use super::{Plan, Report, Reproduction};
use crate::config::{DatasetKind, ModelKind, RunConfig, ValidConfig};
use crate::error::Result;
use crate::model;
use crate::plot::boundary::{BoundaryPanel, save_boundaries};
use crate::train::result::{RunResult, Status};
use crate::train::{Options, run_on_keeping_weights};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Grid points per side of the plane drawn.
const GRID: usize = 120;
/// Half-width of the square drawn.
const EXTENT: f64 = 3.0;

/// The nets and temperatures of the figure: (label, config without temperature, temperatures).
fn settings() -> Vec<(&'static str, RunConfig, [f64; 4])> {
    let data = RunConfig {
        dataset: DatasetKind::DepletedSign,
        dim: Some(2),
        chi: Some(0.0),
        p: 32,
        p_test: 4096,
        checkpoints_per_decade: Some(0),
        ..RunConfig::default()
    };
    vec![
        (
            "perceptron",
            RunConfig {
                model: ModelKind::Perceptron,
                alpha: 1.0,
                batch: 2,
                ..data.clone()
            },
            [1e-3, 1e-1, 1.0, 4.0],
        ),
        (
            "fc L=1, h=128",
            RunConfig {
                model: ModelKind::Fc,
                depth: Some(1),
                width: Some(128),
                alpha: 32768.0,
                batch: 4,
                ..data
            },
            [1e-2, 1.0, 8.0, 32.0],
        ),
    ]
}

/// `F(x) = f(w, x) - f(w0, x)` of `cfg`'s net on the grid.
fn function_on_grid(cfg: &ValidConfig, weights: &[f32]) -> Vec<f32> {
    let mut net = model::build(&cfg.net, 1, [1, 1, 2]).expect("fc builds for 2-d inputs");
    let w0 = net.init_params(cfg.seeds.init);
    let h = 2.0 * EXTENT / GRID as f64;
    let x: Vec<f32> = (0..GRID * GRID)
        .flat_map(|k| {
            let (i, j) = (k % GRID, k / GRID);
            [
                (-EXTENT + (i as f64 + 0.5) * h) as f32,
                (-EXTENT + (j as f64 + 0.5) * h) as f32,
            ]
        })
        .collect();
    let (mut f, mut f0) = (vec![0.0; GRID * GRID], vec![0.0; GRID * GRID]);
    net.predict(weights, &x, &mut f);
    net.predict(&w0, &x, &mut f0);
    f.iter().zip(&f0).map(|(a, b)| a - b).collect()
}

/// `reproduce decision-boundary`: no sweep; its report trains the eight nets (a few seconds).
#[derive(clap::Args, Clone, Debug)]
pub struct DecisionBoundary {
    /// Output directory (decision_boundaries.png and .svg, report.md).
    #[arg(long, default_value = "reproduce-decision-boundary")]
    pub out: PathBuf,
}

impl Reproduction for DecisionBoundary {
    fn command(&self) -> String {
        "reproduce decision-boundary".into()
    }

    fn out(&self) -> PathBuf {
        self.out.clone()
    }

    fn plan(&self, _out: &Path, _planning: Planning) -> Result<Plan> {
        Ok(Plan::default())
    }

    fn report(&self, out: &Path, _plan: &Plan) -> Result<Report> {
        reproduce(out)
    }
}

/// Train every net of the figure, draw it, and write `report.md` into `out`.
pub fn reproduce(out: &Path) -> Result<Report> {
    std::fs::create_dir_all(out).map_err(|e| crate::Error::io(out, e))?;
    let mut panels = Vec::new();
    let mut table = String::from(
        "| net | T | status | t* or t | test error | dw (perceptron, w0 = 0: norm of w) |\n|---|---|---|---|---|---|\n",
    );
    for (label, base, temps) in settings() {
        for t in temps {
            let cfg = RunConfig {
                temperature: Some(t),
                ..base.clone()
            }
            .validated()?;
            let split = crate::data::load(&cfg)?;
            let (r, weights): (RunResult, Vec<f32>) =
                run_on_keeping_weights(&cfg, &split, Options::default())?;
            let f = &r.final_state;
            let _ = writeln!(
                table,
                "| {label} | {t:e} | {} | {:.3e} | {:.3} | {} |",
                r.status,
                f.t,
                f.test_error,
                if f.weight_change.is_finite() {
                    format!("dw {:.2e}", f.weight_change)
                } else {
                    format!("norm {:.2e}", f.weight_norm)
                }
            );
            panels.push(BoundaryPanel {
                title: match r.status {
                    Status::Converged => {
                        format!("{label}, T = {t:e}: test error {:.3}", f.test_error)
                    }
                    s => format!("{label}, T = {t:e}: {s}"),
                },
                f: function_on_grid(&cfg, &weights),
                n: GRID,
                extent: EXTENT,
                points: (0..split.train.len())
                    .map(|i| {
                        let x = split.train.row(i);
                        (x[0] as f64, x[1] as f64, split.train.y[i])
                    })
                    .collect(),
            });
        }
    }
    save_boundaries(
        &panels,
        4,
        "learnt boundary F(x) = 0 (black), true boundary x_1 = 0 (green), 32 training points",
        &out.join("decision_boundaries"),
    )?;
    let text = format!(
        "# `sgd-regimes reproduce decision-boundary`\n\n\
         The paper's Fig. 5: `depleted-sign` data in d = 2 (`y = sign(x_1)`, chi = 0), P = 32, trained to zero hinge loss at four temperatures each; background: the sign of the learnt `F`; black: `F(x) = 0`; green: the true boundary `x_1 = 0`. Perceptron: alpha = 1, B = 2 (at large alpha a temperature only rescales a linear model's weights, so the boundary would not move). fc: one hidden layer, h = 128, alpha = 32768 (lazy), B = 4. Test errors on 4096 points.\n\n\
         {table}\n![decision boundaries](decision_boundaries.png)\n"
    );
    let report = Report::write(out, &text, 1, table)?;
    Ok(Report {
        figure_dir: out.to_path_buf(),
        ..report
    })
}
