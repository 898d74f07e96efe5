//! The full MNIST of `../shared/data/mnist` (70,000 digits, the four original IDX files, gzip),
//! which the paper preset needs (issue #22). Each test skips with a message when the data is
//! absent, and runs when it is there (CI copies `shared/` beside the clone).

mod common;

use common::{ok, sgd};
use std::path::PathBuf;

/// The full MNIST directory, or `None` (with a message) when it is absent.
fn full_mnist() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/mnist");
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no full MNIST at {} (the paper preset's data)",
            dir.display()
        );
        None
    }
}

#[test]
fn the_paper_preset_sizes_fit_the_full_mnist_and_one_more_point_does_not() {
    let Some(dir) = full_mnist() else { return };
    let d = dir.to_str().unwrap();
    let run = |p: &str, p_test: &str| {
        sgd(&[
            "train",
            "--model",
            "fc",
            "--depth",
            "2",
            "--width",
            "16",
            "--p",
            p,
            "--p-test",
            p_test,
            "--alpha",
            "32768",
            "-T",
            "0.01",
            "--max-steps",
            "20",
            "--json",
            "--data-dir",
            d,
        ])
    };
    // The paper preset's largest run: P = 16384, P_test = 32768 of the 70,000 digits.
    let o = run("16384", "32768");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["status"], "budget");
    let source = r["derived"]["data_source"].as_str().unwrap();
    assert!(
        source.contains("train-images-idx3-ubyte.gz") && source.contains("t10k-images"),
        "{source}"
    );
    // After 20 steps the lazy net is still near its (centred) start: about chance on parity.
    let test_error = r["final"]["test_error"].as_f64().unwrap();
    assert!((0.2..0.8).contains(&test_error), "{test_error}");
    // One point more than the pool holds: a one-line error naming the sizes and the files.
    let o = run("60000", "10001");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("exceeds the 70000 points") && err.contains("--data-dir"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn the_paper_preset_plans_on_the_full_mnist_without_writing() {
    let Some(dir) = full_mnist() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fc");
    let plan = ok(&[
        "reproduce",
        "fc-mnist",
        "--preset",
        "paper",
        "--data-dir",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--dry-run",
    ]);
    // 24 T x 5 P x 5 seeds; 21 x 5 x 5; 13 alpha x 16 T x 2 seeds.
    assert!(plan.contains("total: 1541 runs to do"), "{plan}");
    assert!(!out.exists(), "--dry-run wrote {}", out.display());
    // Without the data the preset says what it needs.
    let o = sgd(&[
        "reproduce",
        "table1",
        "--preset",
        "paper",
        "--out",
        out.to_str().unwrap(),
        "--dry-run",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("the paper preset needs the full MNIST"),
        "{err}"
    );
}
