//! The `sgd-regimes` binary as a user meets it: results, one-line errors, exit codes.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{fails, sgd};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SMALL: &[&str] = &[
    "train", "--model", "fc", "--depth", "2", "--width", "16", "--p", "64", "--p-test", "64",
    "--alpha", "100", "--batch", "8",
];

fn small(extra: &[&str]) -> Vec<&'static str> {
    let mut v: Vec<&str> = SMALL.to_vec();
    v.extend(extra.iter().map(|s| &*s.to_string().leak()));
    v
}

#[test]
fn a_run_prints_a_summary_and_writes_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.json");
    let o = sgd(&small(&["--lr", "0.5", "--out", out.to_str().unwrap()]));
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("converged: t* = "), "{stdout}");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(r["schema"], "sgd-regimes/run/2");
    assert_eq!(r["status"], "converged");
    assert_eq!(r["config"]["p"], 64);
    assert_eq!(r["final"]["unfitted"], 0);
    assert!(r["trajectory"].as_array().unwrap().len() >= 2);
    // No temporary file is left beside the result.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn same_config_same_result_and_json_flag() {
    let run = |seed: &str| {
        let o = sgd(&small(&[
            "--temperature",
            "0.01",
            "--json",
            "--seed-init",
            seed,
        ]));
        assert!(o.status.success(), "{}", stderr(&o));
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_object_mut().unwrap().remove("timing");
        v
    };
    assert_eq!(run("1"), run("1"));
    assert_ne!(run("1")["final"], run("2")["final"]);
}

#[test]
fn config_file_and_flags_combine() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("run.toml");
    std::fs::write(&cfg, "model = \"perceptron\"\ndataset = \"depleted-sign\"\ndim = 16\nchi = 1.0\nptr = 64\np_test = 32\nalpha = 8.0\ndt = 0.1\nbs = 4\n").unwrap();
    let o = sgd(&[
        "train",
        "--config",
        cfg.to_str().unwrap(),
        "--p",
        "32",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["config"]["p"], 32, "the flag overrides the file");
    assert_eq!(r["config"]["lr"], 0.1);
    assert_eq!(r["config"]["dim"], 16);
    assert!(r["final"]["w_1"].is_number() && r["final"]["w_perp"].is_number());

    std::fs::write(&cfg, "model = \"perceptron\"\nalfa = 3\n").unwrap();
    let e = fails(&["train", "--config", cfg.to_str().unwrap(), "--lr", "0.1"]);
    assert!(e.contains("run.toml:2:1") && e.contains("alfa"), "{e}");
    let e = fails(&["train", "--config", "/nonexistent/run.toml", "--lr", "0.1"]);
    assert!(e.contains("/nonexistent/run.toml"), "{e}");
}

#[test]
fn impossible_configs_get_one_line_errors() {
    let e = fails(&small(&["--lr", "0.1", "--alpha", "0"]));
    assert!(e.contains("alpha must be a positive"), "{e}");
    let e = fails(&small(&["--lr", "0.1", "--alpha", "-3"]));
    assert!(e.contains("alpha"), "{e}");
    let e = fails(&small(&["--lr", "0.1", "--batch", "65"]));
    assert!(e.contains("batch (65) exceeds p (64)"), "{e}");
    let e = fails(&small(&[]));
    assert!(e.contains("neither temperature nor lr"), "{e}");
    let e = fails(&small(&["--lr", "0.1", "--temperature", "0.1"]));
    assert!(e.contains("both temperature and lr"), "{e}");
    let e = fails(&small(&["--lr", "0.1", "--p-test", "20000"]));
    assert!(e.contains("exceeds the 10000 points"), "{e}");
}

#[test]
fn wrong_flags_get_one_line_errors() {
    let e = fails(&["train", "--model", "resnet", "--lr", "0.1"]);
    assert!(
        e.contains("resnet") && e.contains("possible values") && e.contains("perceptron"),
        "{e}"
    );
    let e = fails(&["train", "--alpha", "big", "--lr", "0.1"]);
    assert!(e.contains("--alpha"), "{e}");
    let e = fails(&["train", "--learning-rate", "0.1"]);
    assert!(e.contains("--learning-rate"), "{e}");
    let e = fails(&["frobnicate"]);
    assert!(e.contains("frobnicate"), "{e}");
}

#[test]
fn missing_and_corrupt_data_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = fails(&small(&["--lr", "0.1", "--data-dir", "/nonexistent/mnist"]));
    assert!(
        e.contains("/nonexistent/mnist") && e.contains("does not exist"),
        "{e}"
    );

    let d = dir.path();
    std::fs::write(
        d.join("train-images-idx3-ubyte.gz"),
        b"\x1f\x8bnot really gzip",
    )
    .unwrap();
    std::fs::write(
        d.join("train-labels-idx1-ubyte"),
        b"\x00\x00\x08\x01\x00\x00\x00\x00",
    )
    .unwrap();
    let e = fails(&small(&["--lr", "0.1", "--data-dir", d.to_str().unwrap()]));
    assert!(
        e.contains("train-images-idx3-ubyte.gz: corrupt gzip data"),
        "{e}"
    );

    // The environment variable is the default data directory.
    let o = Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args(small(&["--lr", "0.1"]))
        .env("SGD_REGIMES_DATA", Path::new("/nonexistent/env-data"))
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("/nonexistent/env-data"),
        "{}",
        stderr(&o)
    );
}

/// `reproduce table1` and `reproduce fc-mnist` share the preset type: each one's help says what
/// its own presets hold, and neither shows the other's (table1's once listed fc-mnist's
/// "h = 64 ... about 40 minutes").
#[test]
fn each_reproduction_describes_its_own_presets() {
    let help = |cmd: &str| {
        let o = sgd(&["reproduce", cmd, "--help"]);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (table1, fc) = (help("table1"), help("fc-mnist"));
    assert!(table1.contains("h = 8 CNNs"), "{table1}");
    assert!(
        !table1.contains("h = 64") && !table1.contains("40 minutes"),
        "{table1}"
    );
    assert!(fc.contains("h = 64") && fc.contains("40 minutes"), "{fc}");
    assert!(!fc.contains("98 minutes"), "{fc}");
}

#[test]
fn help_teaches_and_bench_runs() {
    let o = sgd(&["train", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for flag in [
        "--temperature",
        "--lr",
        "--alpha",
        "--p-test",
        "--config",
        "[alias: --ptr]",
        "Examples:",
    ] {
        assert!(help.contains(flag), "train --help lacks {flag}");
    }
    let o = sgd(&["bench", "--quick"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for case in [
        "sgemm peak",
        "AVX-512",
        "JAX: ",
        "fc L=5 h=64 step",
        "fc L=5 h=256 step",
        "perceptron d=128 step",
        "full-set eval",
    ] {
        assert!(out.contains(case), "bench output lacks {case}: {out}");
    }
}
