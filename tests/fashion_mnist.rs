//! Fashion-MNIST from Debian's `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist/`), read
//! by the `idx` data set with a label map (issue #24). `.ci/run` installs the package; each test
//! skips with a message when the files are absent.

mod common;

use common::ok;
use std::path::PathBuf;

const DIR: &str = "/usr/share/datasets/fashion-mnist";

fn fashion() -> Option<PathBuf> {
    let dir = PathBuf::from(DIR);
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        Some(dir)
    } else {
        eprintln!("skipped: no Fashion-MNIST at {DIR} (apt-get install dataset-fashion-mnist)");
        None
    }
}

#[test]
fn fashion_mnist_is_an_idx_set_with_a_label_map() {
    let Some(dir) = fashion() else { return };
    let map = sgd_regimes::data::labels::LabelMap::new(&[0, 2, 4, 6, 8]);
    let pool = sgd_regimes::data::mnist::load_any(&dir, &map).unwrap();
    assert_eq!(pool.shape, [28, 28, 1]);
    assert_eq!(pool.labels.len(), 70_000);
    // 7,000 images per class: the even classes are half the set.
    assert_eq!(pool.labels.iter().filter(|&&y| y > 0.0).count(), 35_000);
    // Standardized by the set's own pixel moments (Fashion-MNIST: mean 72.9, std 90.0).
    assert!((pool.mean - 72.94).abs() < 0.05, "{}", pool.mean);
    assert!((pool.std - 90.02).abs() < 0.05, "{}", pool.std);
}

#[test]
fn a_run_on_fashion_mnist_records_its_map_and_files() {
    let Some(dir) = fashion() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    ok(&[
        "train",
        "--dataset",
        "idx",
        "--data-dir",
        dir.to_str().unwrap(),
        "--positive",
        "8,6,4,2,0",
        "--model",
        "fc",
        "--depth",
        "2",
        "--width",
        "16",
        "--p",
        "256",
        "--p-test",
        "512",
        "--alpha",
        "32768",
        "--temperature",
        "0.01",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(r["status"], "converged");
    assert_eq!(r["config"]["dataset"], "idx");
    assert_eq!(r["config"]["positive"], serde_json::json!([0, 2, 4, 6, 8]));
    let files = r["derived"]["data_files"].as_array().unwrap();
    assert_eq!(files.len(), 4);
    assert!(r["final"]["test_error"].as_f64().unwrap() < 0.2);
}
