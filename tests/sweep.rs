//! Sweeps as a user runs them: restart after SIGKILL, shards, collect round-trip, clear errors.

use arrow_array::{Array, Float64Array, Int64Array, StringArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;
use common::{fails, ok, sgd};

const SWEEP: &str = r#"
[base]
model = "fc"
depth = 2
width = 32
p_test = 256
alpha = 32768
batch = 16

[grid]
temperature = { log2 = [-10, -5], step = 1 }
p = [128, 256]
seed = [0, 1]
"#;

fn write_sweep(dir: &Path, text: &str) -> String {
    let path = dir.join("grid.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Result and failure files in a results directory (a killed writer's temporary files and
/// the claim files of running runs excluded).
fn done(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("runs")).map_or(0, |d| {
        d.flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                !name.starts_with('.') && name.ends_with(".json")
            })
            .count()
    })
}

/// Every result file of a results directory, parsed, without its wall-clock fields.
fn results(dir: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir.join("runs")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".claim") {
            continue; // a killed writer's temporary file or claim: never a result
        }
        assert!(
            name.ends_with(".json") && !name.ends_with(".failed.json"),
            "unexpected file {name}"
        );
        let mut v: Value =
            serde_json::from_slice(&std::fs::read(dir.join("runs").join(&name)).unwrap())
                .unwrap_or_else(|e| panic!("{name} is not valid JSON: {e}"));
        v.as_object_mut().unwrap().remove("timing");
        assert!(out.insert(name, v).is_none());
    }
    out
}

#[test]
fn killed_sweeps_restart_to_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = write_sweep(tmp.path(), SWEEP);
    let reference = tmp.path().join("reference");
    let start = std::time::Instant::now();
    ok(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        reference.to_str().unwrap(),
        "--jobs",
        "1",
        "--quiet",
    ]);
    // With 2 jobs the whole sweep takes about half this; kill within its first fifth each time.
    let whole_ms = start.elapsed().as_millis() as u64 / 2;
    let want = results(&reference);
    assert_eq!(want.len(), 24);

    let killed = tmp.path().join("killed");
    let per_run_ms = (whole_ms / 12).max(2);
    let mut state = 12345u64;
    let mut kills = 0;
    for _ in 0..6 {
        let before = done(&killed);
        let mut child = spawn_sweep(&sweep, &killed, 2);
        // Let it make progress, then kill it at a random moment of the following runs.
        while done(&killed) == before && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(2));
        }
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis((state >> 33) % per_run_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(
        kills >= 3,
        "the sweep finished before most kills; make its runs longer"
    );
    let partial = results(&killed).len();
    assert!(
        partial > 0 && partial < 24,
        "the kills should leave a partial sweep ({partial} of 24 done)"
    );
    let out = ok(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        killed.to_str().unwrap(),
        "--jobs",
        "2",
        "--quiet",
    ]);
    assert!(out.contains(&format!("ran {}:", 24 - partial)), "{out}");
    assert_eq!(
        results(&killed),
        want,
        "interrupted + restarted with 2 jobs == uninterrupted with 1 job"
    );

    // Nothing left to do.
    let out = ok(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        killed.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.contains("ran 0:"), "{out}");
    let status = ok(&["status", killed.to_str().unwrap(), "--by", "p"]);
    assert!(
        status.contains("converged 24") && status.contains("missing 0"),
        "{status}"
    );
}

#[test]
fn shards_together_make_the_whole_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = write_sweep(tmp.path(), &SWEEP.replace("[-10, -5]", "[-8, -7]"));
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    for i in 0..3 {
        ok(&[
            "sweep",
            "run",
            &sweep,
            "--results",
            d,
            "--shard",
            &format!("{i}/3"),
            "--quiet",
        ]);
    }
    let s = ok(&["status", d]);
    assert!(s.contains("converged 8") && s.contains("missing 0"), "{s}");
}

#[test]
fn collect_round_trips_through_parquet_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SWEEP
        .replace("[-10, -5]", "[-8, -6]")
        .replace("seed = [0, 1]", "seed = [0]");
    let sweep = write_sweep(tmp.path(), &text);
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    ok(&["sweep", "run", &sweep, "--results", d, "--quiet"]);
    let pq = tmp.path().join("t.parquet");
    let out = ok(&["collect", d, "--out", pq.to_str().unwrap()]);
    assert!(out.contains("wrote 6 rows"), "{out}");

    let file = std::fs::File::open(&pq).unwrap();
    let mut reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batch = reader.next().unwrap().unwrap();
    assert_eq!(batch.num_rows(), 6);
    let col = |name: &str| {
        batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .clone()
    };
    let ids = col("run_id");
    let ids = ids.as_any().downcast_ref::<StringArray>().unwrap();
    let p = col("p");
    let p = p
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("p is an integer column");
    let floats: Vec<(&str, Float64Array)> = [
        "temperature",
        "t_star",
        "test_error",
        "weight_change",
        "weight_change.hidden.1",
    ]
    .into_iter()
    .map(|n| {
        (
            n,
            col(n)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap_or_else(|| panic!("{n} is not Float64"))
                .clone(),
        )
    })
    .collect();
    for row in 0..6 {
        let json: Value = serde_json::from_slice(
            &std::fs::read(dir.join("runs").join(format!("{}.json", ids.value(row)))).unwrap(),
        )
        .unwrap();
        assert_eq!(p.value(row), json["config"]["p"].as_i64().unwrap());
        let want = [
            json["derived"]["temperature"].as_f64(),
            json["final"]["t"].as_f64(),
            json["final"]["test_error"].as_f64(),
            json["final"]["weight_change"].as_f64(),
            json["final"]["layers"][0]["weight_change"].as_f64(),
        ];
        for ((name, array), want) in floats.iter().zip(want) {
            assert_eq!(Some(array.value(row)), want, "{name} of row {row}");
            assert!(!array.is_null(row));
        }
    }

    let csv = tmp.path().join("t.csv");
    ok(&["collect", d, "--out", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[..4], &["run_id", "model", "dataset", "p"]);
    let k = header.iter().position(|h| *h == "t_star").unwrap();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let json: Value = serde_json::from_slice(
            &std::fs::read(dir.join("runs").join(format!("{}.json", fields[0]))).unwrap(),
        )
        .unwrap();
        assert_eq!(
            fields[k].parse::<f64>().unwrap(),
            json["final"]["t"].as_f64().unwrap(),
            "CSV floats round-trip"
        );
    }
}

#[test]
fn bad_inputs_are_one_line_errors_and_touch_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = write_sweep(
        tmp.path(),
        "[base]\nlr = 0.1\n[grid]\nalpha = [1.0, -2.0]\n",
    );
    let e = fails(&["sweep", "plan", &bad]);
    assert!(
        e.contains("grid.toml:4: alpha must be a positive") && e.contains("alpha=-2.0"),
        "{e}"
    );
    let e = fails(&[
        "sweep",
        "run",
        &bad,
        "--results",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert!(e.contains("alpha"), "{e}");
    assert!(
        !tmp.path().join("x").exists(),
        "a bad sweep file creates nothing"
    );

    let sweep = write_sweep(
        tmp.path(),
        &SWEEP
            .replace("[-10, -5]", "[-8, -8]")
            .replace("p = [128, 256]", "p = [128]"),
    );
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    ok(&["sweep", "run", &sweep, "--results", d, "--quiet"]);
    let before = results(&dir);
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, SWEEP).unwrap();
    let e = fails(&["sweep", "run", other.to_str().unwrap(), "--results", d]);
    assert!(e.contains("was made by a different sweep file"), "{e}");
    assert_eq!(results(&dir), before);
    assert_eq!(
        std::fs::read_to_string(dir.join("sweep.toml")).unwrap(),
        std::fs::read_to_string(&sweep).unwrap()
    );
    // Deleting the sweep copy, as the message says, adopts the new sweep and keeps the results.
    let adopt = tmp.path().join("adopt");
    let a = adopt.to_str().unwrap();
    ok(&["sweep", "run", &sweep, "--results", a, "--quiet"]);
    let kept = results(&adopt);
    std::fs::remove_file(adopt.join("sweep.toml")).unwrap();
    let bigger = tmp.path().join("bigger.toml");
    let text = std::fs::read_to_string(&sweep).unwrap();
    std::fs::write(&bigger, text.replace("seed = [0, 1]", "seed = [0, 1, 2]")).unwrap();
    let out = ok(&[
        "sweep",
        "run",
        bigger.to_str().unwrap(),
        "--results",
        a,
        "--quiet",
    ]);
    assert!(out.contains("ran 1:"), "{out}");
    let after = results(&adopt);
    assert!(kept.iter().all(|(id, r)| after.get(id) == Some(r)));
    assert_eq!(after.len(), kept.len() + 1);

    // Not a results directory; a path under a file; an unknown table format; a bad shard.
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let e = fails(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        tmp.path().to_str().unwrap(),
    ]);
    assert!(e.contains("is not empty and has no sweep.toml"), "{e}");
    let e = fails(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        tmp.path().join("notes.txt/r").to_str().unwrap(),
    ]);
    assert!(
        e.contains("notes.txt/r") && e.contains("cannot create the results directory"),
        "{e}"
    );
    let e = fails(&[
        "collect",
        d,
        "--out",
        tmp.path().join("t.xlsx").to_str().unwrap(),
    ]);
    assert!(e.contains("use a .csv or .parquet"), "{e}");
    let e = fails(&["sweep", "run", &sweep, "--results", d, "--shard", "3/3"]);
    assert!(e.contains("expected I/N"), "{e}");
    let e = fails(&["status", tmp.path().join("nope").to_str().unwrap()]);
    assert!(e.contains("not a sweep results directory"), "{e}");
    let e = fails(&["status", d, "--by", "alpha"]);
    assert!(
        e.contains("`alpha` is not a grid axis") && e.contains("temperature"),
        "{e}"
    );
}

#[test]
fn runs_that_error_are_recorded_and_do_not_stop_the_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    // p + p_test exceeds the 10,000 bundled digits for the second value only.
    let sweep = write_sweep(
        tmp.path(),
        "[base]\nmodel = \"perceptron\"\np = 64\nalpha = 10\nlr = 0.1\nbatch = 8\n[grid]\np_test = [64, 9990]\n",
    );
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    // The sweep goes on past the failed run, then exits non-zero saying so.
    let o = sgd(&["sweep", "run", &sweep, "--results", d, "--quiet"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        out.contains("1 converged") || out.contains("1 budget"),
        "{out}"
    );
    assert!(out.contains("1 failed"), "{out}");
    assert!(
        err.lines()
            .last()
            .unwrap()
            .starts_with("error: 1 run(s) failed"),
        "{err}"
    );
    let s = ok(&["status", d]);
    assert!(
        s.contains("failed 1")
            && s.contains("p_test=9990: invalid config: p (64) + p_test (9990) exceeds"),
        "{s}"
    );
    let csv = tmp.path().join("t.csv");
    ok(&["collect", d, "--out", csv.to_str().unwrap()]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.contains("failed") && text.contains("exceeds the 10000 points"),
        "{text}"
    );
    // Failed runs are not retried unless asked, and the sweep is not done while they remain
    // (issue #23, case 6: this rerun exited 0).
    let o = sgd(&["sweep", "run", &sweep, "--results", d, "--quiet"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("ran 0:"));
    let last = err.trim_end().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: 1 run(s) failed earlier and were not rerun")
            && last.ends_with("`sweep run --retry-failed` runs them again"),
        "{err}"
    );
    let o = sgd(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        d,
        "--quiet",
        "--retry-failed",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("ran 1:"));
}

#[test]
fn sigterm_stops_starting_runs_and_a_rerun_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = write_sweep(tmp.path(), SWEEP);
    let dir = tmp.path().join("r");
    let child = Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args([
            "sweep",
            "run",
            &sweep,
            "--results",
            dir.to_str().unwrap(),
            "--jobs",
            "1",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while done(&dir) == 0 {
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(143),
        "a sweep SIGTERM stopped exits 128 + 15, as the shell convention"
    );
    assert!(
        err.contains("stopping: no new runs start") && err.contains("stopped by a signal"),
        "{err}"
    );
    let after = done(&dir);
    assert!(after < 24, "it stopped early ({after} of 24 done)");
    // Everything written is a complete result; the rerun does exactly the rest.
    assert_eq!(results(&dir).len(), after);
    let out = ok(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.contains(&format!("ran {}:", 24 - after)), "{out}");
}

/// Results of a directory keyed by file name, without timing and provenance.
fn comparable(dir: &Path) -> BTreeMap<String, Value> {
    let mut r = results(dir);
    for v in r.values_mut() {
        v.as_object_mut().unwrap().remove("adopted_from");
    }
    r
}

#[test]
fn a_new_step_budget_keeps_the_runs_that_finished_within_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |text: &str, dir: &Path| {
        let sweep = write_sweep(tmp.path(), text);
        let o = sgd(&[
            "sweep",
            "run",
            &sweep,
            "--results",
            dir.to_str().unwrap(),
            "--jobs",
            "2",
            "--quiet",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let long = SWEEP.replace("batch = 16", "batch = 16\nmax_steps = 1000000");
    let dir = tmp.path().join("results");
    run(&long, &dir);
    let first = comparable(&dir);
    assert_eq!(first.len(), 24);
    let mut steps: Vec<u64> = first
        .values()
        .map(|v| v["counters"]["steps_simulated"].as_u64().unwrap())
        .collect();
    steps.sort();
    let budget = steps[12];
    let within = steps.iter().filter(|&&s| s <= budget).count();
    assert!(within < 24, "some runs must need more than the new budget");

    // A smaller budget: the runs that finished within it are kept, the others run again.
    let short = long.replace("max_steps = 1000000", &format!("max_steps = {budget}"));
    let said = run(&short, &dir);
    assert!(
        said.contains(&format!(
            "kept {within} run(s) that finished within the new one"
        )),
        "{said}"
    );
    assert!(said.contains(&format!("{} to run", 24 - within)), "{said}");
    let fresh = tmp.path().join("fresh");
    run(&short, &fresh);
    let fresh = comparable(&fresh);
    let now = comparable(&dir);
    for (name, v) in &fresh {
        assert_eq!(now.get(name), Some(v), "{name} differs from a fresh run");
    }
    // Runs that needed more steps are run again: most end on the budget now (one whose final
    // evaluation finds zero loss still converges, at the budget).
    let budget_ended = fresh.values().filter(|v| v["status"] == "budget").count();
    assert!((1..=24 - within).contains(&budget_ended), "{budget_ended}");
    // The long-budget results that could not be kept stay in the directory (nothing lost).
    assert_eq!(now.len(), 24 + (24 - within));
    let adopted = results(&dir)
        .values()
        .filter(|v| v.get("adopted_from").is_some())
        .count();
    assert_eq!(adopted, within);

    // Back to the long budget: every run is found again, identical to the first time; one that
    // finished exactly at the short budget is run again (that budget might have stopped it).
    let at_budget = steps.iter().filter(|&&s| s == budget).count();
    let said = run(&long, &dir);
    assert!(said.contains(&format!("{at_budget} to run")), "{said}");
    let back = comparable(&dir);
    for (name, v) in &first {
        assert_eq!(back.get(name), Some(v), "{name} changed");
    }

    // From the short budget to the long one: only runs that ended before the short budget
    // could fire are kept (not one stopped by it, even if its last evaluation found zero loss).
    let short_dir = tmp.path().join("fresh");
    let ended_early = comparable(&short_dir)
        .values()
        .filter(|v| {
            v["status"] != "budget" && v["counters"]["steps_simulated"].as_u64().unwrap() < budget
        })
        .count();
    let said = run(&long, &short_dir);
    assert!(
        said.contains(&format!("kept {ended_early} run(s)")),
        "{said}"
    );
    let longer = comparable(&short_dir);
    for (name, v) in &first {
        assert_eq!(
            longer.get(name),
            Some(v),
            "{name} differs from the first long run"
        );
    }

    // Any other change is still refused.
    let sweep = write_sweep(tmp.path(), &long.replace("width = 32", "width = 16"));
    let err = fails(&["sweep", "run", &sweep, "--results", dir.to_str().unwrap()]);
    assert!(err.contains("different sweep file"), "{err}");
}

/// A sweep of 16 quick runs: each run is one seed.
const SIXTEEN: &str = r#"
[base]
model = "fc"
depth = 2
width = 16
alpha = 1
p = 128
p_test = 128
temperature = 0.01

[grid]
seed_init = { linear = [0, 15] }
"#;

fn ran(stdout: &[u8]) -> usize {
    let out = String::from_utf8_lossy(stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("ran "))
        .unwrap_or_else(|| panic!("{out}"));
    line[4..line.find(':').unwrap()].parse().unwrap()
}

/// `sweep run` in the background with `jobs` workers, its output piped.
fn spawn_sweep(sweep: &str, dir: &Path, jobs: usize) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args([
            "sweep",
            "run",
            sweep,
            "--results",
            dir.to_str().unwrap(),
            "--jobs",
            &jobs.to_string(),
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn two_sweeps_on_one_directory_run_each_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = write_sweep(tmp.path(), SIXTEEN);
    let dir = tmp.path().join("r");
    // Three processes started together, as a resubmitted array or a second terminal would.
    let children: Vec<_> = (0..3).map(|_| spawn_sweep(&sweep, &dir, 1)).collect();
    let mut total = 0;
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        total += ran(&o.stdout);
    }
    assert_eq!(
        total, 16,
        "every run executed exactly once across the processes"
    );
    assert_eq!(results(&dir).len(), 16);
    let s = ok(&["status", dir.to_str().unwrap()]);
    assert!(s.contains("missing 0") && !s.contains("leftover"), "{s}");
}

#[test]
fn a_killed_owner_frees_its_runs_and_corrupt_results_are_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = write_sweep(tmp.path(), SIXTEEN);
    let dir = tmp.path().join("r");
    // kill -9 while a run is claimed: its claim file stays, unlocked.
    let mut child = spawn_sweep(&sweep, &dir, 1);
    let claims = |dir: &Path| {
        std::fs::read_dir(dir.join("runs")).map_or(0, |d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".claim"))
                .count()
        })
    };
    while claims(&dir) == 0 || done(&dir) < 2 {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = done(&dir);
    let d = dir.to_str().unwrap();
    if claims(&dir) > 0 {
        let s = ok(&["status", d]);
        assert!(s.contains("leftover file(s) of killed processes"), "{s}");
    }
    // `--jobs` far above the number of runs starts no more workers than runs.
    let o = sgd(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        d,
        "--quiet",
        "--jobs",
        "100000",
    ]);
    assert!(o.status.success());
    assert_eq!(ran(&o.stdout), 16 - before);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{} to run on {} worker(s)",
            16 - before,
            16 - before
        )),
        "{err}"
    );
    assert_eq!(claims(&dir), 0, "the dead owner's claim is cleaned up");

    // A truncated result, an empty one, and one copied under another run's id.
    let mut ids: Vec<String> = results(&dir).into_keys().collect();
    ids.sort();
    let runs = dir.join("runs");
    let full = std::fs::read(runs.join(&ids[0])).unwrap();
    std::fs::write(runs.join(&ids[0]), &full[..full.len() / 2]).unwrap();
    std::fs::write(runs.join(&ids[1]), b"").unwrap();
    std::fs::copy(runs.join(&ids[3]), runs.join(&ids[2])).unwrap();
    let table = tmp.path().join("t.csv");
    for args in [
        vec!["status", d],
        vec!["collect", d, "--out", table.to_str().unwrap()],
    ] {
        let e = fails(&args.iter().map(|s| &**s).collect::<Vec<_>>());
        assert!(e.contains("sets it aside and runs"), "{e}");
    }
    let o = sgd(&["sweep", "run", &sweep, "--results", d, "--quiet"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(ran(&o.stdout), 3, "{err}");
    assert_eq!(err.matches("set aside as").count(), 3, "{err}");
    assert!(
        err.contains("not a valid run result") && err.contains("holds run"),
        "{err}"
    );
    for id in &ids[..3] {
        assert!(runs.join(format!("{id}.corrupt")).is_file());
    }
    assert!(!table.exists(), "a refused collect writes nothing");
    ok(&["collect", d, "--out", table.to_str().unwrap()]);
    let text = std::fs::read_to_string(&table).unwrap();
    assert_eq!(text.lines().count(), 17, "16 distinct runs and a header");
    assert!(ok(&["sweep", "run", &sweep, "--results", d, "--quiet"]).contains("ran 0:"));
}

#[test]
fn a_sweep_file_that_cannot_be_written_leaves_nothing_and_a_retry_works() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = write_sweep(tmp.path(), SIXTEEN);
    let dir = tmp.path().join("r");
    let d = dir.to_str().unwrap();
    // A file-size limit of 0 makes every non-empty write fail (EFBIG), as a full disk would;
    // SIGXFSZ is ignored so the write returns the error instead of killing the process.
    let bin = env!("CARGO_BIN_EXE_sgd-regimes");
    let o = Command::new("sh")
        .args([
            "-c",
            &format!("trap '' XFSZ; ulimit -f 0; exec '{bin}' sweep run '{sweep}' --results '{d}'"),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.starts_with("error: ") && err.contains("sweep.toml"),
        "{err}"
    );
    assert!(!dir.exists(), "the new results directory is taken back");
    let out = ok(&["sweep", "run", &sweep, "--results", d, "--quiet"]);
    assert!(out.contains("ran 16:"), "{out}");
}

/// Each result file's inode at first sight: a run done twice would replace its file.
fn watch_results(dir: &Path, seen: &mut BTreeMap<String, u64>) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir.join("runs")) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        if let Ok(m) = e.metadata() {
            let ino = *seen.entry(name.clone()).or_insert(m.ino());
            assert_eq!(ino, m.ino(), "{name} was written twice");
        }
    }
}

#[test]
fn concurrent_sweeps_under_kill_9_lose_nothing_and_repeat_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let text = SIXTEEN.replace("[0, 15]", "[0, 31]");
    let sweep = write_sweep(tmp.path(), &text);
    let reference = tmp.path().join("reference");
    ok(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        reference.to_str().unwrap(),
        "--quiet",
    ]);
    let dir = tmp.path().join("r");
    let mut seen = BTreeMap::new();
    let mut live: Vec<std::process::Child> = (0..3).map(|_| spawn_sweep(&sweep, &dir, 1)).collect();
    let mut kills = 0;
    // Kill the oldest process with SIGKILL whenever a new result appears, and start another.
    while kills < 12 && done(&dir) < 28 {
        let before = done(&dir);
        while done(&dir) == before && live.iter_mut().all(|c| c.try_wait().unwrap().is_none()) {
            watch_results(&dir, &mut seen);
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut oldest = live.remove(0);
        let _ = oldest.kill();
        oldest.wait().unwrap();
        kills += 1;
        live.push(spawn_sweep(&sweep, &dir, 1));
    }
    for c in live {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    watch_results(&dir, &mut seen);
    ok(&[
        "sweep",
        "run",
        &sweep,
        "--results",
        dir.to_str().unwrap(),
        "--quiet",
    ]);
    watch_results(&dir, &mut seen);
    eprintln!(
        "{kills} processes killed with SIGKILL, {} results",
        seen.len()
    );
    assert!(kills >= 3, "only {kills} kills");
    // Every run is there, once, and is the run a single uninterrupted sweep gives.
    assert_eq!(results(&dir), results(&reference));
    let s = ok(&["status", dir.to_str().unwrap()]);
    assert!(
        s.contains("missing 0") && !s.contains("being run now"),
        "{s}"
    );
}

/// Issue #23, case 2: two different sweeps started together on a new results directory. Each
/// time exactly one is accepted, the other is refused as a different sweep, and the directory
/// holds the winner's sweep file. Shard 1/2 of one-run sweeps: no run trains, only the start
/// races. 50 tries.
#[test]
fn of_two_different_sweeps_racing_for_a_new_directory_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let base = "[base]\nmodel = \"fc\"\ndepth = 2\nwidth = 8\nalpha = 1\np = 32\np_test = 32\n";
    let texts = [
        format!("{base}[grid]\ntemperature = [0.01]\n"),
        format!("{base}[grid]\ntemperature = [0.02]\n"),
    ];
    let files: Vec<String> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let f = tmp.path().join(format!("s{i}.toml"));
            std::fs::write(&f, t).unwrap();
            f.to_str().unwrap().to_string()
        })
        .collect();
    for attempt in 0..50 {
        let dir = tmp.path().join(format!("r{attempt}"));
        let children: Vec<_> = files
            .iter()
            .map(|f| {
                Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
                    .args(["sweep", "run", f, "--results", dir.to_str().unwrap()])
                    .args(["--shard", "1/2", "--quiet"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outcomes: Vec<(bool, String)> = children
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                (
                    o.status.success(),
                    String::from_utf8_lossy(&o.stderr).into_owned(),
                )
            })
            .collect();
        let winners: Vec<usize> = (0..2).filter(|&i| outcomes[i].0).collect();
        assert_eq!(winners.len(), 1, "attempt {attempt}: {outcomes:?}");
        let loser = &outcomes[1 - winners[0]].1;
        assert!(
            loser.contains("was made by a different sweep file"),
            "{loser}"
        );
        let stored = std::fs::read_to_string(dir.join("sweep.toml")).unwrap();
        assert_eq!(stored, texts[winners[0]], "attempt {attempt}");
        assert!(
            dir.join("runs").is_dir(),
            "the loser left the winner's runs/ alone"
        );
    }
}
