//! No work is lost to a bad destination (issue #23, cases 1, 10 and 14): a destination that
//! cannot be written is refused before training or fitting, and when the final write still
//! fails (a disk that fills meanwhile, simulated with `ulimit -f`), what was computed is printed
//! and the error names the file.

use std::process::{Command, Output};

mod common;
use common::{SMALL_TRAIN, ok, run_sweep, sgd};

fn with(extra: &[&str]) -> Vec<String> {
    SMALL_TRAIN
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The binary under a file-size limit of 512 bytes: small probes pass, real outputs fail with
/// EFBIG as on a full disk. SIGXFSZ is ignored so the write returns the error.
fn limited(args: &[String]) -> Output {
    let bin = env!("CARGO_BIN_EXE_sgd-regimes");
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    Command::new("sh")
        .args([
            "-c",
            &format!(
                "trap '' XFSZ; ulimit -f 1; exec '{bin}' {}",
                quoted.join(" ")
            ),
        ])
        .env_remove("SGD_REGIMES_DATA")
        .output()
        .unwrap()
}

#[test]
fn train_refuses_an_unwritable_out_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = tmp.path().join("typo/run.json");
    for out in [typo.to_str().unwrap(), "/proc/x.json", "/sys/x.json"] {
        let o = sgd(&with(&["--json", "--out", out])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>());
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with(&format!("error: {out}: cannot be written"))
                && err.lines().count() == 1,
            "{err}"
        );
        // Refused before training: no result was printed.
        assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
    }
    assert!(!tmp.path().join("typo").exists());
}

#[test]
fn train_prints_its_result_when_the_final_write_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run.json");
    let o = limited(&with(&["--out", out.to_str().unwrap()]));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("run.json: File too large")
            && err.contains("the result above was not written"),
        "{err}"
    );
    // The JSON on stdout is the whole result.
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed["status"], "converged");
    assert!(printed["final"]["t"].as_f64().unwrap() > 0.0, "{printed}");
    // Nothing half-written is left.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// A finished two-run sweep in `dir`.
fn finished_sweep(dir: &std::path::Path) -> String {
    let results = run_sweep(
        dir,
        "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 16\nalpha = 1\np_test = 64\ntemperature = 0.01\n[grid]\np = [64, 128]\n",
    );
    results.to_str().unwrap().to_string()
}

#[test]
fn plot_analyze_and_collect_name_the_file_they_could_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let r = finished_sweep(tmp.path());

    let o = limited(&["plot".into(), r.clone()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let line = err.lines().last().unwrap();
    assert!(
        line.starts_with(&format!("error: {r}/figures/"))
            && line.ends_with(".png: File too large (os error 27)"),
        "{err}"
    );
    assert!(!err.contains("invalid config"), "{err}");

    let o = limited(&["analyze".into(), r.clone()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("the analysis above was not written"), "{err}");
    assert!(text(&o.stdout).contains("| group |"), "{}", text(&o.stdout));

    let out = tmp.path().join("missing/all.csv");
    let o = sgd(&["collect", &r, "--out", out.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("missing/all.csv: cannot be written"), "{err}");

    // Upper-case extensions are the same formats.
    let out = tmp.path().join("ALL.CSV");
    ok(&["collect", &r, "--out", out.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&out).unwrap().lines().count() == 3);
}

#[test]
fn collect_with_no_finished_runs_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("grid.toml");
    std::fs::write(
        &sweep,
        "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 16\nalpha = 1\np = 64\np_test = 64\n[grid]\ntemperature = [0.01]\n",
    )
    .unwrap();
    let r = tmp.path().join("r");
    // Shard 1/2 of a one-run sweep: a results directory with no run in it.
    ok(&[
        "sweep",
        "run",
        sweep.to_str().unwrap(),
        "--results",
        r.to_str().unwrap(),
        "--shard",
        "1/2",
        "--quiet",
    ]);
    let out = tmp.path().join("all.csv");
    let o = sgd(&[
        "collect",
        r.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no finished runs yet, nothing written"),
        "{err}"
    );
    assert!(!out.exists());
}

/// Issue #23, case 14: a sweep whose results cannot be written stops with the file named and
/// no word of a signal (none was sent).
#[test]
fn a_sweep_on_a_full_disk_names_the_file_and_no_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = tmp.path().join("grid.toml");
    std::fs::write(
        &sweep,
        "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 8\nalpha = 1\np = 32\np_test = 32\n[grid]\ntemperature = [0.01, 0.02]\n",
    )
    .unwrap();
    let r = tmp.path().join("r");
    let o = limited(&[
        "sweep".into(),
        "run".into(),
        sweep.to_str().unwrap().into(),
        "--results".into(),
        r.to_str().unwrap().into(),
        "-j".into(),
        "1".into(),
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(".json: File too large"), "{err}");
    assert!(!err.contains("signal"), "{err}");
}

/// Issue #23, case 14: `analyze` on one training-set size says why it prints no exponents;
/// a table format error is not called a config error.
#[test]
fn analyze_says_why_one_size_gives_no_exponents() {
    let tmp = tempfile::tempdir().unwrap();
    let r = run_sweep(
        tmp.path(),
        "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 8\nalpha = 1\np = 64\np_test = 64\n[grid]\ntemperature = [0.001, 0.01]\n",
    );
    let r = r.to_str().unwrap();
    let out = ok(&["analyze", r]);
    assert!(
        out.contains("No exponents for fc L=2 h=8") && out.contains("cover one P (64)"),
        "{out}"
    );
    let o = sgd(&["collect", r, "--out", "all.txt"]);
    let err = text(&o.stderr);
    assert!(
        err.starts_with("error: all.txt: unknown table format") && !err.contains("invalid config"),
        "{err}"
    );
}
