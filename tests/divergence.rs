//! Divergence means non-finite (method §1), never a threshold relative to `1/alpha`; a dead net
//! gets its own status `stalled`, everywhere statuses appear. On the bundled real digits.

mod common;
use common::ok;

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(&all)).expect("a result JSON")
}

const LAZY: [&str; 14] = [
    "train",
    "--model",
    "fc",
    "--dataset",
    "mnist-parity",
    "--p",
    "1024",
    "--p-test",
    "2048",
    "--alpha",
    "32768",
    "--batch",
    "16",
    "--quiet",
];

#[test]
fn a_lazy_run_at_large_temperature_converges_and_only_a_blow_up_diverges() {
    // The issue's run: the training loss transiently exceeds 10^4 x 1/alpha, yet it converges
    // (the old relative threshold ended it as `diverged` at step 1).
    let mut args = LAZY.to_vec();
    args.extend(["--temperature", "4"]);
    let r = json(&args);
    assert_eq!(r["status"], "converged", "{}", r["status_detail"]);
    let test_error = r["final"]["test_error"].as_f64().unwrap();
    assert!(test_error < 0.2, "test error {test_error}");
    assert!(r["config"]["divergence_factor"].is_null());

    // The relative threshold survives only as an explicit opt-in.
    let mut opt_in = args.clone();
    opt_in.extend(["--divergence-factor", "1e4"]);
    let r = json(&opt_in);
    assert_eq!(r["status"], "diverged");
    let detail = r["status_detail"].as_str().unwrap();
    assert!(detail.contains("divergence_factor"), "{detail}");

    // T = 16 blows up to non-finite values within a few steps.
    let mut args = LAZY.to_vec();
    args.extend(["--temperature", "16"]);
    let r = json(&args);
    assert_eq!(r["status"], "diverged");
    let detail = r["status_detail"].as_str().unwrap();
    assert!(detail.contains("non-finite"), "{detail}");
    assert!(r["final"]["step"].as_u64().unwrap() < 100);
}

#[test]
fn a_dead_network_is_stalled_in_the_result_status_and_collect() {
    let dir = tempfile::tempdir().unwrap();
    // Feature regime (alpha = 2^-10) far above T_max: every ReLU dies within a few thousand
    // steps, so no unfitted point has a gradient; T = 2^-10 converges.
    let sweep = dir.path().join("s.toml");
    std::fs::write(
        &sweep,
        "[base]\nmodel = \"fc\"\np = 1024\np_test = 256\nalpha = 0.0009765625\nbatch = 16\n\n[grid]\ntemperature = [0.25, 0.0009765625]\n",
    )
    .unwrap();
    let results = dir.path().join("r");
    let (s, r) = (sweep.to_str().unwrap(), results.to_str().unwrap());
    let out = ok(&["sweep", "run", s, "--results", r, "--jobs", "2"]);
    assert!(out.contains("1 converged, 0 diverged, 1 stalled"), "{out}");
    let status = ok(&["status", r]);
    assert!(status.contains("stalled"), "{status}");
    let csv = dir.path().join("t.csv");
    ok(&["collect", r, "--out", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.matches(",stalled,").count(), 1, "{text}");
    let stalled = std::fs::read_dir(results.join("runs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|t| t.contains("\"status\": \"stalled\""))
        .expect("one result is stalled");
    assert!(stalled.contains("dead ReLUs"));
}
