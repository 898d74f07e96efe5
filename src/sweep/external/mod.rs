//! Running one run with an external trainer (docs/external-trainer.md): the runner writes the
//! run's config (and its data) to a scratch directory, starts the trainer's command in a
//! process group of its own with the paths in its environment and arguments, copies its
//! output to `runs/<id>.log`, stops it at `max_wall` or when the sweep is stopped (SIGTERM,
//! then SIGKILL after a grace period), and reads back its result.

pub mod data;
pub mod result;

use crate::config::RunConfig;
use crate::config::trainer::{ExternalTrainer, PROTOCOL};
use crate::train::result::{RunResult, Timing};
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How an external run ended, for the runner.
#[derive(Debug)]
pub enum Ended {
    /// A valid result: stored under the run's id.
    Result(Box<RunResult>),
    /// A one-line reason: stored as the run's failure record.
    Failed(String),
    /// The sweep was stopped while the run went on: nothing is stored, the run is done again
    /// by the next `sweep run`.
    Interrupted,
}

/// The JSON object the trainer reads at `SGD_REGIMES_CONFIG`.
#[derive(serde::Serialize)]
struct ConfigFile<'a> {
    schema: &'static str,
    protocol: &'static str,
    run_id: &'a str,
    /// The normalized run config, as in the result file (its `trainer.params` included).
    config: &'a RunConfig,
    /// `T`, `eta = T B` and the margin `1/alpha`, worked out.
    derived: Derived,
    /// The `.npz` with the run's points, when the runner writes them.
    data: Option<String>,
    result: String,
    threads: usize,
}

#[derive(serde::Serialize)]
struct Derived {
    temperature: f64,
    lr: f64,
    margin: f64,
}

/// Lines of the trainer's stderr quoted in a failure record.
const TAIL_LINES: usize = 3;

/// Run `cfg` (whose `trainer` is set) as run `run_id`, its output going to `log`. Raising
/// `stop` ends the trainer and leaves the run undone.
pub fn run(cfg: &RunConfig, run_id: &str, log: &Path, stop: &AtomicBool) -> Ended {
    let ended = match run_inner(cfg, run_id, log, stop) {
        Ok(ended) => ended,
        Err(message) => Ended::Failed(message),
    };
    // A trainer that printed nothing leaves no log behind.
    if std::fs::metadata(log).is_ok_and(|m| m.len() == 0) {
        let _ = std::fs::remove_file(log);
    }
    ended
}

fn run_inner(
    cfg: &RunConfig,
    run_id: &str,
    log: &Path,
    stop: &AtomicBool,
) -> Result<Ended, String> {
    let start = Instant::now();
    let Some(trainer) = &cfg.trainer else {
        return Err("no [trainer] table".into());
    };
    let Some(dir) = &trainer.dir else {
        return Err(
            "the trainer's directory is unknown; run the sweep file with `sgd-regimes sweep run FILE`".into(),
        );
    };
    let scratch = tempfile::Builder::new()
        .prefix(&format!("sgd-regimes-{run_id}-"))
        .tempdir()
        .map_err(|e| format!("cannot make a scratch directory ({e})"))?;
    let config_path = scratch.path().join("config.json");
    let result_path = scratch.path().join("result.json");
    let data_path = scratch.path().join("data.npz");

    // The points, exactly as the built-in trainer would see them.
    let mut data = None;
    if trainer.provide_data {
        let valid = cfg.validated().map_err(|e| e.to_string())?;
        let split = crate::data::load(&valid).map_err(|e| e.to_string())?;
        data::write_npz(&split, &data_path).map_err(|e| {
            format!(
                "cannot write the run's data to {} ({e})",
                data_path.display()
            )
        })?;
        data = Some((split.train.shape, split.source, split.files));
    }
    let data_s = start.elapsed().as_secs_f64();

    let file = ConfigFile {
        schema: "sgd-regimes/external-config/1",
        protocol: PROTOCOL,
        run_id,
        config: cfg,
        derived: Derived {
            temperature: cfg.temperature_value(),
            lr: cfg.learning_rate(),
            margin: cfg.margin(),
        },
        data: data.as_ref().map(|_| data_path.display().to_string()),
        result: result_path.display().to_string(),
        threads: trainer.threads_per_run,
    };
    let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&config_path, json)
        .map_err(|e| format!("cannot write {} ({e})", config_path.display()))?;

    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open the log {} ({e})", log.display()))?;
    let stdout = log_file
        .try_clone()
        .map_err(|e| format!("cannot open the log {} ({e})", log.display()))?;
    let threads = trainer.threads_per_run.to_string();
    let mut command = Command::new(&trainer.command[0]);
    command
        .args(&trainer.command[1..])
        .arg(&config_path)
        .arg(&result_path)
        .current_dir(dir)
        .env("SGD_REGIMES_PROTOCOL", PROTOCOL)
        .env("SGD_REGIMES_CONFIG", &config_path)
        .env("SGD_REGIMES_RESULT", &result_path)
        .env("SGD_REGIMES_RUN_ID", run_id)
        .env("SGD_REGIMES_THREADS", &threads)
        // NumPy's, PyTorch's and JAX's CPU thread pools: as many threads as the run was given.
        .env("OMP_NUM_THREADS", &threads)
        .env("MKL_NUM_THREADS", &threads)
        .env("OPENBLAS_NUM_THREADS", &threads)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        // Its own group: a terminal's Ctrl-C reaches the sweep, which stops the trainer, and
        // a stop reaches every process the trainer started.
        .process_group(0);
    if let Some(path) = data.as_ref().map(|_| &data_path) {
        command.env("SGD_REGIMES_DATA", path);
    }
    let sweep_pid = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: prctl(2) and getppid(2) are system calls that
    // allocate nothing and take no lock.
    unsafe {
        command.pre_exec(move || {
            // A sweep killed outright (SIGKILL, out of memory) takes its trainer with it: the
            // kernel sends SIGKILL to this process when the thread that started it ends.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The sweep may have died before the prctl took effect.
            if libc::getppid() != sweep_pid {
                return Err(std::io::Error::other(
                    "the sweep that started this trainer has ended",
                ));
            }
            Ok(())
        });
    }
    let mut child = command.spawn().map_err(|e| spawn_error(trainer, dir, &e))?;
    let group = child.id() as libc::pid_t;
    let stderr = child.stderr.take().expect("stderr was piped");
    let tail = std::thread::spawn(move || copy_keeping_tail(stderr, log_file));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });

    let max_wall = cfg.max_wall.map(Duration::from_secs_f64);
    let mut termed: Option<(Instant, Why)> = None;
    let status: std::io::Result<ExitStatus> = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(status) => break status,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(std::io::Error::other("lost the trainer's process"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        match termed {
            None => {
                let why = if stop.load(Ordering::SeqCst) {
                    Some(Why::Stopped)
                } else if max_wall.is_some_and(|w| start.elapsed() >= w) {
                    Some(Why::MaxWall)
                } else {
                    None
                };
                if let Some(why) = why {
                    signal_group(group, libc::SIGTERM);
                    termed = Some((Instant::now(), why));
                }
            }
            Some((at, _)) if at.elapsed() >= trainer.grace() => {
                signal_group(group, libc::SIGKILL);
            }
            Some(_) => {}
        }
    };
    // Whatever the trainer started goes with it.
    signal_group(group, libc::SIGKILL);
    let tail = tail.join().unwrap_or_default();
    let wall_s = start.elapsed().as_secs_f64();
    let status = status.map_err(|e| format!("waiting for the trainer: {e}"))?;
    let timed_out = match termed {
        Some((_, Why::Stopped)) => return Ok(Ended::Interrupted),
        Some((_, Why::MaxWall)) => true,
        None => false,
    };
    let with_tail = |what: String| {
        if tail.is_empty() {
            format!("{what} (its stderr was empty; log: {})", log.display())
        } else {
            format!("{what}; last stderr: {}", tail.join(" | "))
        }
    };
    // Absent: no result. Present but unreadable, not a file, or over 64 MiB: that is the
    // failure (a one-line message naming why).
    let report = match std::fs::symlink_metadata(&result_path) {
        Err(_) => None,
        Ok(_) => Some(
            crate::io::read_text(
                &result_path,
                crate::io::MAX_TEXT_FILE,
                "a result file (JSON)",
            )
            .map_err(|e| with_tail(format!("the result cannot be read: {e}")))?,
        ),
    };
    let Some(report) = report else {
        let what = match (timed_out, describe_exit(status)) {
            (true, _) => format!(
                "stopped at max_wall = {} s and wrote no result within the grace period",
                cfg.max_wall.unwrap_or_default()
            ),
            (false, Some(exit)) => format!("the trainer {exit}"),
            (false, None) => format!(
                "the trainer exited with code 0 but wrote no result to SGD_REGIMES_RESULT ({})",
                result_path.display()
            ),
        };
        return Err(with_tail(what));
    };
    if !timed_out && let Some(exit) = describe_exit(status) {
        return Err(with_tail(format!(
            "the trainer {exit} (after writing a result)"
        )));
    }
    let cx = result::Context {
        config: cfg,
        run_id,
        data,
        timing: Timing {
            wall_s,
            data_s,
            ..Timing::default()
        },
    };
    let mut parsed = result::parse_report(&report, &cx).map_err(&with_tail)?;
    // A run stopped at max_wall is a budget run, unless it had converged (and wrote so).
    if timed_out && parsed.status != crate::train::result::Status::Converged {
        parsed.status = crate::train::result::Status::Budget;
        parsed.status_detail = format!(
            "max_wall = {} s ran out (the trainer was sent SIGTERM)",
            cfg.max_wall.unwrap_or_default()
        );
    }
    Ok(Ended::Result(Box::new(parsed)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why {
    Stopped,
    MaxWall,
}

/// "exited with code N" or "was killed by signal S (SIGKILL)"; `None` for exit code 0.
fn describe_exit(status: ExitStatus) -> Option<String> {
    if let Some(code) = status.code() {
        return (code != 0).then(|| format!("exited with code {code}"));
    }
    let signal = status.signal().unwrap_or(0);
    let name = match signal {
        libc::SIGKILL => " (SIGKILL; out of memory?)",
        libc::SIGTERM => " (SIGTERM)",
        libc::SIGSEGV => " (SIGSEGV)",
        libc::SIGABRT => " (SIGABRT)",
        libc::SIGINT => " (SIGINT)",
        _ => "",
    };
    Some(format!("was killed by signal {signal}{name}"))
}

fn spawn_error(trainer: &ExternalTrainer, dir: &str, e: &std::io::Error) -> String {
    let program = &trainer.command[0];
    if !Path::new(dir).is_dir() {
        return format!(
            "the trainer's directory {dir} does not exist (it is the sweep file's); run the sweep file from where its trainer is"
        );
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "command not found: {program} (from {dir}); fix [trainer] command, e.g. [\"python3\", \"train.py\"]"
        ),
        std::io::ErrorKind::PermissionDenied => format!(
            "cannot execute {program} (permission denied); make it executable or run it through its interpreter"
        ),
        _ => format!("cannot start {program} ({e})"),
    }
}

/// Send `signal` to every process of the group `group` (the trainer's), if any is left.
fn signal_group(group: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a negative pid names
    // the process group, which exists as long as one of its processes does (an error ESRCH,
    // ignored, once none is left).
    unsafe {
        libc::kill(-group, signal);
    }
}

/// Copy the trainer's stderr into its log as it comes, and keep its last lines.
fn copy_keeping_tail(mut from: impl Read, mut log: std::fs::File) -> Vec<String> {
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let _ = log.write_all(&buf[..n]);
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 16384 {
                    tail.drain(..tail.len() - 8192);
                }
            }
        }
    }
    let text = String::from_utf8_lossy(&tail);
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(crate::data::printable)
        .collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].to_vec()
}
