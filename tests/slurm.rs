//! `sgd-regimes slurm` without a cluster: the script, its sizing by missing runs, and its tasks
//! run by hand. (The test against a real slurmctld is a separate CI step.)

use std::path::Path;
use std::process::{Command, Output};

fn sgd(args: &[&str], path: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sgd-regimes"));
    c.args(args);
    if let Some(p) = path {
        c.env("PATH", p);
    }
    c.output().expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = sgd(args, None);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What one array task runs: `sweep run` on shard `index/count` of a runs file.
fn run_task(sweep: &Path, results: &str, runs_file: &Path, index: usize, count: usize) -> String {
    ok(&[
        "sweep",
        "run",
        sweep.to_str().unwrap(),
        "--results",
        results,
        "--runs-file",
        runs_file.to_str().unwrap(),
        "--shard",
        &format!("{index}/{count}"),
        "--quiet",
    ])
}

const SWEEP: &str = "[base]\nmodel = \"perceptron\"\ndataset = \"depleted-sign\"\ndim = 16\np_test = 64\nalpha = 100\nbatch = 4\n[grid]\ntemperature = { log2 = [-8, -3], step = 1 }\np = [64, 128]\n";

#[test]
fn arrays_are_sized_by_missing_runs_and_their_tasks_finish_the_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let dir = tmp.path().join("r");
    let (f, d) = (file.to_str().unwrap(), dir.to_str().unwrap());

    let out = ok(&[
        "slurm",
        f,
        "--results",
        d,
        "--tasks",
        "3",
        "--cpus-per-task",
        "2",
        "--time",
        "00:10:00",
    ]);
    assert!(
        out.contains("12 of 12 runs missing: 3 array task(s) of 2 CPU(s)"),
        "{out}"
    );
    let script = std::fs::read_to_string(dir.join("slurm/batch-1.sbatch")).unwrap();
    assert!(
        script.contains("#SBATCH --array=0-2")
            && script.contains("#SBATCH --requeue")
            && script.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""),
        "{script}"
    );
    let runs_file = dir.join("slurm/batch-1.runs");
    assert_eq!(
        std::fs::read_to_string(&runs_file).unwrap().lines().count(),
        12
    );

    // Tasks 0 and 1 run; task 2 is "preempted" before it starts.
    let sweep_copy = dir.join("sweep.toml");
    for i in 0..2 {
        run_task(&sweep_copy, d, &runs_file, i, 3);
    }
    let status = ok(&["status", d]);
    assert!(
        status.contains("converged 8") && status.contains("missing 4"),
        "{status}"
    );

    // Resubmitting covers exactly the 4 missing runs, with no empty task.
    let out = ok(&["slurm", f, "--results", d, "--tasks", "8"]);
    assert!(
        out.contains("4 of 12 runs missing: 4 array task(s)"),
        "{out}"
    );
    let runs_file = dir.join("slurm/batch-2.runs");
    for i in 0..4 {
        let o = run_task(&sweep_copy, d, &runs_file, i, 4);
        assert!(o.contains("ran 1:"), "task {i} has exactly one run: {o}");
    }
    assert!(ok(&["status", d]).contains("converged 12"));
    assert!(ok(&["slurm", f, "--results", d]).contains("nothing to submit"));
}

#[test]
fn clear_errors_without_sbatch_and_for_foreign_runs_files() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let dir = tmp.path().join("r");
    let (f, d) = (file.to_str().unwrap(), dir.to_str().unwrap());
    let empty_path = tmp.path().join("no-bin");
    std::fs::create_dir(&empty_path).unwrap();
    let o = sgd(&["slurm", f, "--results", d, "--submit"], Some(&empty_path));
    let err = String::from_utf8_lossy(&o.stderr);
    let last = err.trim_end().lines().last().unwrap_or("");
    assert!(
        !o.status.success()
            && last.starts_with("error: cannot run sbatch")
            && !err.contains("panicked"),
        "{err}"
    );

    let bogus = tmp.path().join("bogus.runs");
    std::fs::write(&bogus, "0123456789abcdef\n").unwrap();
    let o = sgd(
        &[
            "sweep",
            "run",
            f,
            "--results",
            d,
            "--runs-file",
            bogus.to_str().unwrap(),
        ],
        None,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("not a run of this sweep"),
        "{err}"
    );
}
