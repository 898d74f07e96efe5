//! The external-trainer protocol's own cost per run (docs/external-trainer.md): a sweep of runs
//! whose trainer only writes its result, against the bare cost of starting that same process
//! the same number of times. What is left is the protocol: the config file, the claim, the
//! scratch directory, the process group, the log, reading and checking the result and storing
//! it; with `provide_data`, also writing the run's points.

use crate::error::{Error, Result};
use crate::sweep::{RunStore, SweepSpec, execute, pending};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// A trainer that writes a valid `budget` result and nothing else.
const STUB: &str = r#"printf '{"schema": "sgd-regimes/external-result/1", "run_id": "%s", "status": "budget", "final": {"t": 0, "step": 0, "train_loss": 1, "train_error": 0.5, "unfitted": 1, "test_error": 0.5, "weight_change": 0}}' "$SGD_REGIMES_RUN_ID" > "$2"
"#;

/// One measurement: seconds per run.
#[derive(Clone, Debug)]
pub struct Overhead {
    pub case: String,
    pub runs: usize,
    /// Starting the stub directly (`sh stub.sh CONFIG RESULT`) and waiting for it.
    pub bare_s: f64,
    /// The same stub as a sweep's trainer, one run at a time.
    pub protocol_s: f64,
}

fn sweep_text(runs: usize, data: Option<(usize, usize)>) -> String {
    let (provide, p, p_test) = match data {
        Some((p, p_test)) => ("true", p, p_test),
        None => ("false", 64, 64),
    };
    format!(
        "[trainer]\ncommand = [\"sh\", \"stub.sh\"]\nfiles = [\"stub.sh\"]\nprovide_data = {provide}\n\
         [base]\nmodel = \"fc\"\np = {p}\np_test = {p_test}\nlr = 0.1\n\
         [grid]\nseed = {{ linear = [0, {}] }}\n",
        runs - 1
    )
}

/// Seconds per run of the sweep in `root/name`, one job.
fn per_run(root: &Path, name: &str, text: &str) -> Result<f64> {
    let file = root.join(format!("{name}.toml"));
    std::fs::write(&file, text).map_err(|e| Error::io(&file, e))?;
    let spec = SweepSpec::load(&file)?;
    let runs = spec.runs()?;
    let store = RunStore::create_or_open(&root.join(name), &spec)?;
    let todo = pending(&store, &runs, None, false);
    let start = Instant::now();
    let outcome = execute(&store, &todo, 1, &AtomicBool::new(false), |_| {})?;
    let seconds = start.elapsed().as_secs_f64();
    if outcome.failed() > 0 || outcome.finished() != runs.len() {
        return Err(Error::config(format!(
            "{} of {} benchmark runs of the stub trainer failed; see {}",
            outcome.failed(),
            runs.len(),
            root.join(name).display()
        )));
    }
    Ok(seconds / runs.len() as f64)
}

/// Seconds per bare start of the stub, `runs` times.
fn bare(root: &Path, runs: usize) -> Result<f64> {
    let out = root.join("bare-result.json");
    let start = Instant::now();
    for _ in 0..runs {
        let status = std::process::Command::new("sh")
            .arg("stub.sh")
            .arg("config.json")
            .arg(&out)
            .current_dir(root)
            .env("SGD_REGIMES_RUN_ID", "0000000000000000")
            .status()
            .map_err(|e| Error::External(format!("cannot start sh ({e})")))?;
        if !status.success() {
            return Err(Error::External(format!(
                "the stub trainer failed ({status})"
            )));
        }
    }
    Ok(start.elapsed().as_secs_f64() / runs as f64)
}

/// The protocol's overhead per run, without and with the data written for the trainer.
pub fn external_overhead(runs: usize) -> Result<Vec<Overhead>> {
    let root = tempfile::Builder::new()
        .prefix("sgd-regimes-bench-external-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let dir = root.path();
    let stub = dir.join("stub.sh");
    std::fs::write(&stub, STUB).map_err(|e| Error::io(&stub, e))?;
    // The bundled digits loaded once, so no timing pays for decompressing them.
    let warm = SweepSpec::parse(&sweep_text(1, Some((1024, 2048))), "warm-up")?;
    crate::data::load(&warm.runs()?[0].config.validated()?)?;
    let bare_s = bare(dir, runs)?;
    let mut rows = vec![Overhead {
        case: "result only (provide_data = false)".into(),
        runs,
        bare_s,
        protocol_s: per_run(dir, "plain", &sweep_text(runs, None))?,
    }];
    for (p, p_test) in [(1024, 2048), (4096, 4096)] {
        rows.push(Overhead {
            case: format!("with the data written, P = {p}, p_test = {p_test} (MNIST)"),
            runs,
            bare_s,
            protocol_s: per_run(
                dir,
                &format!("data-{p}"),
                &sweep_text(runs, Some((p, p_test))),
            )?,
        });
    }
    Ok(rows)
}
