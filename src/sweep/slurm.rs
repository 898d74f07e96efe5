//! Running a sweep as a Slurm job array (one array task per shard of the missing runs). The
//! script is written into `DIR/slurm/`; each task runs `sgd-regimes sweep run` on the sweep file
//! kept in the results directory, restricted to a runs file that lists the runs missing at
//! submission, so the array is sized by what remains and no task is empty. Tasks write through
//! the same atomic store, and stop cleanly on Slurm's SIGTERM before a preemption or time-out.

use super::runs_file;
use super::spec::PlannedRun;
use super::store::{RunStore, SWEEP_FILE};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Resources and options of the array.
#[derive(Clone, Debug)]
pub struct ArrayOptions {
    /// Upper bound on the number of array tasks.
    pub tasks: usize,
    pub cpus_per_task: usize,
    /// Runs at once in each task (`--jobs`): `cpus_per_task` over an external trainer's
    /// `threads_per_run`.
    pub jobs_per_task: usize,
    /// `HH:MM:SS` (or any `--time` Slurm accepts).
    pub time: Option<String>,
    pub partition: Option<String>,
    pub mem: Option<String>,
    /// Extra `#SBATCH ...` lines, verbatim.
    pub extra: Vec<String>,
    pub requeue: bool,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct Batch {
    pub script: PathBuf,
    pub runs_file: PathBuf,
    pub tasks: usize,
    pub runs: usize,
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// The sbatch script text.
pub fn script(
    binary: &Path,
    dir: &Path,
    runs_file: &Path,
    tasks: usize,
    opts: &ArrayOptions,
    name: &str,
) -> String {
    let log_dir = dir.join("slurm");
    let mut s = String::from("#!/bin/bash\n");
    s += &format!(
        "#SBATCH --job-name={name}\n#SBATCH --array=0-{}\n",
        tasks - 1
    );
    s += &format!(
        "#SBATCH --cpus-per-task={}\n#SBATCH --ntasks=1\n",
        opts.cpus_per_task
    );
    if let Some(t) = &opts.time {
        s += &format!("#SBATCH --time={t}\n");
    }
    if let Some(p) = &opts.partition {
        s += &format!("#SBATCH --partition={p}\n");
    }
    if let Some(m) = &opts.mem {
        s += &format!("#SBATCH --mem={m}\n");
    }
    if opts.requeue {
        s += "#SBATCH --requeue\n";
    }
    s += &format!("#SBATCH --output={}/%x-%A_%a.out\n", log_dir.display());
    for line in &opts.extra {
        s += line.trim();
        s += "\n";
    }
    s += &format!(
        "\n# Each task runs its shard of the runs missing at submission; finished runs are skipped,\n\
         # so a requeued or resubmitted task only does what is left. SIGTERM: no new run starts.\n\
         exec {} sweep run {} --results {} --runs-file {} --shard \"$SLURM_ARRAY_TASK_ID/{tasks}\" --jobs {} --quiet\n",
        quote(binary),
        quote(&dir.join(SWEEP_FILE)),
        quote(dir),
        quote(runs_file),
        opts.jobs_per_task
    );
    s
}

/// Paths under these are usually local to each node of a cluster.
pub fn node_local(dir: &Path) -> bool {
    ["/tmp", "/dev/shm", "/var/tmp"]
        .iter()
        .any(|p| dir.starts_with(p))
}

/// Write the runs file and the script for the missing runs `todo`; `None` when nothing is missing.
pub fn prepare(
    store: &RunStore,
    todo: &[&PlannedRun],
    opts: &ArrayOptions,
    binary: &Path,
) -> Result<Option<Batch>> {
    if todo.is_empty() {
        return Ok(None);
    }
    if opts.tasks == 0 || opts.cpus_per_task == 0 {
        return Err(Error::config(
            "--tasks and --cpus-per-task must be at least 1",
        ));
    }
    let dir = std::fs::canonicalize(&store.dir).map_err(|e| Error::io(&store.dir, e))?;
    let slurm_dir = dir.join("slurm");
    std::fs::create_dir_all(&slurm_dir).map_err(|e| Error::io(&slurm_dir, e))?;
    let k = (1..)
        .find(|k| !slurm_dir.join(format!("batch-{k}.sbatch")).exists())
        .unwrap_or(1);
    let runs_path = slurm_dir.join(format!("batch-{k}.runs"));
    runs_file::write(&runs_path, todo)?;
    let tasks = opts.tasks.min(todo.len());
    let name = format!(
        "sgd-regimes-{}",
        dir.file_name()
            .map_or("sweep".into(), |n| n.to_string_lossy().into_owned())
    );
    let script_path = slurm_dir.join(format!("batch-{k}.sbatch"));
    crate::io::write_atomic(
        &script_path,
        script(binary, &dir, &runs_path, tasks, opts, &name).as_bytes(),
    )?;
    Ok(Some(Batch {
        script: script_path,
        runs_file: runs_path,
        tasks,
        runs: todo.len(),
    }))
}

/// Submit `script` with `sbatch --parsable`; returns the job id and records it in
/// `DIR/slurm/jobs.txt` (for `status`).
pub fn submit(dir: &Path, script: &Path) -> Result<String> {
    let out = std::process::Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| {
            Error::External(format!(
                "cannot run sbatch ({e}); run this on a Slurm submit host, or submit {} yourself",
                script.display()
            ))
        })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr)
            .trim()
            .replace('\n', " ");
        return Err(Error::External(format!(
            "sbatch refused {}: {err}",
            script.display()
        )));
    }
    let id = String::from_utf8_lossy(&out.stdout)
        .trim()
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let jobs = dir.join("slurm").join("jobs.txt");
    let mut text = std::fs::read_to_string(&jobs).unwrap_or_default();
    text += &format!("{id}\n");
    crate::io::write_atomic(&jobs, text.as_bytes())?;
    Ok(id)
}

/// `squeue` lines for the jobs submitted from `dir`, if squeue is available and any are known.
pub fn queue(dir: &Path) -> Option<Vec<String>> {
    let jobs = std::fs::read_to_string(dir.join("slurm").join("jobs.txt")).ok()?;
    let ids: Vec<&str> = jobs
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if ids.is_empty() {
        return None;
    }
    let out = std::process::Command::new("squeue")
        .args(["-h", "-o", "%i %T %M %R", "-j", &ids.join(",")])
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    })
}

/// Check a Slurm time limit (`--time`) in one of the forms `sbatch` takes: `M`, `M:S`,
/// `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`; minutes and seconds after the first field
/// are below 60, hours after a day count below 24.
pub fn check_time(s: &str) -> std::result::Result<String, String> {
    let bad = |why: &str| {
        format!(
            "invalid Slurm time `{s}`: {why}; use HH:MM:SS (e.g. 04:00:00), D-HH:MM:SS or minutes"
        )
    };
    if matches!(s, "UNLIMITED" | "INFINITE" | "unlimited" | "infinite") {
        return Ok(s.to_string());
    }
    let (days, rest) = match s.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, s),
    };
    let number = |f: &str| -> std::result::Result<u64, String> {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) || f.len() > 9 {
            return Err(bad(&format!("`{f}` is not a number")));
        }
        f.parse()
            .map_err(|_| bad(&format!("`{f}` is not a number")))
    };
    if let Some(d) = days {
        number(d)?;
    }
    let fields = rest
        .split(':')
        .map(number)
        .collect::<std::result::Result<Vec<u64>, String>>()?;
    // Which fields are minutes/seconds (< 60) and hours (< 24 after a day count).
    let limits: &[u64] = match (days.is_some(), fields.len()) {
        (false, 1) => &[u64::MAX],
        (false, 2) => &[u64::MAX, 60],
        (false, 3) => &[u64::MAX, 60, 60],
        (true, 1) => &[24],
        (true, 2) => &[24, 60],
        (true, 3) => &[24, 60, 60],
        _ => return Err(bad("too many fields")),
    };
    if let Some((v, lim)) = fields.iter().zip(limits).find(|(v, lim)| v >= lim) {
        return Err(bad(&format!("{v} is out of range (below {lim})")));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_times_in_range_only() {
        for ok in [
            "04:00:00",
            "90",
            "30:00",
            "48:00:00",
            "1-12",
            "2-00:30",
            "1-23:59:59",
            "UNLIMITED",
        ] {
            assert_eq!(check_time(ok).unwrap(), ok);
        }
        for bad in [
            "99:99:99",
            "1:60:00",
            "0:0:60",
            "1-24",
            "1-2:3:4:5",
            "abc",
            "",
            "-1",
            "1:-5",
            "12:",
        ] {
            let e = check_time(bad).unwrap_err();
            assert!(e.starts_with(&format!("invalid Slurm time `{bad}`")), "{e}");
        }
    }

    #[test]
    fn script_has_the_array_resources_and_the_command() {
        let opts = ArrayOptions {
            tasks: 4,
            cpus_per_task: 2,
            jobs_per_task: 2,
            time: Some("01:00:00".into()),
            partition: Some("short".into()),
            mem: Some("4G".into()),
            extra: vec!["#SBATCH --account=lab".into()],
            requeue: true,
        };
        let s = script(
            Path::new("/opt/bin/sgd-regimes"),
            Path::new("/data/r"),
            Path::new("/data/r/slurm/batch-1.runs"),
            3,
            &opts,
            "job",
        );
        for line in [
            "#SBATCH --array=0-2",
            "#SBATCH --cpus-per-task=2",
            "#SBATCH --time=01:00:00",
            "#SBATCH --partition=short",
            "#SBATCH --mem=4G",
            "#SBATCH --requeue",
            "#SBATCH --account=lab",
            "#SBATCH --output=/data/r/slurm/%x-%A_%a.out",
            "exec '/opt/bin/sgd-regimes' sweep run '/data/r/sweep.toml' --results '/data/r' --runs-file '/data/r/slurm/batch-1.runs' --shard \"$SLURM_ARRAY_TASK_ID/3\" --jobs 2 --quiet",
        ] {
            assert!(s.contains(line), "missing `{line}` in\n{s}");
        }
        assert!(node_local(Path::new("/tmp/x")) && !node_local(Path::new("/home/x")));
    }
}
