//! `sgd-regimes reproduce fc-mnist`: the paper's fully-connected results on MNIST parity
//! (Table 1's two FC rows and the `(alpha, T)` phase diagram of its Fig. 1a), as three sweeps:
//!
//! - `lazy`: fc at alpha = 32768 against `T` and `P` (declared lazy);
//! - `feature`: the same at alpha = 2^-10 (declared feature);
//! - `phase`: `P` fixed, a grid of `(alpha, T)` up to and past the divergence.
//!
//! The `laptop` preset fits the 10,000 bundled digits and about 40 minutes on 2 cores; `paper`
//! is the authors' FC settings on the full MNIST (method §7: h = 128, P to 16384, P_test =
//! 32768, 5 seeds) with temperature grids that reach the low-T plateau, and Fig. 1a on a grid cut
//! to about an hour on 2 cores; `cluster` is every setting of the authors' commands (`T = temp *
//! h`) for a Slurm cluster. [`Preset::departures`] lists where each departs.

use super::plan::{Part, Planned, Planning, ints, log2, plan_parts, seeds, table};
use toml::Value;
use super::{Plan, Report, Reproduction, RunFlags};
use crate::config::Regime;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// `reproduce fc-mnist`.
#[derive(clap::Args, Clone, Debug)]
pub struct FcMnist {
    /// laptop: the 10,000 bundled digits, h = 64, P up to 4096, about 40 minutes on 2 cores.
    /// paper: the authors' FC settings on the full MNIST via --data-dir (h = 128, P to 16384,
    /// P_test = 32768, 5 seeds; T grids that reach the low-T plateau) and Fig. 1a at h = 128,
    /// gelu, on a grid cut to about an hour; a few hours on 2 cores. cluster: the authors'
    /// settings (h = 128, P to 16384, P_test = 32768, full MNIST via --data-dir), 8,179 runs;
    /// plan it here, run it with `sgd-regimes slurm OUT/sweeps/<part>.toml --results
    /// OUT/results/<part>`. quick: a 3-layer net of width 32, few temperatures, one seed.
    #[arg(long, value_enum, default_value = "laptop")]
    pub preset: Preset,
    /// Output directory (sweeps/, results/, figures/, report.md, exponents.csv)
    /// [default: reproduce-fc-mnist-<preset>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// MNIST IDX files (full MNIST; required by the paper and cluster presets). The laptop
    /// preset uses the bundled digits.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    #[command(flatten)]
    pub run: RunFlags,
}

impl Reproduction for FcMnist {
    fn command(&self) -> String {
        format!("reproduce fc-mnist --preset {}", self.preset.name())
    }

    fn out(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("reproduce-fc-mnist-{}", self.preset.name())))
    }

    fn run_flags(&self) -> RunFlags {
        self.run.clone()
    }

    fn plan(&self, out: &Path, planning: Planning) -> Result<Plan> {
        Ok(Plan {
            planned: plan(out, self.preset, self.data_dir.as_deref(), planning)?,
            skipped: Vec::new(),
        })
    }

    fn estimates_wall_time(&self) -> bool {
        true
    }

    fn dry_run_note(&self, out: &Path) -> Option<String> {
        Some(format!(
            "the estimate models the laptop runs' steps times a calibrated step; the sweep files go to {} when the runs start",
            out.join("sweeps").display()
        ))
    }

    fn report(&self, out: &Path, plan: &Plan) -> Result<Report> {
        super::fc_mnist_report::write(out, self.preset, &plan.planned)
    }
}

/// Which settings to run (shared by `reproduce fc-mnist` and `reproduce table1`; what each
/// preset holds for a command is said in that command's `--preset` help).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// The 10,000 bundled digits, sized for 2 cores.
    Laptop,
    /// The authors' FC settings on the full MNIST (--data-dir), run here in a few hours.
    Paper,
    /// The authors' settings (full MNIST via --data-dir), sized for `sgd-regimes slurm`.
    Cluster,
    /// A smoke test of the whole pipeline in a minute or two (rough exponents).
    Quick,
}


impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::Laptop => "laptop",
            Preset::Paper => "paper",
            Preset::Cluster => "cluster",
            Preset::Quick => "quick",
        }
    }

    /// The three sweeps of this preset.
    pub fn parts(self, data_dir: Option<&str>) -> Vec<Part> {
        let title = |name: &str| {
            format!(
                "sgd-regimes reproduce fc-mnist --preset {}: {name}",
                self.name()
            )
        };
        let (depth, h, p_test, ps, seed_count): (i64, i64, i64, &[i64], i64) = match self {
            Preset::Laptop => (5, 64, 4096, &[256, 512, 1024, 2048, 4096], 4),
            Preset::Paper | Preset::Cluster => (5, 128, 32768, &[1024, 2048, 4096, 8192, 16384], 5),
            Preset::Quick => (3, 32, 512, &[128, 256, 512], 1),
        };
        // Lazy: the authors' temp = 2^-13 .. 2^2 is T = temp * h = 2^-6 .. 2^9 at h = 128. The
        // laptop range starts on the low-T plateau (2^-16) and ends past the divergence (~2^3);
        // the paper preset adds the plateau to the authors' range: at h = 128 it is flat from
        // 2^-14 to 2^-12 even at P = 16384 (6.7e-5, 6.5e-5, 6.7e-5). (A first run that added
        // 2^-16 and 2^-15 for P >= 8192 spent 1.4M-4M steps per run there, up to the budget.)
        let lazy_t = match self {
            Preset::Laptop => log2(-16, 4, 1.0),
            Preset::Paper => log2(-14, 9, 1.0),
            Preset::Cluster => log2(-6, 9, 1.0),
            Preset::Quick => log2(-12, 4, 2.0),
        };
        // Feature (alpha = 2^-10): T_max is ~2^-7 here, so the range reaches far lower T to
        // find the plateau; half steps resolve the short noise branch. At h = 128 the plateau is
        // reached at 2^-14 even for P = 16384 (median dw 0.404 at 2^-14, 0.409 at 2^-13.5; the
        // report flags a curve whose plateau is not flat). A first run that added 2^-15 and
        // 2^-14.5 for P >= 8192 would have spent about an hour of wall time there.
        let feature_t = match self {
            Preset::Quick => log2(-9, -5, 1.0),
            Preset::Laptop => log2(-13, -4, 0.5),
            Preset::Paper | Preset::Cluster => log2(-14, -4, 0.5),
        };
        // fc on MNIST parity (from `data_dir` when given), its depth, width and activation.
        let fc = |width: i64, activation: &str| {
            let mut base = table([
                ("model", "fc".into()),
                ("dataset", "mnist-parity".into()),
            ]);
            if let Some(d) = data_dir {
                base.insert("data_dir".into(), d.into());
            }
            base.extend(table([
                ("depth", depth.into()),
                ("width", width.into()),
                ("activation", activation.into()),
            ]));
            base
        };
        let sweep = |alpha: f64, t: Value| {
            let mut base = fc(h, "relu");
            base.extend(table([
                ("alpha", alpha.into()),
                ("batch", 16.into()),
                ("p_test", p_test.into()),
                ("max_steps", 4_000_000.into()),
            ]));
            let grid = table([
                ("temperature", t),
                ("p", ints(ps)),
                ("seed", seeds(seed_count)),
            ]);
            table([("base", base.into()), ("grid", grid.into())])
        };
        // Phase diagram at P = 1024, gelu as in the authors' Fig. 1a command. Their grid is
        // alpha = 2^-14 .. 2^11 and dt = 2^-15 .. 2^15 (T = dt / 16), 9 seeds, h = 128.
        let (ph, alphas, temps, phase_seeds, phase_test, phase_p) = match self {
            Preset::Laptop => (
                64,
                log2(-10, 14, 2.0),
                ("temperature", log2(-10, 5, 1.0)),
                2,
                4096,
                1024,
            ),
            // The authors' width, activation, P and P_test; alpha over their range in steps of
            // 2, T over the laptop's range (the costly low T cut), 2 seeds: about an hour on 2
            // cores (the dry-run estimate: 98 min with 3 seeds, 65 with 2).
            Preset::Paper => (
                128,
                log2(-14, 10, 2.0),
                ("temperature", log2(-10, 5, 1.0)),
                2,
                32768,
                1024,
            ),
            Preset::Cluster => (
                128,
                log2(-14, 11, 1.0),
                ("lr", log2(-15, 15, 1.0)),
                9,
                32768,
                1024,
            ),
            Preset::Quick => (
                32,
                log2(-8, 12, 4.0),
                ("temperature", log2(-6, 4, 2.0)),
                1,
                512,
                256,
            ),
        };
        let mut phase_base = fc(ph, "gelu");
        phase_base.extend(table([
            ("p", phase_p.into()),
            ("p_test", phase_test.into()),
            ("batch", 16.into()),
            ("max_steps", 1_000_000.into()),
        ]));
        let phase_grid = table([
            ("alpha", alphas),
            temps,
            ("seed", seeds(phase_seeds)),
        ]);
        vec![
            Part {
                name: "lazy",
                what: "lazy regime, alpha = 32768",
                regime: Some(Regime::Lazy),
                title: title("fc lazy regime (alpha = 32768) against T and P"),
                sweep: sweep(32768.0, lazy_t),
            },
            Part {
                name: "feature",
                what: "feature regime, alpha = 2^-10",
                regime: Some(Regime::Feature),
                title: title("fc feature regime (alpha = 2^-10) against T and P"),
                sweep: sweep(0.0009765625, feature_t),
            },
            Part {
                name: "phase",
                what: "(alpha, T) phase diagram at fixed P",
                regime: None,
                title: title("the (alpha, T) phase diagram at fixed P (Fig. 1a)"),
                sweep: table([
                    ("base", phase_base.into()),
                    ("grid", phase_grid.into()),
                ]),
            },
        ]
    }

    /// Where this preset departs from the authors' settings (method §7 of the method), as
    /// Markdown table rows `| setting | authors | this preset |`.
    pub fn departures(self) -> Vec<[&'static str; 3]> {
        match self {
            Preset::Quick => vec![[
                "everything",
                "L = 5, h = 128, P to 16384, 5-9 seeds",
                "a smoke test: L = 3, h = 32, P = 128 .. 512, 1 seed, coarse T and alpha grids; its exponents are not a measurement",
            ]],
            Preset::Paper => vec![
                [
                    "data, h, P, P_test, seeds (lazy, feature)",
                    "full MNIST, 128, 1024 .. 16384, 32768, 5",
                    "the same (full MNIST through --data-dir)",
                ],
                [
                    "T (lazy)",
                    "temp 2^-13 .. 2^2, i.e. T = 2^-6 .. 2^9",
                    "T = 2^-14 .. 2^9: the authors' range plus the low-T plateau the lazy fits start from",
                ],
                [
                    "feature row",
                    "not among the published commands",
                    "alpha = 2^-10, T = 2^-14 .. 2^-4 (x 2^0.5), their P and seeds",
                ],
                [
                    "phase diagram alpha",
                    "2^-14 .. 2^11 (x2)",
                    "2^-14 .. 2^10 (x4): cut to about an hour on 2 cores",
                ],
                [
                    "phase diagram T",
                    "dt = 2^-15 .. 2^15 (T = dt/16)",
                    "T = 2^-10 .. 2^5: lower T costs 2x per octave, and every alpha has stable cells above 2^-10",
                ],
                ["phase diagram seeds", "9", "2"],
            ],
            Preset::Cluster => vec![
                [
                    "feature row",
                    "not among the published commands",
                    "alpha = 2^-10, T = 2^-14 .. 2^-4 (x 2^0.5), their P and seeds",
                ],
                [
                    "data",
                    "full MNIST (70,000)",
                    "full MNIST through --data-dir (the same)",
                ],
            ],
            Preset::Laptop => vec![
                [
                    "data",
                    "full MNIST (70,000 digits)",
                    "the 10,000 bundled digits (P + P_test <= 10,000)",
                ],
                ["width h", "128", "64"],
                ["P (lazy, feature)", "1024 .. 16384", "256 .. 4096"],
                ["P_test", "32768", "4096"],
                ["seeds (lazy, feature)", "5", "4"],
                [
                    "T (lazy)",
                    "temp 2^-13 .. 2^2, i.e. T = 2^-6 .. 2^9",
                    "T = 2^-16 .. 2^4: from the low-T plateau to past the divergence",
                ],
                [
                    "feature row",
                    "not among the published commands",
                    "alpha = 2^-10, T = 2^-13 .. 2^-4 (x 2^0.5)",
                ],
                [
                    "phase diagram alpha",
                    "2^-14 .. 2^11 (x2)",
                    "2^-10 .. 2^14 (x4): columns between alpha ~ 1 and 1000 need up to 10^6 steps at low T",
                ],
                [
                    "phase diagram T",
                    "dt = 2^-15 .. 2^15 (T = dt/16)",
                    "T = 2^-10 .. 2^5: lower T costs 2x per octave, and every alpha has stable cells above 2^-10",
                ],
                ["phase diagram seeds", "9", "2"],
            ],
        }
    }
}

/// Write the sweep files into `out/sweeps` and open (or create) `out/results/<part>`; with
/// [`Planning::DryRun`], only read what is there.
pub fn plan(
    out: &Path,
    preset: Preset,
    data_dir: Option<&str>,
    planning: Planning,
) -> Result<Vec<Planned>> {
    if matches!(preset, Preset::Cluster | Preset::Paper) && data_dir.is_none() {
        return Err(Error::config(format!(
            "the {} preset needs the full MNIST: give --data-dir DIR with the IDX files (`sgd-regimes data fetch mnist` downloads them); P + P_test reaches 49,152 digits",
            preset.name()
        )));
    }
    // Cluster tasks may start elsewhere: the sweep files name the data by its absolute path.
    let data_dir = data_dir
        .map(|d| {
            std::fs::canonicalize(d)
                .map(|p| p.display().to_string())
                .map_err(|e| Error::data(Path::new(d), format!("--data-dir: {e}")))
        })
        .transpose()?;
    plan_parts(out, preset.parts(data_dir.as_deref()), planning)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SweepSpec;

    #[test]
    fn presets_parse_and_declare_their_regimes() {
        for preset in [
            Preset::Laptop,
            Preset::Paper,
            Preset::Cluster,
            Preset::Quick,
        ] {
            let parts = preset.parts(Some("/data/mnist"));
            assert_eq!(parts.len(), 3);
            let sizes: Vec<usize> = parts
                .iter()
                .map(|p| {
                    let spec = SweepSpec::parse(&p.text(), p.name).unwrap();
                    assert_eq!(spec.regime, p.regime, "{}", p.name);
                    spec.runs().unwrap().len()
                })
                .collect();
            match preset {
                // 21 T x 5 P x 4 seeds; 19 T x 5 P x 4 seeds; 13 alpha x 16 T x 2 seeds.
                Preset::Laptop => assert_eq!(sizes, [420, 380, 416]),
                // 24 T x 5 P x 5 seeds; 21 x 5 x 5; 13 alpha x 16 T x 2 seeds.
                Preset::Paper => assert_eq!(sizes, [600, 525, 416]),
                // 16 T x 5 P x 5 seeds; 21 x 5 x 5; 26 alpha x 31 dt x 9 seeds.
                Preset::Cluster => assert_eq!(sizes, [400, 525, 7254]),
                // 9 x 3; 5 x 3; 6 alpha x 6 T.
                Preset::Quick => assert_eq!(sizes, [27, 15, 36]),
            }
        }
        // The laptop preset fits the bundled digits.
        let spec = SweepSpec::parse(&Preset::Laptop.parts(None)[0].text(), "lazy").unwrap();
        assert!(
            spec.runs()
                .unwrap()
                .iter()
                .all(|r| r.config.p + r.config.p_test <= 10_000 && r.config.data_dir.is_none())
        );
    }

    #[test]
    fn the_cluster_and_paper_presets_need_the_full_mnist() {
        let dir = tempfile::tempdir().unwrap();
        for preset in [Preset::Cluster, Preset::Paper] {
            let e = plan(dir.path(), preset, None, Planning::Write)
                .err()
                .unwrap()
                .to_string();
            assert!(
                e.contains(&format!(
                    "the {} preset needs the full MNIST",
                    preset.name()
                )) && e.contains("--data-dir"),
                "{e}"
            );
        }
    }

    #[test]
    fn the_paper_preset_is_the_authors_fc_sizes_from_the_low_t_plateau() {
        let parts = Preset::Paper.parts(Some("/data/mnist"));
        for part in &parts[..2] {
            let runs = SweepSpec::parse(&part.text(), "p").unwrap().runs().unwrap();
            let lowest = runs
                .iter()
                .filter_map(|r| r.config.temperature)
                .fold(f64::INFINITY, f64::min);
            assert_eq!(lowest, 2f64.powi(-14), "{}", part.name);
            assert!(runs.iter().all(|r| r.config.width == Some(128)
                && r.config.p_test == 32768
                && r.config.data_dir.as_deref() == Some("/data/mnist")));
            assert_eq!(runs.iter().map(|r| r.config.p).max(), Some(16384));
        }
        let phase = SweepSpec::parse(&parts[2].text(), "p")
            .unwrap()
            .runs()
            .unwrap();
        let c = &phase[0].config;
        assert_eq!((c.width, c.p, c.p_test), (Some(128), 1024, 32768));
        assert_eq!(c.activation, Some(crate::config::Activation::Gelu));
    }
}
