//! Sweep throughput: the same sweep of short `fc` runs with 1 and with 2 worker threads.

use crate::error::{Error, Result};
use crate::sweep::{RunStore, SweepSpec, execute, pending};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// 40 short runs: fc L=5 h=64 on 512 bundled digits, 10 temperatures x 4 seeds.
pub const SWEEP: &str = r#"[base]
model = "fc"
dataset = "mnist-parity"
p = 512
p_test = 512
alpha = 32768
batch = 16

[grid]
temperature = { log2 = [-12, -3], step = 1 }
seed = [0, 1, 2, 3]
"#;

/// Wall time of a sweep with `jobs` workers, into a fresh directory under `root`.
fn time_sweep(
    spec: &SweepSpec,
    root: &std::path::Path,
    jobs: usize,
) -> Result<(f64, std::path::PathBuf)> {
    let runs = spec.runs()?;
    let dir = root.join(format!("jobs-{jobs}"));
    let store = RunStore::create_or_open(&dir, spec)?;
    let todo = pending(&store, &runs, None, false);
    let start = Instant::now();
    let outcome = execute(&store, &todo, jobs, &AtomicBool::new(false), |_| {})?;
    let seconds = start.elapsed().as_secs_f64();
    if outcome.failed() > 0 {
        return Err(Error::config(format!(
            "{} benchmark runs failed",
            outcome.failed()
        )));
    }
    Ok((seconds, dir))
}

/// Seconds with 1 job and with 2 jobs, after checking both give the same results.
pub fn sweep_throughput() -> Result<(usize, f64, f64)> {
    let spec = SweepSpec::parse(SWEEP, "bench sweep")?;
    let root = std::env::temp_dir().join(format!("sgd-regimes-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    // Load the digits once so neither timing pays for it.
    crate::data::load(&spec.runs()?[0].config.validated()?)?;
    let result = (|| {
        let (one, dir1) = time_sweep(&spec, &root, 1)?;
        let (two, dir2) = time_sweep(&spec, &root, 2)?;
        let runs = spec.runs()?;
        let (s1, s2) = (RunStore::open(&dir1)?.0, RunStore::open(&dir2)?.0);
        for r in &runs {
            let strip = |s: crate::sweep::Stored| match s {
                crate::sweep::Stored::Done(mut res) => {
                    res.timing = Default::default();
                    Some(res)
                }
                _ => None,
            };
            if strip(s1.load(&r.id)?) != strip(s2.load(&r.id)?) {
                return Err(Error::config(format!(
                    "run {} differs between 1 and 2 jobs",
                    r.id
                )));
            }
        }
        Ok((runs.len(), one, two))
    })();
    let _ = std::fs::remove_dir_all(&root);
    result
}
