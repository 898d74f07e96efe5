//! Helpers shared by the integration tests that drive the binary (each test crate uses a
//! subset, hence the allow).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// A small fc run on the bundled digits (a second or so): the base of many bad-input cases.
pub const SMALL_TRAIN: &[&str] = &[
    "train",
    "--model",
    "fc",
    "--depth",
    "2",
    "--width",
    "16",
    "--alpha",
    "1",
    "--p",
    "128",
    "--p-test",
    "128",
    "--temperature",
    "0.01",
    "--quiet",
];

/// Run the binary with `args`, without the data-directory variables of the environment.
pub fn sgd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args(args)
        .env_remove("SGD_REGIMES_DATA")
        .env_remove("SGD_REGIMES_CIFAR10")
        .output()
        .expect("the binary runs")
}

/// Run the binary, require success, return its stdout.
pub fn ok(args: &[&str]) -> String {
    let o = sgd(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `sweep run SWEEP --results RESULTS --quiet`, then any `more` flags.
pub fn sweep_into(sweep: &Path, results: &Path, more: &[&str]) -> Output {
    let mut args = vec![
        "sweep",
        "run",
        sweep.to_str().unwrap(),
        "--results",
        results.to_str().unwrap(),
        "--quiet",
    ];
    args.extend(more);
    sgd(&args)
}

/// Write `text` as a sweep file in `dir`, run it into `dir/r`, and return that directory.
pub fn run_sweep(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let sweep = dir.join("sweep.toml");
    std::fs::write(&sweep, text).unwrap();
    let results = dir.join("r");
    let o = sweep_into(&sweep, &results, &[]);
    assert!(
        o.status.success(),
        "sweep run {}: {}",
        sweep.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    results
}

/// A bad input's answer: non-zero exit, exactly one line on stderr, no panic or backtrace;
/// returns that line.
pub fn fails(args: &[&str]) -> String {
    let o = sgd(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{args:?} should fail");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{args:?}: {err}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
    err.trim_end().to_string()
}

/// The binary run with `cwd` as its working directory.
pub fn sgd_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args(args)
        .current_dir(cwd)
        .env_remove("SGD_REGIMES_DATA")
        .env_remove("SGD_REGIMES_CIFAR10")
        .output()
        .expect("the binary runs")
}
