//! Issue #25: a user's own trainer under the sweep (docs/external-trainer.md). Trainers here are
//! small `sh` scripts (the protocol, its failures, signals, resume) and the NumPy example of
//! `docs/examples/external-numpy/` (end to end, through `analyze`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{ok, sgd, sweep_into};

/// A valid result for the run the script is started for (`good`), as a shell function.
const GOOD: &str = r#"good() {
  printf '{"schema": "sgd-regimes/external-result/1", "run_id": "%s", "status": "converged", "t_star": 1.5, "n_params": 7,
    "final": {"t": 1.5, "step": 3, "train_loss": 0, "train_error": 0, "unfitted": 0, "test_error": 0.25, "weight_change": 0.01, "rank": 4}}\n' "$SGD_REGIMES_RUN_ID" > "$2"
}
"#;

/// A sweep of two runs (seeds 0 and 1) trained by `trainer.sh` in `dir`, whose body is
/// `body` after the `good` function; `seed1` is true in the run of seed 1.
fn sweep_with(dir: &Path, body: &str, extra: &str) -> PathBuf {
    let script =
        format!("{GOOD}seed1=false; grep -q '\"seed_init\": 1,' \"$1\" && seed1=true\n{body}\n");
    std::fs::write(dir.join("trainer.sh"), script).unwrap();
    let sweep = dir.join("sweep.toml");
    std::fs::write(
        &sweep,
        format!(
            "[trainer]\ncommand = [\"sh\", \"trainer.sh\"]\nfiles = [\"trainer.sh\"]\nprovide_data = false\n{extra}\n[base]\nmodel = \"fc\"\np = 64\np_test = 64\ntemperature = 0.01\n[grid]\nseed = [0, 1]\n"
        ),
    )
    .unwrap();
    sweep
}

/// (run id, seed_init) of every planned run, by `sweep plan`.
fn planned(sweep: &Path) -> Vec<String> {
    ok(&["sweep", "plan", sweep.to_str().unwrap()])
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|w| w.len() == 16)
        .map(str::to_string)
        .collect()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The stored files of the run with seed `seed`: (result, failure record).
fn stored(results: &Path, seed: u64) -> (Option<serde_json::Value>, Option<serde_json::Value>) {
    let (mut result, mut failure) = (None, None);
    for e in std::fs::read_dir(results.join("runs")).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        let v = json(&e.path());
        if v["config"]["seed_init"] != seed {
            continue;
        }
        if name.ends_with(".failed.json") {
            failure = Some(v);
        } else {
            result = Some(v);
        }
    }
    (result, failure)
}

#[test]
fn a_good_trainer_is_stored_as_a_result_with_its_own_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = sweep_with(
        tmp.path(),
        "echo training $SGD_REGIMES_RUN_ID; good \"$@\"",
        "",
    );
    let results = tmp.path().join("r");
    let out = sweep_into(&sweep, &results, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (result, _) = stored(&results, 1);
    let result = result.unwrap();
    assert_eq!(result["status"], "converged");
    assert_eq!(result["final"]["extra"]["rank"], 4.0);
    assert_eq!(result["derived"]["n_params"], 7);
    let files = &result["config"]["trainer"]["files"];
    assert_eq!(files[0]["path"], "trainer.sh");
    assert_eq!(files[0]["sha256"].as_str().unwrap().len(), 64);
    assert!(
        result["config"]["trainer"].get("dir").is_none(),
        "dir is not part of the id"
    );
    // The trainer's stdout is in the run's log.
    let id = planned(&sweep)[1].clone();
    let log = std::fs::read_to_string(results.join(format!("runs/{id}.log"))).unwrap();
    assert!(log.contains(&format!("training {id}")), "{log}");
    let csv = tmp.path().join("t.csv");
    ok(&[
        "collect",
        results.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    let table = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = table.lines().next().unwrap().split(',').collect();
    assert!(
        header.contains(&"rank") && header.contains(&"t_star"),
        "{header:?}"
    );
}

/// The issue's failure cases: each a one-line failure record of the run that failed (with the
/// exit code or signal and the end of stderr); the other run is stored; the sweep exits
/// non-zero; `--retry-failed` runs it again.
#[test]
fn trainer_failures_are_records_not_crashes() {
    let bad_id = r#"printf '{"schema": "sgd-regimes/external-result/1", "run_id": "0123456789abcdef", "status": "budget", "final": {"t": 1, "step": 1, "train_loss": 1, "train_error": 0.5, "unfitted": 3, "test_error": 0.5, "weight_change": 0.1}}' > "$2""#;
    let no_field = r#"printf '{"schema": "sgd-regimes/external-result/1", "run_id": "%s", "status": "budget", "final": {"t": 1, "step": 1, "train_loss": 1, "train_error": 0.5, "unfitted": 3, "weight_change": 0.1}}' "$SGD_REGIMES_RUN_ID" > "$2""#;
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "command not found",
            "good \"$@\"".into(),
            "command = [\"no-such-trainer-xyz\"]",
            "command not found: no-such-trainer-xyz",
        ),
        (
            "non-zero exit",
            "if $seed1; then echo 'Traceback: boom' >&2; exit 3; fi; good \"$@\"".into(),
            "",
            "exited with code 3; last stderr: Traceback: boom",
        ),
        (
            "killed",
            "if $seed1; then kill -9 $$; fi; good \"$@\"".into(),
            "",
            "killed by signal 9 (SIGKILL",
        ),
        (
            "no result file",
            "if $seed1; then exit 0; fi; good \"$@\"".into(),
            "",
            "wrote no result",
        ),
        (
            "invalid JSON",
            "if $seed1; then echo '{\"schema\": ' > \"$2\"; exit 0; fi; good \"$@\"".into(),
            "",
            "the result is not valid (EOF while parsing",
        ),
        (
            "wrong run id",
            format!("if $seed1; then {bad_id}; exit 0; fi; good \"$@\""),
            "",
            "names run \"0123456789abcdef\", not this run",
        ),
        (
            "missing field",
            format!("if $seed1; then {no_field}; exit 0; fi; good \"$@\""),
            "",
            "missing field `test_error`",
        ),
        (
            "result not a file",
            "if $seed1; then mkdir \"$2\"; exit 0; fi; good \"$@\"".into(),
            "",
            "the result cannot be read",
        ),
        (
            "max_wall without a result",
            "if $seed1; then trap '' TERM; sleep 5; fi; good \"$@\"".into(),
            "grace_s = 0.3\n[base.max_wall_note]",
            "stopped at max_wall = 0.5 s and wrote no result within the grace period",
        ),
    ];
    for (name, body, extra, says) in cases {
        let tmp = tempfile::tempdir().unwrap();
        // `command = ...` replaces the default command; the max_wall case sets a wall budget.
        let (extra, wall) = match extra.split_once("\n[base.max_wall_note]") {
            Some((e, _)) => (e.to_string(), true),
            None => (extra.to_string(), false),
        };
        let sweep = sweep_with(tmp.path(), &body, "");
        let mut text = std::fs::read_to_string(&sweep).unwrap();
        if extra.starts_with("command") {
            text = text.replace("command = [\"sh\", \"trainer.sh\"]", &extra);
        } else if !extra.is_empty() {
            text = text.replace(
                "provide_data = false\n",
                &format!("provide_data = false\n{extra}\n"),
            );
        }
        if wall {
            text = text.replace(
                "temperature = 0.01\n",
                "temperature = 0.01\nmax_wall = 0.5\n",
            );
        }
        std::fs::write(&sweep, text).unwrap();
        let results = tmp.path().join("r");
        let out = sweep_into(&sweep, &results, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{name}: the sweep must exit non-zero"
        );
        assert!(stderr.contains("run(s) failed"), "{name}: {stderr}");
        let (_, failure) = stored(&results, 1);
        let error = failure.unwrap_or_else(|| panic!("{name}: no failure record"))["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(error.contains(says), "{name}: {error}");
        assert!(!error.contains('\n'), "{name}: one line: {error}");
        if name != "command not found" {
            let (good, _) = stored(&results, 0);
            assert_eq!(good.expect(name)["status"], "converged", "{name}");
        }
        // Fixed, the failed run is done again on request.
        if name == "non-zero exit" {
            sweep_with(tmp.path(), "good \"$@\"", "");
            // The trainer changed, so its runs are new ones: the old directory is refused.
            let again = sweep_into(&sweep, &results, &["--retry-failed"]);
            assert!(!again.status.success());
            let fresh = tmp.path().join("r2");
            assert!(sweep_into(&sweep, &fresh, &[]).status.success());
        }
    }
}

#[test]
fn retry_failed_reruns_a_failed_external_run() {
    let tmp = tempfile::tempdir().unwrap();
    // Fails while a flag file exists: the same trainer, so the same run ids.
    let sweep = sweep_with(
        tmp.path(),
        "if $seed1 && [ -e flaky ]; then echo 'CUDA out of memory' >&2; exit 1; fi; good \"$@\"",
        "",
    );
    std::fs::write(tmp.path().join("flaky"), "").unwrap();
    let results = tmp.path().join("r");
    assert!(!sweep_into(&sweep, &results, &[]).status.success());
    std::fs::remove_file(tmp.path().join("flaky")).unwrap();
    let plain = sweep_into(&sweep, &results, &[]);
    assert!(!plain.status.success(), "a failure is not retried unasked");
    assert!(String::from_utf8_lossy(&plain.stderr).contains("--retry-failed"));
    let retried = sweep_into(&sweep, &results, &["--retry-failed"]);
    assert!(
        retried.status.success(),
        "{}",
        String::from_utf8_lossy(&retried.stderr)
    );
    let (result, failure) = stored(&results, 1);
    assert!(result.is_some() && failure.is_none());
}

#[test]
fn editing_a_trainer_file_changes_the_run_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = sweep_with(tmp.path(), "good \"$@\"", "");
    let before = planned(&sweep);
    assert_eq!(before.len(), 2);
    assert_eq!(planned(&sweep), before, "the same files plan the same runs");
    // One byte more in the script: other runs.
    let script = tmp.path().join("trainer.sh");
    let mut text = std::fs::read_to_string(&script).unwrap();
    text.push_str("# tuned\n");
    std::fs::write(&script, &text).unwrap();
    let after = planned(&sweep);
    assert!(
        before.iter().all(|id| !after.contains(id)),
        "{before:?} {after:?}"
    );
    // So are the version and the command; not the threads or the directory.
    let toml = std::fs::read_to_string(&sweep).unwrap();
    let variant = |from: &str, to: &str| {
        std::fs::write(&sweep, toml.replace(from, to)).unwrap();
        planned(&sweep)
    };
    assert_ne!(
        variant("provide_data", "version = \"2\"\nprovide_data"),
        after
    );
    assert_ne!(variant("[\"sh\", ", "[\"/bin/sh\", "), after);
    assert_eq!(
        variant("provide_data", "threads_per_run = 2\nprovide_data"),
        after
    );
    std::fs::write(&sweep, &toml).unwrap();
    // A project moved elsewhere keeps its ids.
    let moved = tempfile::tempdir().unwrap();
    for f in ["trainer.sh", "sweep.toml"] {
        std::fs::copy(tmp.path().join(f), moved.path().join(f)).unwrap();
    }
    assert_eq!(planned(&moved.path().join("sweep.toml")), after);

    // A results directory made by the old script refuses the edited one, naming the file.
    let results = tmp.path().join("r");
    assert!(sweep_into(&sweep, &results, &[]).status.success());
    std::fs::write(&script, format!("{text}# again\n")).unwrap();
    let stored_copy = results.join("sweep.toml");
    let e = sweep_into(&stored_copy, &results, &[]);
    let stderr = String::from_utf8_lossy(&e.stderr);
    assert!(
        stderr.contains("trainer.sh changed since this sweep was stored"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// Slow trainers (each run appends to `started` when it starts), so kills land mid-run.
fn slow_sweep(dir: &Path, runs: usize) -> PathBuf {
    let body = "echo \"$SGD_REGIMES_RUN_ID\" >> started; sleep 0.4; good \"$@\"";
    let sweep = sweep_with(dir, body, "");
    let text = std::fs::read_to_string(&sweep).unwrap().replace(
        "seed = [0, 1]",
        &format!("seed = {{ linear = [0, {}] }}", runs - 1),
    );
    std::fs::write(&sweep, text).unwrap();
    sweep
}

fn spawn_sweep(sweep: &Path, results: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args(["sweep", "run", sweep.to_str().unwrap(), "--results"])
        .arg(results)
        .args(["--quiet", "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn result_count(results: &Path) -> usize {
    std::fs::read_dir(results.join("runs")).map_or(0, |d| {
        d.flatten()
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.ends_with(".json") && !n.starts_with('.') && !n.ends_with(".failed.json")
            })
            .count()
    })
}

fn wait_for(what: impl Fn() -> bool) {
    let start = Instant::now();
    while !what() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_external_sweep_resumes_and_no_finished_run_is_redone() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = slow_sweep(tmp.path(), 8);
    let results = tmp.path().join("r");
    let started = tmp.path().join("started");
    let lines = || {
        std::fs::read_to_string(&started)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for _ in 0..2 {
        let before = result_count(&results);
        let mut child = spawn_sweep(&sweep, &results);
        wait_for(|| result_count(&results) > before);
        child.kill().unwrap(); // SIGKILL: its trainers die with it (PR_SET_PDEATHSIG)
        child.wait().unwrap();
    }
    let done_before: Vec<String> = planned(&sweep)
        .into_iter()
        .filter(|id| results.join(format!("runs/{id}.json")).exists())
        .collect();
    assert!(
        !done_before.is_empty() && done_before.len() < 8,
        "{done_before:?}"
    );
    // The killed sweep's trainers are gone: nothing appends to `started` any more.
    std::thread::sleep(Duration::from_millis(600));
    let after_kill = lines().len();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        lines().len(),
        after_kill,
        "an orphaned trainer is still running"
    );
    let out = sweep_into(&sweep, &results, &["--jobs", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(result_count(&results), 8);
    let resumed = &lines()[after_kill..];
    assert_eq!(resumed.len(), 8 - done_before.len(), "{resumed:?}");
    for id in &done_before {
        assert!(
            !resumed.contains(id),
            "run {id} finished before the kill and was started again"
        );
    }
}

#[test]
fn sigterm_reaches_the_trainer_and_leaves_its_run_to_be_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    // The trainer notes the SIGTERM it gets and writes a result anyway (which must not count).
    let body = "trap 'echo $SGD_REGIMES_RUN_ID >> termed; good \"$@\"; exit 0' TERM; echo x >> started; sleep 30 & wait";
    let sweep = sweep_with(tmp.path(), body, "grace_s = 5");
    let results = tmp.path().join("r");
    let child = spawn_sweep(&sweep, &results);
    wait_for(|| {
        std::fs::read_to_string(tmp.path().join("started")).is_ok_and(|s| s.lines().count() == 2)
    });
    // SAFETY: kill(2) with the pid of a child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "128 + SIGTERM");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rerun the same command"), "{stderr}");
    let termed = std::fs::read_to_string(tmp.path().join("termed")).unwrap();
    assert_eq!(termed.lines().count(), 2, "both trainers got the SIGTERM");
    assert_eq!(result_count(&results), 0, "a stopped run is not stored");
    assert!(stored(&results, 0).1.is_none(), "nor recorded as failed");
}

#[test]
fn max_wall_stops_the_trainer_which_may_write_a_budget_result() {
    let tmp = tempfile::tempdir().unwrap();
    let budget = r#"printf '{"schema": "sgd-regimes/external-result/1", "run_id": "%s", "status": "budget", "final": {"t": 9, "step": 90, "train_loss": 0.5, "train_error": 0.25, "unfitted": 5, "test_error": 0.5, "weight_change": 0.2}}' "$SGD_REGIMES_RUN_ID" > "$2""#;
    let body = format!(
        "trap '{}; exit 0' TERM; sleep 30 & wait",
        budget.replace('\'', "'\\''")
    );
    let sweep = sweep_with(tmp.path(), &body, "grace_s = 5");
    let text = std::fs::read_to_string(&sweep).unwrap().replace(
        "temperature = 0.01\n",
        "temperature = 0.01\nmax_wall = 0.3\n",
    );
    std::fs::write(&sweep, text).unwrap();
    let results = tmp.path().join("r");
    let start = Instant::now();
    let out = sweep_into(&sweep, &results, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "the trainer was not stopped"
    );
    let result = stored(&results, 0).0.unwrap();
    assert_eq!(result["status"], "budget");
    assert_eq!(result["final"]["unfitted"], 5);
    assert!(
        result["status_detail"]
            .as_str()
            .unwrap()
            .contains("max_wall = 0.3 s ran out"),
        "{result}"
    );
}

/// The NumPy example, end to end: 30 runs, collected and analyzed. Needs python3 with NumPy;
/// skips with a message without it, unless SGD_REGIMES_REQUIRE_NUMPY is set (as CI does).
#[test]
fn the_numpy_example_runs_and_analyze_fits_its_exponents() {
    let has_numpy = Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_numpy {
        assert!(
            std::env::var_os("SGD_REGIMES_REQUIRE_NUMPY").is_none(),
            "python3 with NumPy is required (SGD_REGIMES_REQUIRE_NUMPY is set)"
        );
        eprintln!("skipped: python3 with NumPy not found");
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/external-numpy");
    let check = Command::new("python3")
        .arg(example.join("train.py"))
        .arg("--self-test")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("r");
    let r = results.to_str().unwrap();
    let out = ok(&[
        "sweep",
        "run",
        example.join("sweep.toml").to_str().unwrap(),
        "--results",
        r,
        "--quiet",
    ]);
    assert!(out.contains("ran 30: 30 converged"), "{out}");
    let analysis = ok(&["analyze", r]);
    assert!(analysis.contains("trainer train.py v1"), "{analysis}");
    let mut table = csv::Reader::from_path(results.join("analysis/exponents.csv")).unwrap();
    let column = table
        .headers()
        .unwrap()
        .iter()
        .position(|c| c == "delta")
        .unwrap();
    let rows: Vec<csv::StringRecord> = table.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let delta: f64 = rows[0][column].parse().unwrap();
    // dw ~ T^delta on the noise branch: delta near 1 for this lazy net (0.96 by the built-in
    // trainer on the same grid).
    assert!((0.7..1.3).contains(&delta), "delta = {delta}");
}

/// A grid may vary the trainer's own parameters (`params.NAME`): each value is its own run and
/// its own group in `analyze`; a parameter set in both places, or without a trainer, is an error.
#[test]
fn a_grid_varies_the_trainers_own_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = sweep_with(tmp.path(), "good \"$@\"", "");
    let text = std::fs::read_to_string(&sweep)
        .unwrap()
        .replace(
            "provide_data = false\n",
            "provide_data = false\n[trainer.params]\nopt = \"sgd\"\n",
        )
        .replace(
            "seed = [0, 1]",
            "seed = [0, 1]\n\"params.blocks\" = [2, 4, 8]",
        );
    std::fs::write(&sweep, &text).unwrap();
    let ids = planned(&sweep);
    assert_eq!(ids.len(), 6, "{ids:?}");
    let results = tmp.path().join("r");
    let out = sweep_into(&sweep, &results, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = stored(&results, 0).0.unwrap();
    assert_eq!(r["config"]["trainer"]["params"]["opt"], "sgd");
    assert!(r["config"]["trainer"]["params"]["blocks"].is_i64());
    let analysis = ok(&["analyze", results.to_str().unwrap()]);
    for b in [2, 4, 8] {
        assert!(
            analysis.contains(&format!("trainer trainer.sh blocks={b} opt=sgd")),
            "{analysis}"
        );
    }
    // Set in [trainer.params] too: refused, not silently overridden.
    let both = text.replace(
        "\"params.blocks\" = [2, 4, 8]",
        "\"params.opt\" = [\"sgd\", \"adam\"]",
    );
    std::fs::write(&sweep, both).unwrap();
    let e = String::from_utf8_lossy(&sweep_into(&sweep, &tmp.path().join("r2"), &[]).stderr)
        .into_owned();
    assert!(
        e.contains("`params.opt` is both in [trainer.params] and in [grid]"),
        "{e}"
    );
    // Without a trainer there are no parameters to vary.
    let plain = tmp.path().join("plain.toml");
    std::fs::write(
        &plain,
        "[base]\nlr = 0.1\np = 64\n[grid]\n\"params.blocks\" = [2, 4]\n",
    )
    .unwrap();
    let e = String::from_utf8_lossy(&sgd(&["sweep", "plan", plain.to_str().unwrap()]).stderr)
        .into_owned();
    assert!(
        e.contains("varies a trainer parameter, but the file has no [trainer] table"),
        "{e}"
    );
}
