//! Issue #5 end to end: the convolutional nets train to zero loss through the binary, on real
//! MNIST digits and on a generated set in the CIFAR-10 binary format, with method §2's parameter
//! counts, reproducibly, and with one-line errors for what cannot work.

use std::path::Path;

mod common;
use common::{fails, sgd};

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let o = sgd(&all);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("a result JSON")
}

/// One file of the CIFAR-10 binary version: per record a class byte, then the R, G and B
/// planes of a 32x32 image. Vehicles (classes 0, 1, 8, 9) are darker than animals, with noise.
fn cifar_file(records: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut out = Vec::new();
    for _ in 0..records {
        let class = (next() % 10) as u8;
        out.push(class);
        let base: u32 = if matches!(class, 0 | 1 | 8 | 9) {
            60
        } else {
            150
        };
        out.extend((0..3072).map(|_| (base + next() % 80) as u8));
    }
    out
}

fn write_cifar(dir: &Path, per_file: usize) {
    for (k, name) in sgd_regimes::data::cifar::FILES.iter().enumerate() {
        std::fs::write(dir.join(name), cifar_file(per_file, k as u32 + 1)).unwrap();
    }
}

fn without_timing(mut r: serde_json::Value) -> serde_json::Value {
    r.as_object_mut().unwrap().remove("timing");
    r
}

#[test]
fn simple_cnn_fits_real_digits_to_zero_loss() {
    let args = [
        "train",
        "--model",
        "simple-cnn",
        "--width",
        "4",
        "--dataset",
        "mnist-parity",
        "--p",
        "32",
        "--p-test",
        "64",
        "--temperature",
        "0.1",
        "--batch",
        "8",
    ];
    let r = json(&args);
    assert_eq!(r["status"], "converged", "{}", r["status_detail"]);
    assert_eq!(r["final"]["train_loss"], 0.0);
    assert_eq!(r["final"]["unfitted"], 0);
    // conv1 (25·1·4 + 4) + conv2 (25·4·8 + 8) + dense (7·7·8·128 + 128) + readout 128.
    assert_eq!(r["derived"]["n_params"], 104 + 808 + 50_304 + 128);
    assert_eq!(r["derived"]["input_shape"], serde_json::json!([28, 28, 1]));
    let layers: Vec<&str> = r["final"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            "conv1",
            "conv1.bias",
            "conv2",
            "conv2.bias",
            "dense",
            "dense.bias",
            "readout"
        ]
    );
    // The test error of a fitted net on real digits is better than chance.
    assert!(
        r["final"]["test_error"].as_f64().unwrap() < 0.4,
        "{}",
        r["final"]
    );
    // A run is a pure function of its config.
    assert_eq!(without_timing(json(&args)), without_timing(r));
}

#[test]
fn mnas_fits_a_cifar_format_set_to_zero_loss() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar(dir.path(), 8);
    let d = dir.path().to_str().unwrap();
    let r = json(&[
        "train",
        "--model",
        "mnas",
        "--width",
        "4",
        "--dataset",
        "cifar-animals",
        "--data-dir",
        d,
        "--p",
        "24",
        "--p-test",
        "16",
        "--temperature",
        "0.1",
        "--batch",
        "8",
    ]);
    assert_eq!(r["status"], "converged", "{}", r["status_detail"]);
    assert_eq!(r["final"]["unfitted"], 0);
    assert_eq!(r["derived"]["input_shape"], serde_json::json!([32, 32, 3]));
    assert!(
        r["derived"]["data_source"]
            .as_str()
            .unwrap()
            .contains("CIFAR-10")
    );
    assert!(r["final"]["weight_change"].as_f64().unwrap() > 0.0);

    // Width 8 has method §2's parameter counts (one step is enough to read them).
    for (model, count) in [("mnas", 17_673), ("simple-cnn", 266_480)] {
        let r = json(&[
            "train",
            "--model",
            model,
            "--dataset",
            "cifar-animals",
            "--data-dir",
            d,
            "--p",
            "8",
            "--p-test",
            "8",
            "--lr",
            "0.1",
            "--batch",
            "8",
            "--max-steps",
            "1",
        ]);
        assert_eq!(r["derived"]["n_params"], count, "{model}");
        assert_eq!(
            (&r["config"]["width"], &r["status"]),
            (&8.into(), &"budget".into())
        );
    }
}

#[test]
fn impossible_cnn_configs_and_bad_cifar_files_get_one_line_errors() {
    let base = [
        "train", "--p", "8", "--p-test", "8", "--lr", "0.1", "--batch", "4",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |extra: &[&str]| {
        let v = with(extra);
        fails(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let e = run(&["--model", "mnas", "--dataset", "depleted-sign"]);
    assert!(e.contains("model mnas needs images"), "{e}");
    let e = run(&["--model", "simple-cnn", "--dataset", "cifar-animals"]);
    assert!(
        e.contains("cifar-animals needs data_dir") && e.contains("data fetch cifar10"),
        "{e}"
    );
    let e = run(&["--model", "cnn"]);
    assert!(
        e.contains("invalid value 'cnn'") && e.contains("simple-cnn"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    write_cifar(dir.path(), 2);
    let file = dir.path().join("data_batch_4.bin");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(5000);
    std::fs::write(&file, bytes).unwrap();
    let d = dir.path().to_str().unwrap();
    let e = run(&[
        "--model",
        "mnas",
        "--dataset",
        "cifar-animals",
        "--data-dir",
        d,
    ]);
    assert!(
        e.contains("data_batch_4.bin: 5000 bytes is not a whole number"),
        "{e}"
    );
}

/// Every result of a results directory, without wall-clock fields, by file name.
fn results(dir: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, without_timing(v))
        })
        .collect()
}

#[test]
fn cnn_sweeps_give_the_same_results_with_one_or_two_workers_and_collect() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("cnn.toml");
    std::fs::write(
        &sweep,
        r#"
[base]
dataset = "mnist-parity"
p = 16
p_test = 32
batch = 8
alpha = 1.0

[grid]
model = ["simple-cnn", "mnas"]
# width 4: simple-cnn's second convolution (8 channels) takes the direct kernels on FMA CPUs.
width = [2, 4]
temperature = [0.02, 0.05]
seed = [0, 1]
"#,
    )
    .unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    for (out, jobs) in [(&one, "1"), (&two, "2")] {
        let o = sgd(&[
            "sweep",
            "run",
            sweep.to_str().unwrap(),
            "--results",
            out.to_str().unwrap(),
            "--jobs",
            jobs,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (a, b) = (results(&one), results(&two));
    assert_eq!(a.len(), 16);
    assert_eq!(a, b, "results depend on the number of workers");
    assert!(a.values().all(|r| r["status"] == "converged"));

    let csv = dir.path().join("runs.csv");
    let o = sgd(&[
        "collect",
        one.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 17);
    assert_eq!(
        text.lines().filter(|l| l.contains(",mnas,")).count(),
        8,
        "{text}"
    );
}
