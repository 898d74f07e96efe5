//! A run's data is part of its identity (issue #23, case 3): a relative `data_dir` is read
//! from the sweep file's directory whatever directory a command starts in, each result records
//! the files it was trained on (size and SHA-256), a sweep resumed on changed files is refused
//! with the file's name, and a directory made when relative paths were hashed as written is
//! adopted without rerunning its runs.

use serde_json::Value;
use sgd_regimes::config::RunConfig;
use std::path::Path;

mod common;
use common::sgd_in;

/// An MNIST-format data directory of `n` random 28x28 images with labels 0-9.
fn write_idx_set(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let mut state = 12345u64;
    let mut byte = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u8
    };
    let mut images = vec![0, 0, 8, 3];
    for d in [n as u32, 28, 28] {
        images.extend_from_slice(&d.to_be_bytes());
    }
    images.extend((0..n * 784).map(|_| byte()));
    let mut labels = vec![0, 0, 8, 1];
    labels.extend_from_slice(&(n as u32).to_be_bytes());
    labels.extend((0..n).map(|_| byte() % 10));
    std::fs::write(dir.join("train-images-idx3-ubyte"), images).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), labels).unwrap();
}

fn ok_in(cwd: &Path, args: &[&str]) -> String {
    let o = sgd_in(cwd, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// Result files of `results`, by file name.
fn result_files(results: &Path) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(results.join("runs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
        .map(|n| {
            let v = serde_json::from_str(
                &std::fs::read_to_string(results.join("runs").join(&n)).unwrap(),
            )
            .unwrap();
            (n, v)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

const SWEEP: &str = "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 8\nalpha = 1\np = 64\np_test = 64\ndata_dir = \"../data\"\n[grid]\ntemperature = [0.01, 0.02]\n";

#[test]
fn relative_data_dirs_resolve_from_the_sweep_file_and_changed_data_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    write_idx_set(&root.join("data"), 200);
    std::fs::create_dir(root.join("sweeps")).unwrap();
    std::fs::write(root.join("sweeps/s.toml"), SWEEP).unwrap();
    let abs = root.join("data").display().to_string();

    // Planned from two working directories: the same runs.
    let from_root = ok_in(&root, &["sweep", "plan", "sweeps/s.toml"]);
    let from_sweeps = ok_in(&root.join("sweeps"), &["sweep", "plan", "s.toml"]);
    let ids = |s: &str| -> Vec<String> {
        s.lines()
            .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
            .filter(|w| w.len() == 16)
            .collect()
    };
    assert_eq!(ids(&from_root).len(), 2, "{from_root}");
    assert_eq!(ids(&from_root), ids(&from_sweeps));

    ok_in(
        &root,
        &["sweep", "run", "sweeps/s.toml", "--results", "r", "-q"],
    );
    // Resumed from elsewhere: nothing left to run.
    let again = ok_in(
        &root.join("sweeps"),
        &["sweep", "run", "s.toml", "--results", "../r", "-q"],
    );
    assert!(again.contains("ran 0"), "{again}");
    let copy = std::fs::read_to_string(root.join("r/sweep.toml")).unwrap();
    assert!(copy.contains(&format!("data_dir = \"{abs}\"")), "{copy}");
    let results = result_files(&root.join("r"));
    assert_eq!(results.len(), 2);
    for (_, r) in &results {
        assert_eq!(r["config"]["data_dir"], Value::String(abs.clone()));
        let files = r["derived"]["data_files"].as_array().unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0]["bytes"], 16 + 200 * 784);
        assert_eq!(files[0]["sha256"].as_str().unwrap().len(), 64);
    }
    let record = std::fs::read_to_string(root.join("r/data.json")).unwrap();
    assert!(record.contains(&abs), "{record}");

    // A run lost (a killed sweep), then the labels changed: the resume is refused, naming the file.
    std::fs::remove_file(root.join("r/runs").join(&results[0].0)).unwrap();
    let labels = root.join("data/train-labels-idx1-ubyte");
    let mut bytes = std::fs::read(&labels).unwrap();
    bytes[8] = (bytes[8] + 1) % 10;
    std::fs::write(&labels, &bytes).unwrap();
    let o = sgd_in(
        &root,
        &["sweep", "run", "sweeps/s.toml", "--results", "r", "-q"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.trim_end().lines().last().unwrap().starts_with(&format!(
            "error: {}: changed content (SHA-256 differs) since the runs in r were made",
            labels.display()
        )),
        "{err}"
    );
    assert_eq!(result_files(&root.join("r")).len(), 1, "nothing was run");
}

#[test]
fn a_missing_data_dir_is_one_error_before_any_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("s.toml"), SWEEP.replace("../data", "nowhere")).unwrap();
    for args in [
        &["sweep", "plan", "s.toml"][..],
        &["sweep", "run", "s.toml", "--results", "r", "-q"],
    ] {
        let o = sgd_in(root, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.trim_end()
                .lines()
                .last()
                .unwrap()
                .contains("nowhere: data directory does not exist"),
            "{err}"
        );
    }
    // No failure record per run.
    let failed = std::fs::read_dir(root.join("r/runs")).map_or(0, |d| d.count());
    assert_eq!(failed, 0);
}

/// A results directory as the tool made it before relative data_dirs were resolved: the copy
/// holds the relative path, each result its relative config under the id that config hashes
/// to. `sweep run` adopts every result under its new id; nothing trains.
#[test]
fn a_directory_with_relative_data_dirs_is_adopted_without_rerunning() {
    let tmp = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(tmp.path()).unwrap();
    write_idx_set(&root.join("data"), 200);
    std::fs::create_dir(root.join("sweeps")).unwrap();
    std::fs::write(root.join("sweeps/s.toml"), SWEEP).unwrap();
    let sweeps = root.join("sweeps");
    ok_in(&sweeps, &["sweep", "run", "s.toml", "--results", "r", "-q"]);
    let r = sweeps.join("r");
    let fresh = result_files(&r);
    // Made legacy: relative config, old id, no data record.
    std::fs::write(r.join("sweep.toml"), SWEEP).unwrap();
    std::fs::remove_file(r.join("data.json")).unwrap();
    for (name, mut v) in fresh.clone() {
        v["config"]["data_dir"] = Value::String("../data".into());
        v["derived"].as_object_mut().unwrap().remove("data_files");
        let config: RunConfig = serde_json::from_value(v["config"].clone()).unwrap();
        let old_id = sgd_regimes::sweep::id::run_id(&config);
        std::fs::remove_file(r.join("runs").join(&name)).unwrap();
        std::fs::write(
            r.join("runs").join(format!("{old_id}.json")),
            serde_json::to_string_pretty(&v).unwrap(),
        )
        .unwrap();
    }
    // The legacy directory still reads as it did.
    let status = ok_in(&sweeps, &["status", "r"]);
    assert!(status.contains("converged 2"), "{status}");

    let out = ok_in(&sweeps, &["sweep", "run", "s.toml", "--results", "r", "-q"]);
    assert!(out.contains("ran 0"), "{out}");
    let adopted = result_files(&r);
    assert_eq!(
        adopted.iter().map(|a| &a.0).collect::<Vec<_>>(),
        fresh.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "the new ids"
    );
    for ((_, a), (_, f)) in adopted.iter().zip(&fresh) {
        assert_eq!(a["config"], f["config"]);
        assert_eq!(a["final"], f["final"]);
        assert!(
            a["adopted_from"]
                .as_str()
                .unwrap()
                .contains("data_dir `../data`, read relative to"),
            "{a}"
        );
    }
}
