//! Analysis end to end: `reproduce perceptron --quick`, `analyze`, `plot` on a real sweep.

use std::path::Path;

mod common;
use common::{ok, run_sweep, sgd};

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.len() > 5_000 && b.starts_with(b"\x89PNG\r\n\x1a\n"))
}

#[test]
fn reproduce_perceptron_quick_recovers_the_exponents() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rp");
    let args = [
        "reproduce",
        "perceptron",
        "--quick",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    let stdout = ok(&args);
    // The --quick preset is rough; the default one is held to +-0.05 (EXPERIMENTS.md).
    for (chi, predicted) in [(0.0, 1.0), (1.0, 0.5), (3.0, 0.25)] {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("chi = {chi}: gamma of w_1")))
            .unwrap_or_else(|| panic!("no gamma line for chi {chi}: {stdout}"));
        let measured: f64 = line
            .split(": ")
            .nth(2)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (measured - predicted).abs() < 0.1,
            "chi {chi}: gamma {measured} vs {predicted}"
        );
        let slope = stdout
            .lines()
            .find(|l| l.contains(&format!("chi = {chi}: slope of |w_perp|")))
            .unwrap();
        assert!(slope.starts_with("pass"), "{slope}");
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Checks") && report.contains("extreme-value"));
    // Every figure the report shows exists, as PNG and SVG.
    let figures: Vec<&str> = report
        .lines()
        .filter_map(|l| l.split("](").nth(1))
        .map(|s| s.trim_end_matches(')'))
        .collect();
    // Per chi: four curve families and three trajectory figures (the paper's Fig. 21).
    assert_eq!(figures.len(), 21);
    assert_eq!(
        figures
            .iter()
            .filter(|f| f.contains("_trajectory_"))
            .count(),
        9
    );
    for f in figures {
        assert!(is_png(&out.join(f)), "{f}");
        let svg = std::fs::read_to_string(out.join(f).with_extension("svg")).unwrap();
        assert!(svg.contains("<svg") && svg.contains("P = "), "{f}");
    }
    // The group's parameters, then the exponents with their errors and acceptable ranges.
    let csv = std::fs::read_to_string(out.join("analysis/exponents.csv")).unwrap();
    assert!(
        csv.starts_with("group,model,dataset,alpha,batch,width,depth,activation,dim,chi,regime,regime_source,observable,b,b_err,b_lo,b_hi,gamma"),
        "{}",
        csv.lines().next().unwrap_or("")
    );

    // Rerunning finds nothing to do and gives the same table.
    let again = ok(&args);
    assert_eq!(again.lines().next(), stdout.lines().next());
}

#[test]
fn analyze_and_plot_a_fc_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = run_sweep(
        tmp.path(),
        "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 32\np_test = 256\nmax_steps = 3000\n[grid]\nalpha = [0.01, 1.0, 100.0]\ntemperature = { log2 = [-8, 4], step = 2 }\np = [128, 256]\nbatch = [8, 16]\n",
    );
    let d = dir.to_str().unwrap();
    let table = ok(&["analyze", d]);
    assert!(
        table.contains("| fc L=2 h=32, mnist-parity, alpha=100, B=16 /"),
        "{table}"
    );
    assert!(
        dir.join("analysis/exponents.md").is_file() && dir.join("analysis/exponents.csv").is_file()
    );
    let out = ok(&["plot", d]);
    assert!(out.contains("figures"), "{out}");
    let figs: Vec<String> = std::fs::read_dir(dir.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for want in [
        "__dw_raw.png",
        "__tstar_raw.svg",
        "__test_error_vs_dw.png",
        "__train_error_vs_time.png",
        "__phase_P128.png",
    ] {
        assert!(
            figs.iter().any(|f| f.ends_with(want)),
            "no *{want} in {figs:?}"
        );
    }
    for f in figs.iter().filter(|f| f.ends_with(".png")) {
        assert!(is_png(&dir.join("figures").join(f)), "{f}");
    }
}

#[test]
fn reproduce_fc_mnist_quick_runs_analyses_reports_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fc");
    let o = out.to_str().unwrap();
    let plan = ok(&[
        "reproduce",
        "fc-mnist",
        "--preset",
        "quick",
        "--out",
        o,
        "--dry-run",
    ]);
    assert!(plan.contains("total: 78 runs to do"), "{plan}");
    assert!(!out.exists(), "--dry-run wrote {}", out.display());
    let text = ok(&[
        "reproduce",
        "fc-mnist",
        "--preset",
        "quick",
        "--out",
        o,
        "--quiet",
    ]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    // Table 1's two FC rows, each regime as declared by its sweep file.
    let table: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("## Table 1"))
        .filter(|l| l.starts_with("| fc L=3 h=32 /"))
        .collect();
    assert_eq!(table.len(), 2, "{report}");
    assert!(table[0].contains("/ lazy |") && table[1].contains("/ feature |"));
    assert!(text.contains("(D-1)/(D+1) = 0.500 for D = 3"), "{text}");
    for section in [
        "## Phase diagram",
        "## Where this preset departs",
        "stalled",
        "T_opt",
    ] {
        assert!(report.contains(section), "{section} missing");
    }
    // The exponents table has the group's parameters as columns.
    let csv = std::fs::read_to_string(out.join("exponents.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for col in [
        "model", "dataset", "alpha", "batch", "width", "depth", "regime", "gamma_lo",
    ] {
        assert!(header.contains(&col), "{col} missing from {header:?}");
    }
    assert_eq!(csv.lines().count(), 3);
    // Every figure the report links exists, and the phase diagram is among them.
    let links: Vec<&str> = report
        .lines()
        .filter_map(|l| l.strip_prefix("![")?.split("](").nth(1)?.strip_suffix(')'))
        .collect();
    assert!(links.iter().any(|l| l.contains("phase_P256")), "{links:?}");
    assert!(links.iter().all(|l| is_png(&out.join(l))), "{links:?}");
    // A rerun has nothing left to run and writes the same report.
    let plan = ok(&[
        "reproduce",
        "fc-mnist",
        "--preset",
        "quick",
        "--out",
        o,
        "--dry-run",
    ]);
    assert!(plan.contains("total: 0 runs to do"), "{plan}");
    ok(&[
        "reproduce",
        "fc-mnist",
        "--preset",
        "quick",
        "--out",
        o,
        "--quiet",
    ]);
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        report
    );
    reproduce_table1_quick_reuses_the_fc_runs(dir.path(), o);
}

/// `reproduce table1 --preset quick` on top of the fc-mnist runs above: the FC rows are found
/// done, the CNN and perceptron rows run, the CIFAR rows are skipped with a note.
fn reproduce_table1_quick_reuses_the_fc_runs(dir: &Path, fc: &str) {
    let out = dir.join("table1");
    let o = out.to_str().unwrap();
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "reproduce",
            "table1",
            "--preset",
            "quick",
            "--out",
            o,
            "--fc-mnist",
            fc,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&'static str]| -> String {
        let a = args(extra);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let plan = run(&["--dry-run"]);
    let missing = |row: &str| -> usize {
        let line = plan
            .lines()
            .find(|l| l.trim_start().starts_with(row))
            .unwrap();
        line.split_whitespace()
            .rev()
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        (
            missing("fc-lazy "),
            missing("fc-feature "),
            missing("fc-phase ")
        ),
        (0, 0, 0),
        "{plan}"
    );
    assert!(!out.exists(), "--dry-run wrote {}", out.display());
    // 4 T x 2 P x 1 seed per CNN; 7 T x 3 P x 2 seeds per perceptron row.
    assert_eq!(
        (missing("mnas-lazy"), missing("perceptron-chi4")),
        (8, 42),
        "{plan}"
    );
    assert_eq!(
        plan.matches("skipped: no CIFAR-10 here").count(),
        6,
        "{plan}"
    );
    assert!(plan.contains("total: 100 runs to do"), "{plan}");
    run(&["--quiet"]);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let rows: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.starts_with("## Table 1"))
        .take_while(|l| !l.starts_with("Rows not run"))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| model"))
        .collect();
    let labels: Vec<&str> = rows
        .iter()
        .map(|r| r.split(" | ").next().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "| fc L=3 h=32 / lazy",
            "| fc L=3 h=32 / feature",
            "| mnas h=2 / lazy",
            "| simple-cnn h=2 / lazy",
            "| perceptron chi = 1.5 / lazy",
            "| perceptron chi = 4 / lazy"
        ],
        "{report}"
    );
    assert!(report.contains("`cifar-mnas-phase`"), "{report}");
    let csv = std::fs::read_to_string(out.join("exponents.csv")).unwrap();
    assert!(csv.starts_with("row,"), "{csv}");
    assert_eq!(csv.lines().count(), 7);
    // One queue, one invocation that ran something: the report states its wall time.
    let timing: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("timing.json")).unwrap()).unwrap();
    assert_eq!(timing["invocations"], 1, "{timing}");
    assert!(timing["total_wall_s"].as_f64().unwrap() > 0.0, "{timing}");
    assert!(
        report.contains("workers, all rows in one queue")
            && report.contains("over 1 invocation(s)"),
        "{report}"
    );
    // Resumed: nothing to run, the same report.
    run(&["--quiet"]);
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        report
    );
}

#[test]
fn reproduce_table1_plans_the_cifar_rows_and_fig_1b_when_cifar_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let cifar = dir.path().join("cifar");
    std::fs::create_dir(&cifar).unwrap();
    for f in sgd_regimes::data::cifar::FILES {
        let images = vec![7u8; 4 * 3072];
        let bytes = sgd_regimes::data::cifar::encode(&images, &[0, 1, 8, 9]);
        std::fs::write(cifar.join(f), bytes).unwrap();
    }
    let out = dir.path().join("t1");
    let fc = dir.path().join("fc");
    let table1 = |how: &str| {
        ok(&[
            "reproduce",
            "table1",
            "--preset",
            "quick",
            "--out",
            out.to_str().unwrap(),
            "--fc-mnist",
            fc.to_str().unwrap(),
            "--cifar-dir",
            cifar.to_str().unwrap(),
            how,
        ])
    };
    let plan = table1("--dry-run");
    assert!(!plan.contains("skipped"), "{plan}");
    for row in ["cifar-fc-lazy", "cifar-mnas-feature", "cifar-mnas-phase"] {
        assert!(plan.contains(row), "{row}: {plan}");
    }
    // A dry run writes nothing; --no-run writes the plan (and a report of no runs).
    assert!(!out.exists(), "--dry-run wrote {}", out.display());
    table1("--no-run");
    // The sweep files name the data by its absolute path (cluster tasks start elsewhere).
    let sweep = std::fs::read_to_string(out.join("sweeps/cifar-mnas-phase.toml")).unwrap();
    let abs = std::fs::canonicalize(&cifar).unwrap();
    assert!(
        sweep.contains(&format!("data_dir = \"{}\"", abs.display())),
        "{sweep}"
    );
    assert!(
        sweep.contains("batch = 64") && sweep.contains("p = 1024"),
        "{sweep}"
    );
    // A --cifar-dir without the data is an error naming the flag.
    let o = sgd(&[
        "reproduce",
        "table1",
        "--preset",
        "quick",
        "--out",
        out.to_str().unwrap(),
        "--fc-mnist",
        fc.to_str().unwrap(),
        "--cifar-dir",
        dir.path().to_str().unwrap(),
        "--dry-run",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("--cifar-dir"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// A group whose runs all diverged has nothing to draw: `plot` skips its empty figures with a
/// note and draws the others (issue #23, case 9: it aborted all plotting).
#[test]
fn plot_skips_the_empty_figures_of_a_group_that_never_converged() {
    let tmp = tempfile::tempdir().unwrap();
    // alpha = 1 converges at low T; alpha = 2 is run only far past its T_max.
    let dir = run_sweep(
        tmp.path(),
        "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 16\np_test = 64\nbatch = 8\nmax_steps = 3000\n\
         [[grid]]\nalpha = [1.0]\ntemperature = [0.001, 0.002]\np = [64, 128]\n\
         [[grid]]\nalpha = [2.0]\ntemperature = [100000.0]\np = [64, 128]\n",
    );
    let d = dir.to_str().unwrap();
    let o = sgd(&["plot", d]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("skipped: no converged run to draw"), "{err}");
    let figs: Vec<String> = std::fs::read_dir(dir.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // The converged group's figures and the phase diagrams are drawn.
    assert!(
        figs.iter()
            .any(|f| f.contains("alpha_1_") && f.ends_with("train_error_vs_time.png"))
            && figs.iter().any(|f| f.ends_with("phase_P128.png")),
        "{figs:?}"
    );
}

/// `reproduce perceptron` stops on SIGTERM like a sweep (issue #26 found it could not): no new
/// run starts, the command exits 143 without a report, and says how to resume.
#[test]
fn reproduce_perceptron_stops_on_sigterm_without_a_report() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let child = Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args([
            "reproduce",
            "perceptron",
            "--quick",
            "--jobs",
            "1",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let any_result = || {
        std::fs::read_dir(out.join("results")).is_ok_and(|parts| {
            parts.flatten().any(|p| {
                std::fs::read_dir(p.path().join("runs")).is_ok_and(|runs| {
                    runs.flatten()
                        .any(|r| r.file_name().to_string_lossy().ends_with(".json"))
                })
            })
        })
    };
    while !any_result() {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(
        err.contains("stopped by a signal") && err.contains("rerun the same command to resume"),
        "{err}"
    );
    assert!(!out.join("report.md").exists());
}

/// `--dry-run` of every reproduction with a quick preset prints its parts and the runs to do,
/// and writes nothing (issue #26: one driver, one printer).
#[test]
fn every_reproduction_dry_run_prints_the_plan_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (name, parts, runs) in [
        ("perceptron", 3, (4 + 5 + 6) * 9 * 4),
        ("eta-over-b", 3, 3 * 2 * 3 * 2),
        ("sgd-vs-sde", 3, 3 * 2 * 3 * 2),
        ("hinge-vs-ce", 2, 2 * 3 * 5),
    ] {
        let out = dir.path().join(name);
        let plan = ok(&[
            "reproduce",
            name,
            "--quick",
            "--dry-run",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            plan.starts_with(&format!("reproduce {name} --quick into")),
            "{plan}"
        );
        let part_lines = plan.lines().skip(2).take_while(|l| !l.contains("total:"));
        assert_eq!(part_lines.count(), parts, "{plan}");
        assert!(
            plan.contains(&format!("total: {runs} runs to do")),
            "{plan}"
        );
        assert!(!out.exists(), "{name} --dry-run wrote {}", out.display());
    }
}
