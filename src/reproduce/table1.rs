//! `sgd-regimes reproduce table1`: every row of the paper's Table 1 that the data on this
//! machine allows, one sweep per row, and (with CIFAR-10) the phase diagram of its Fig. 1b.
//!
//! - FC lazy and feature rows on MNIST parity and the phase diagram of its Fig. 1a: the sweeps
//!   of `reproduce fc-mnist`, whose results directory is reused (runs already there are not
//!   rerun);
//! - mnas and simple-cnn lazy rows on MNIST parity (alpha = 32768, B = 16);
//! - perceptron rows at chi = 1.5 and 4 (d = 128, B = 2, `depleted-sign`);
//! - with CIFAR-10: lazy FC, mnas and simple-cnn, feature FC (alpha = 2^-10) and mnas
//!   (alpha = 1) on the animals-vs-vehicles task, and Fig. 1b (mnas, B = 64, P = 1024).
//!
//! Rows whose data is missing are listed with the reason and skipped. Every row's sweep file is
//! written to `OUT/sweeps/<row>.toml`, so a cluster runs them with `sgd-regimes slurm`.

use super::fc_mnist::{self, Preset};
use super::plan::{self, Part, Planned, Planning, ints, log2, seeds, table};
use toml::{Table, Value};
use super::{Plan, Report, Reproduction, RunFlags, Skipped};
use crate::config::{Regime, RunConfig};
use crate::error::{Error, Result};

use std::path::{Path, PathBuf};

/// `reproduce table1`.
#[derive(clap::Args, Clone, Debug)]
pub struct Table1 {
    /// laptop: the bundled MNIST digits, h = 8 CNNs, the FC rows and Fig. 1a of `reproduce
    /// fc-mnist --preset laptop`; 98 minutes measured on 2 cores (AMD EPYC, 2026-11-30), FC rows
    /// included (BENCHMARKS.md has the faster CNN steps since). paper: the FC rows and Fig. 1a of
    /// `reproduce fc-mnist --preset paper` (the authors' FC settings, full MNIST via --data-dir),
    /// the perceptron at the authors' sizes, the laptop's CNN rows; a few hours on 2 cores.
    /// cluster: the authors' settings (full MNIST via --data-dir) for `sgd-regimes slurm
    /// OUT/sweeps/<row>.toml --results <its results dir>`. quick: a smoke test.
    #[arg(long, value_enum, default_value = "laptop")]
    pub preset: Preset,
    /// Output directory (sweeps/, results/, figures/, report.md, exponents.csv, timing.json)
    /// [default: reproduce-table1-<preset>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Where the FC rows' runs live (`reproduce fc-mnist`'s directory; run there if missing)
    /// [default: reproduce-fc-mnist-<preset>].
    #[arg(long, value_name = "DIR")]
    pub fc_mnist: Option<PathBuf>,
    /// Full MNIST IDX files (required by the paper and cluster presets).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// CIFAR-10 binary files, for the CIFAR rows and Fig. 1b [default: $SGD_REGIMES_CIFAR10,
    /// else data/cifar10 if present; without CIFAR-10 those rows are skipped with a note].
    #[arg(long, value_name = "DIR")]
    pub cifar_dir: Option<String>,
    #[command(flatten)]
    pub run: RunFlags,
}

impl Table1 {
    fn fc_dir(&self) -> PathBuf {
        self.fc_mnist
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("reproduce-fc-mnist-{}", self.preset.name())))
    }
}

impl Reproduction for Table1 {
    fn command(&self) -> String {
        format!("reproduce table1 --preset {}", self.preset.name())
    }

    fn out(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("reproduce-table1-{}", self.preset.name())))
    }

    fn run_flags(&self) -> RunFlags {
        self.run.clone()
    }

    fn shared_dirs(&self) -> Vec<(PathBuf, String)> {
        vec![(
            self.fc_dir(),
            format!("reproduce fc-mnist --preset {}", self.preset.name()),
        )]
    }

    fn plan(&self, out: &Path, planning: Planning) -> Result<Plan> {
        let data = DataDirs {
            mnist: self.data_dir.clone(),
            cifar: find_cifar(self.cifar_dir.as_deref())?,
        };
        let (planned, skipped) = plan(out, &self.fc_dir(), self.preset, &data, planning)?;
        Ok(Plan { planned, skipped })
    }

    fn estimates_wall_time(&self) -> bool {
        true
    }

    fn dry_run_note(&self, _out: &Path) -> Option<String> {
        Some(
            "the estimate is a rough model: calibrated steps, steps per run modelled from fc runs and rescaled by the row's finished runs; expect within 2x"
                .into(),
        )
    }

    fn keeps_timing(&self) -> bool {
        true
    }

    fn report(&self, out: &Path, plan: &Plan) -> Result<Report> {
        let timing = super::timing::Timing::load(out)?;
        super::table1_report::write(out, self.preset, &plan.planned, &plan.skipped, &timing)
    }
}

/// Where the data comes from.
#[derive(Clone, Debug, Default)]
pub struct DataDirs {
    /// Full MNIST IDX files (the bundled 10,000 digits when `None`).
    pub mnist: Option<String>,
    /// CIFAR-10 binary files (rows on CIFAR are skipped when `None`).
    pub cifar: Option<String>,
}

/// The depth `D` of the phase-diagram prediction `k = (D-1)/(D+1)` for a row's net: fc's
/// hidden layers; 9 for mnas (the paper's count for Fig. 1b).
pub fn prediction_depth(cfg: &RunConfig) -> Option<usize> {
    match cfg.model {
        crate::config::ModelKind::Fc => cfg.depth,
        crate::config::ModelKind::Mnas => Some(9),
        _ => None,
    }
}

/// A log2 range `(lo, hi, step)`: `{ log2 = [lo, hi], step = step }`.
type Range = (i64, i64, f64);

/// Sizes of one preset (laptop, cluster, quick).
struct Sizes {
    cnn_width: i64,
    /// Step budget of an mnas run (a run past `T_max` that neither fits nor blows up ends there).
    cnn_max_steps: i64,
    /// The same for simple-cnn, which fits in fewer steps.
    simple_cnn_max_steps: i64,
    fc_width: i64,
    /// P and P_test of the FC rows on CIFAR.
    fc_ps: &'static [i64],
    fc_p_test: i64,
    /// The CNN rows on MNIST use the bundled digits even when a full MNIST is given (the
    /// paper preset keeps the laptop's CNN rows: the same runs).
    cnn_bundled: bool,
    cnn_ps: &'static [i64],
    cnn_t: Range,
    p_test: i64,
    seeds: i64,
    perceptron_ps: &'static [i64],
    perceptron_t: Range,
    perceptron_test: i64,
    perceptron_seeds: i64,
    phase_width: i64,
    phase_alpha: Range,
    phase_t: Range,
    phase_seeds: i64,
}

fn sizes(preset: Preset) -> Sizes {
    match preset {
        // The authors' FC rows (`reproduce fc-mnist --preset paper`) and perceptron sizes; the
        // CNN rows and Fig. 1b keep the laptop's settings, since the authors' CNN widths take
        // weeks of CPU here (`reproduce table1 --preset cluster --dry-run`).
        Preset::Paper => {
            let (laptop, cluster) = (sizes(Preset::Laptop), sizes(Preset::Cluster));
            Sizes {
                fc_width: cluster.fc_width,
                fc_ps: cluster.fc_ps,
                fc_p_test: cluster.fc_p_test,
                cnn_bundled: true,
                perceptron_ps: cluster.perceptron_ps,
                perceptron_t: cluster.perceptron_t,
                perceptron_test: cluster.perceptron_test,
                perceptron_seeds: cluster.perceptron_seeds,
                ..laptop
            }
        }
        // T from 2^-8 (the low-T cost grows as 1/T) to past the divergence (~2^3 for lazy nets).
        Preset::Laptop => Sizes {
            cnn_width: 8,
            // 2.9x the longest converged run of this grid (90,102 steps: mnas, P = 4096,
            // T = 2^-8). Runs at the edge of divergence that neither fit nor blow up (simple-cnn,
            // P = 2048, T = 16: 3 points unfitted from step 17,783 to 40,000 and on) end on this
            // budget after minutes, not hours; the report counts them.
            cnn_max_steps: 262_144,
            // 3.4x the longest converged simple-cnn run (19,450 steps: P = 4096, T = 2^-8). At
            // 2^18 steps the first full pass ended 7 runs at T = 16 on this budget (70% of the
            // row's run time) and none of them had fitted by then.
            simple_cnn_max_steps: 65_536,
            fc_width: 64,
            fc_ps: &[256, 512, 1024, 2048, 4096],
            fc_p_test: 2048,
            cnn_bundled: false,
            cnn_ps: &[256, 512, 1024, 2048, 4096],
            cnn_t: (-8, 4, 1.0),
            p_test: 2048,
            seeds: 3,
            perceptron_ps: &[256, 512, 1024, 2048, 4096, 8192],
            perceptron_t: (-18, -2, 1.0),
            perceptron_test: 4096,
            perceptron_seeds: 4,
            phase_width: 8,
            phase_alpha: (-10, 14, 4.0),
            phase_t: (-12, 4, 2.0),
            phase_seeds: 2,
        },
        // The authors' settings (method §7): mnas h = 64, temp = 2^-20 .. 2^0 (T = temp * h),
        // P = 1024 .. 16384, 5 seeds; perceptron dt = 2^-15 .. 2^2 (T = dt / 2); Fig. 1b h = 32,
        // B = 64, alpha = 2^-14 .. 2^11, dt = 2^-13 .. 2^10 (T = dt / 64), 4 seeds.
        Preset::Cluster => Sizes {
            cnn_width: 64,
            cnn_max_steps: 4_000_000,
            simple_cnn_max_steps: 4_000_000,
            fc_width: 128,
            fc_ps: &[1024, 2048, 4096, 8192, 16384],
            fc_p_test: 32768,
            cnn_bundled: false,
            cnn_ps: &[1024, 2048, 4096, 8192, 16384],
            cnn_t: (-14, 6, 1.0),
            p_test: 32768,
            seeds: 5,
            perceptron_ps: &[1024, 2048, 4096, 8192, 16384],
            perceptron_t: (-16, 1, 1.0),
            perceptron_test: 32768,
            perceptron_seeds: 5,
            phase_width: 32,
            phase_alpha: (-14, 11, 1.0),
            phase_t: (-19, 4, 1.0),
            phase_seeds: 4,
        },
        Preset::Quick => Sizes {
            cnn_width: 2,
            cnn_max_steps: 20_000,
            simple_cnn_max_steps: 20_000,
            fc_width: 32,
            fc_ps: &[64, 128],
            fc_p_test: 256,
            cnn_bundled: false,
            cnn_ps: &[64, 128],
            cnn_t: (-6, 0, 2.0),
            p_test: 256,
            seeds: 1,
            perceptron_ps: &[128, 256, 512],
            perceptron_t: (-14, -2, 2.0),
            perceptron_test: 512,
            perceptron_seeds: 2,
            phase_width: 2,
            phase_alpha: (-8, 12, 10.0),
            phase_t: (-8, 2, 5.0),
            phase_seeds: 1,
        },
    }
}

/// A row: its sweep file's `[base]` and `[grid]` tables, titled for the preset.
fn row(
    preset: Preset,
    (name, what, regime): (&'static str, &'static str, Option<Regime>),
    base: Table,
    grid: Table,
) -> Part {
    Part {
        name,
        what,
        regime,
        title: format!(
            "sgd-regimes reproduce table1 --preset {}: {what}",
            preset.name()
        ),
        sweep: table([("base", base.into()), ("grid", grid.into())]),
    }
}

/// `{ log2 = [lo, hi], step = step }`.
fn range((lo, hi, step): Range) -> Value {
    log2(lo, hi, step)
}

/// The rows of a preset, in Table 1's order, and those skipped for want of data. The FC rows
/// on MNIST are `reproduce fc-mnist`'s parts (results in its own directory).
pub fn rows(preset: Preset, data: &DataDirs) -> (Vec<Part>, Vec<Skipped>) {
    let z = sizes(preset);
    let mut rows: Vec<Part> = fc_mnist_parts(preset, data.mnist.as_deref());
    let cnn_mnist = if z.cnn_bundled {
        None
    } else {
        data.mnist.as_deref()
    };
    // A CNN on `dataset` (from `data_dir` when given) at `alpha`, B = 16.
    let cnn = |model: &str, dataset: &str, data_dir: Option<&str>, alpha: f64| {
        let mut base = table([("model", model.into()), ("dataset", dataset.into())]);
        if let Some(d) = data_dir {
            base.insert("data_dir".into(), d.into());
        }
        let max_steps = if model == "simple-cnn" {
            z.simple_cnn_max_steps
        } else {
            z.cnn_max_steps
        };
        base.extend(table([
            ("width", z.cnn_width.into()),
            ("activation", "relu".into()),
            ("alpha", alpha.into()),
            ("batch", 16.into()),
            ("p_test", z.p_test.into()),
            ("max_steps", max_steps.into()),
        ]));
        base
    };
    let grid = |t: Value, ps: &[i64], seed_count: i64| {
        table([
            ("temperature", t),
            ("p", ints(ps)),
            ("seed", seeds(seed_count)),
        ])
    };
    for (name, what, model) in [
        ("mnas-lazy", "mnas / lazy, MNIST parity", "mnas"),
        (
            "simple-cnn-lazy",
            "simple-cnn / lazy, MNIST parity",
            "simple-cnn",
        ),
    ] {
        rows.push(row(
            preset,
            (name, what, Some(Regime::Lazy)),
            cnn(model, "mnist-parity", cnn_mnist, 32768.0),
            grid(range(z.cnn_t), z.cnn_ps, z.seeds),
        ));
    }
    for (name, what, chi) in [
        ("perceptron-chi1.5", "perceptron / lazy, chi = 1.5", 1.5),
        ("perceptron-chi4", "perceptron / lazy, chi = 4", 4.0),
    ] {
        let base = table([
            ("model", "perceptron".into()),
            ("dataset", "depleted-sign".into()),
            ("dim", 128.into()),
            ("chi", chi.into()),
            ("batch", 2.into()),
            ("alpha", 32768.0.into()),
            ("p_test", z.perceptron_test.into()),
            ("max_steps", 40_000_000.into()),
        ]);
        rows.push(row(
            preset,
            (name, what, Some(Regime::Lazy)),
            base,
            grid(range(z.perceptron_t), z.perceptron_ps, z.perceptron_seeds),
        ));
    }
    let mut skipped = Vec::new();
    let cifar_rows: [(&str, &str, Option<Regime>); 6] = [
        (
            "cifar-fc-lazy",
            "fc / lazy, CIFAR animals",
            Some(Regime::Lazy),
        ),
        (
            "cifar-mnas-lazy",
            "mnas / lazy, CIFAR animals",
            Some(Regime::Lazy),
        ),
        (
            "cifar-simple-cnn-lazy",
            "simple-cnn / lazy, CIFAR animals",
            Some(Regime::Lazy),
        ),
        (
            "cifar-fc-feature",
            "fc / feature (alpha = 2^-10), CIFAR animals",
            Some(Regime::Feature),
        ),
        (
            "cifar-mnas-feature",
            "mnas / feature (alpha = 1), CIFAR animals",
            Some(Regime::Feature),
        ),
        (
            "cifar-mnas-phase",
            "mnas (alpha, T) phase diagram, CIFAR animals (Fig. 1b)",
            None,
        ),
    ];
    let Some(cifar) = data.cifar.as_deref() else {
        for (name, what, _) in cifar_rows {
            skipped.push(Skipped {
                name,
                what,
                reason: "no CIFAR-10 here: give --cifar-dir DIR (`sgd-regimes data fetch cifar10` downloads it)".into(),
            });
        }
        return (rows, skipped);
    };
    let fc = |alpha: f64| {
        table([
            ("model", "fc".into()),
            ("dataset", "cifar-animals".into()),
            ("data_dir", cifar.into()),
            ("depth", 5.into()),
            ("width", z.fc_width.into()),
            ("activation", "relu".into()),
            ("alpha", alpha.into()),
            ("batch", 16.into()),
            ("p_test", z.fc_p_test.into()),
            ("max_steps", 4_000_000.into()),
        ])
    };
    let fc_lazy_t = match preset {
        Preset::Cluster => log2(-6, 9, 1.0),
        Preset::Paper => log2(-16, 9, 1.0),
        Preset::Laptop => log2(-16, 4, 1.0),
        Preset::Quick => log2(-12, 4, 4.0),
    };
    let fc_feature_t = match preset {
        Preset::Quick => log2(-9, -5, 2.0),
        _ => log2(-13, -4, 0.5),
    };
    // mnas at alpha = 1: T_max is lower than in the lazy regime, the plateau far below it.
    let mnas_feature_t = match preset {
        Preset::Quick => log2(-10, -4, 3.0),
        _ => log2(-14, -2, 1.0),
    };
    for (name, what, regime) in cifar_rows {
        let key = (name, what, regime);
        rows.push(match name {
            "cifar-fc-lazy" => row(
                preset,
                key,
                fc(32768.0),
                grid(fc_lazy_t.clone(), z.fc_ps, z.seeds),
            ),
            "cifar-fc-feature" => row(
                preset,
                key,
                fc(0.0009765625),
                grid(fc_feature_t.clone(), z.fc_ps, z.seeds),
            ),
            "cifar-mnas-lazy" | "cifar-simple-cnn-lazy" | "cifar-mnas-feature" => {
                let model = if name.contains("simple") {
                    "simple-cnn"
                } else {
                    "mnas"
                };
                let (alpha, t) = if name.ends_with("feature") {
                    (1.0, mnas_feature_t.clone())
                } else {
                    (32768.0, range(z.cnn_t))
                };
                let base = cnn(model, "cifar-animals", Some(cifar), alpha);
                row(preset, key, base, grid(t, z.cnn_ps, z.seeds))
            }
            _ => {
                let base = table([
                    ("model", "mnas".into()),
                    ("dataset", "cifar-animals".into()),
                    ("data_dir", cifar.into()),
                    ("width", z.phase_width.into()),
                    ("activation", "relu".into()),
                    ("p", 1024.into()),
                    ("p_test", z.p_test.into()),
                    ("batch", 64.into()),
                    ("max_steps", z.cnn_max_steps.into()),
                ]);
                let grid = table([
                    ("alpha", range(z.phase_alpha)),
                    ("temperature", range(z.phase_t)),
                    ("seed", seeds(z.phase_seeds)),
                ]);
                row(preset, key, base, grid)
            }
        });
    }
    (rows, skipped)
}

/// `reproduce fc-mnist`'s parts renamed as Table 1 rows: lazy, feature, and the phase
/// diagram of Fig. 1a.
fn fc_mnist_parts(preset: Preset, mnist: Option<&str>) -> Vec<Part> {
    fc_mnist::Preset::parts(preset, mnist)
        .into_iter()
        .filter_map(|p| {
            let (name, what) = FC_ROWS
                .iter()
                .find(|(_, part, _)| *part == p.name)
                .map(|(row, _, what)| (*row, *what))?;
            Some(Part { name, what, ..p })
        })
        .collect()
}

/// The rows taken from `reproduce fc-mnist`: (row, its part there, what it is).
const FC_ROWS: [(&str, &str, &str); 3] = [
    ("fc-lazy", "lazy", "fc / lazy, MNIST parity"),
    (
        "fc-feature",
        "feature",
        "fc / feature (alpha = 2^-10), MNIST parity",
    ),
    (
        "fc-phase",
        "phase",
        "fc (alpha, T) phase diagram, MNIST parity (Fig. 1a)",
    ),
];

/// Where a row's results live: the FC rows in `fc_dir` (`reproduce fc-mnist`'s directory),
/// the others in `out/results/<row>`.
pub fn results_dir(out: &Path, fc_dir: &Path, row: &str) -> PathBuf {
    match FC_ROWS.iter().find(|(name, _, _)| *name == row) {
        Some((_, part, _)) => plan::results_dir(fc_dir, part),
        None => out.join("results").join(row),
    }
}

/// The CIFAR-10 directory to use: the one given, else `$SGD_REGIMES_CIFAR10`, else
/// `data/cifar10` (where `data fetch cifar10` puts it), if it holds the data.
pub fn find_cifar(given: Option<&str>) -> Result<Option<String>> {
    if let Some(d) = given {
        if !crate::data::cifar::present(Path::new(d)) {
            return Err(Error::data(
                Path::new(d),
                "--cifar-dir: no CIFAR-10 binary files here; `sgd-regimes data fetch cifar10 --dir DIR` downloads them",
            ));
        }
        return Ok(Some(d.to_string()));
    }
    let candidates = std::env::var("SGD_REGIMES_CIFAR10")
        .ok()
        .into_iter()
        .chain(["data/cifar10".to_string()]);
    Ok(candidates
        .into_iter()
        .find(|d| crate::data::cifar::present(Path::new(d))))
}

fn absolute(d: &str, flag: &str) -> Result<String> {
    std::fs::canonicalize(d)
        .map(|p| p.display().to_string())
        .map_err(|e| Error::data(Path::new(d), format!("{flag}: {e}")))
}

/// Write every row's sweep file into `out/sweeps` and open (or create) its results directory;
/// with [`Planning::DryRun`], only read what is there.
pub fn plan(
    out: &Path,
    fc_dir: &Path,
    preset: Preset,
    data: &DataDirs,
    planning: Planning,
) -> Result<(Vec<Planned>, Vec<Skipped>)> {
    if matches!(preset, Preset::Cluster | Preset::Paper) && data.mnist.is_none() {
        return Err(Error::config(format!(
            "the {} preset needs the full MNIST: give --data-dir DIR with the IDX files (`sgd-regimes data fetch mnist` downloads them)",
            preset.name()
        )));
    }
    // Cluster tasks may start elsewhere: sweep files name the data by absolute paths.
    let data = DataDirs {
        mnist: data
            .mnist
            .as_deref()
            .map(|d| absolute(d, "--data-dir"))
            .transpose()?,
        cifar: data
            .cifar
            .as_deref()
            .map(|d| absolute(d, "--cifar-dir"))
            .transpose()?,
    };
    let (parts, skipped) = rows(preset, &data);
    let planned = plan::plan_into(out, parts, planning, |row| results_dir(out, fc_dir, row))?;
    Ok((planned, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SweepSpec;

    fn sizes_of(preset: Preset, data: &DataDirs) -> Vec<(&'static str, usize)> {
        let (parts, _) = rows(preset, data);
        parts
            .iter()
            .map(|p| {
                let spec = SweepSpec::parse(&p.text(), p.name).unwrap();
                assert_eq!(spec.regime, p.regime, "{}", p.name);
                (p.name, spec.runs().unwrap().len())
            })
            .collect()
    }

    #[test]
    fn rows_without_cifar_are_the_mnist_and_perceptron_rows() {
        let (_, skipped) = rows(Preset::Laptop, &DataDirs::default());
        assert_eq!(skipped.len(), 6);
        assert!(skipped.iter().all(|s| s.reason.contains("--cifar-dir")));
        assert_eq!(
            sizes_of(Preset::Laptop, &DataDirs::default()),
            [
                ("fc-lazy", 420),
                ("fc-feature", 380),
                // 13 alpha x 16 T x 2 seeds.
                ("fc-phase", 416),
                // 13 T x 5 P x 3 seeds.
                ("mnas-lazy", 195),
                ("simple-cnn-lazy", 195),
                // 17 T x 6 P x 4 seeds.
                ("perceptron-chi1.5", 408),
                ("perceptron-chi4", 408),
            ]
        );
    }

    #[test]
    fn the_paper_preset_keeps_the_laptop_cnn_rows() {
        let data = DataDirs {
            mnist: Some("/data/mnist".into()),
            cifar: None,
        };
        let (paper, _) = rows(Preset::Paper, &data);
        let (laptop, _) = rows(Preset::Laptop, &DataDirs::default());
        let spec = |parts: &[Part], name: &str| {
            let p = parts.iter().find(|p| p.name == name).unwrap();
            SweepSpec::parse(&p.text(), name).unwrap()
        };
        for name in ["mnas-lazy", "simple-cnn-lazy"] {
            // The same sweep, so the same runs (ids) as the laptop preset's.
            assert!(
                spec(&paper, name).same_sweep(&spec(&laptop, name)),
                "{name}"
            );
        }
        // The FC rows and the perceptron are the authors' sizes, on the data given.
        let fc = spec(&paper, "fc-lazy").runs().unwrap();
        assert!(
            fc.iter()
                .all(|r| r.config.data_dir.as_deref() == Some("/data/mnist"))
        );
        assert_eq!(fc.iter().map(|r| r.config.p).max(), Some(16384));
        let perceptron = spec(&paper, "perceptron-chi4").runs().unwrap();
        assert_eq!(perceptron.iter().map(|r| r.config.p).max(), Some(16384));
        assert!(perceptron.iter().all(|r| r.config.p_test == 32768));
    }

    #[test]
    fn cifar_rows_and_the_phase_diagram_appear_with_cifar() {
        let data = DataDirs {
            mnist: Some("/data/mnist".into()),
            cifar: Some("/data/cifar".into()),
        };
        let (parts, skipped) = rows(Preset::Cluster, &data);
        assert!(skipped.is_empty());
        let names: Vec<&str> = parts.iter().map(|p| p.name).collect();
        assert_eq!(names.len(), 13);
        let phase = parts.iter().find(|p| p.name == "cifar-mnas-phase").unwrap();
        let spec = SweepSpec::parse(&phase.text(), "phase").unwrap();
        assert_eq!(spec.regime, None);
        let runs = spec.runs().unwrap();
        // 26 alpha x 24 T x 4 seeds, B = 64, P = 1024, on the CIFAR directory given.
        assert_eq!(runs.len(), 26 * 24 * 4);
        let c = &runs[0].config;
        assert_eq!((c.batch, c.p, c.width), (64, 1024, Some(32)));
        assert_eq!(c.data_dir.as_deref(), Some("/data/cifar"));
        assert_eq!(prediction_depth(c), Some(9));
    }
}
