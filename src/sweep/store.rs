//! The results directory of a sweep (method §4):
//!
//! ```text
//! DIR/sweep.toml            copy of the sweep file: what the directory is for
//! DIR/runs/<id>.json        result of run <id> (the `train` JSON), written atomically
//! DIR/runs/<id>.failed.json a run that ended in an error: its config and the message
//! ```
//!
//! A sweep file that changes only the step budget (`max_steps`, `max_wall`) reopens the
//! directory and keeps the runs that finished within the new budget (`super::adopt`).
//!
//! A result file exists only complete (temp file + fsync + rename), so a sweep killed at any
//! moment restarts with exactly the runs that are missing.

use super::spec::SweepSpec;
use super::status::RunState;
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::train::result::RunResult;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const SWEEP_FILE: &str = "sweep.toml";
pub const FAILURE_SCHEMA: &str = "sgd-regimes/failed-run/1";

/// What is recorded of a run that ended in an error rather than a status.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub schema: String,
    pub version: String,
    pub config: RunConfig,
    pub error: String,
}

/// What the directory holds for one run.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    Missing,
    Done(Box<RunResult>),
    Failed(Box<FailureRecord>),
}

impl Stored {
    /// Where the run stands.
    pub fn state(&self) -> RunState {
        match self {
            Stored::Missing => RunState::Missing,
            Stored::Failed(_) => RunState::Failed,
            Stored::Done(r) => RunState::Ended(r.status),
        }
    }
}

pub struct RunStore {
    pub dir: PathBuf,
    runs: PathBuf,
    /// Finished runs of an earlier step budget kept under this sweep's ids when it was opened
    /// (`super::adopt`).
    pub adopted: usize,
}

impl RunStore {
    /// Open `dir` for `spec`, creating it if needed. Refuses a directory made by a different
    /// sweep file, or a non-empty directory that is not a results directory; touches nothing then.
    pub fn create_or_open(dir: &Path, spec: &SweepSpec) -> Result<Self> {
        let sweep_copy = dir.join(SWEEP_FILE);
        let mut budget_changed = false;
        if sweep_copy.is_file() {
            let stored = SweepSpec::load(&sweep_copy)?;
            budget_changed = !stored.same_sweep(spec);
            // `same_but_budget` holds for the same sweep too.
            if !stored.same_but_budget(spec) {
                return Err(Error::config(format!(
                    "{} was made by a different sweep file ({} differs from {}); use a new --results directory, or delete {} to adopt this sweep (its results are kept)",
                    dir.display(),
                    sweep_copy.display(),
                    spec.origin,
                    sweep_copy.display()
                )));
            }
        } else if dir.exists() {
            // A results directory whose sweep file was deleted (as the message above suggests, to
            // adopt a new sweep) holds only what a sweep writes: it is adopted, results kept.
            let foreign = std::fs::read_dir(dir)
                .map_err(|e| Error::io(dir, e))?
                .filter_map(|e| e.ok())
                .any(|e| !matches!(e.file_name().to_str(), Some("runs" | "slurm" | "analysis")));
            if foreign {
                return Err(Error::config(format!(
                    "{} is not empty and has no {SWEEP_FILE}, so it is not a sweep results directory; choose a new or empty directory",
                    dir.display()
                )));
            }
        }
        let mut store = RunStore {
            dir: dir.to_path_buf(),
            runs: dir.join("runs"),
            adopted: 0,
        };
        std::fs::create_dir_all(&store.runs).map_err(|e| {
            Error::data(
                dir,
                format!(
                    "cannot create the results directory ({e}); choose a writable --results path"
                ),
            )
        })?;
        store.check_writable()?;
        store.remove_stale_temporaries();
        // Runs are kept for a new budget before the new sweep file replaces the old one, so an
        // open killed half-way sees the change again and finishes the move.
        if budget_changed {
            store.adopted = super::adopt::adopt(&store, &spec.runs()?)?;
        }
        if !sweep_copy.is_file() || budget_changed {
            write_atomic(&sweep_copy, spec.text.as_bytes())?;
        }
        Ok(store)
    }

    /// Open an existing results directory and the sweep it was made for.
    pub fn open(dir: &Path) -> Result<(Self, SweepSpec)> {
        let sweep_copy = dir.join(SWEEP_FILE);
        if !sweep_copy.is_file() {
            return Err(Error::data(
                dir,
                format!(
                    "not a sweep results directory (no {SWEEP_FILE}); make one with `sgd-regimes sweep run FILE --results DIR`"
                ),
            ));
        }
        let spec = SweepSpec::load(&sweep_copy)?;
        Ok((
            RunStore {
                dir: dir.to_path_buf(),
                runs: dir.join("runs"),
                adopted: 0,
            },
            spec,
        ))
    }

    fn check_writable(&self) -> Result<()> {
        let probe = self
            .runs
            .join(format!(".write-probe.{}", std::process::id()));
        std::fs::write(&probe, b"")
            .and_then(|_| std::fs::remove_file(&probe))
            .map_err(|e| {
                Error::data(
                    &self.dir,
                    format!(
                        "results directory is not writable ({e}); choose a writable --results path"
                    ),
                )
            })
    }

    /// Temporary files older than a minute belong to writers that were killed.
    fn remove_stale_temporaries(&self) {
        let Ok(entries) = std::fs::read_dir(&self.runs) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let old = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
                SystemTime::now().duration_since(t).unwrap_or_default() > Duration::from_secs(60)
            });
            if name.starts_with('.') && name.ends_with(".tmp") && old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// A line for the user when opening kept runs of an earlier budget.
    pub fn adopted_note(&self) -> Option<String> {
        (self.adopted > 0).then(|| {
            format!(
                "{}: the step budget changed; kept {} run(s) that finished within the new one",
                self.dir.display(),
                self.adopted
            )
        })
    }

    pub fn result_path(&self, id: &str) -> PathBuf {
        self.runs.join(format!("{id}.json"))
    }

    pub fn failure_path(&self, id: &str) -> PathBuf {
        self.runs.join(format!("{id}.failed.json"))
    }

    /// Is there a result or a failure record for `id`? (No parsing: cheap.)
    pub fn has_result(&self, id: &str) -> bool {
        self.result_path(id).is_file()
    }

    pub fn has_failure(&self, id: &str) -> bool {
        self.failure_path(id).is_file()
    }

    /// Read what is stored for `id`. An unreadable file is an error naming it.
    pub fn load(&self, id: &str) -> Result<Stored> {
        let path = self.result_path(id);
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let r: RunResult = serde_json::from_str(&text).map_err(|e| {
                Error::data(
                    &path,
                    format!("not a valid run result ({e}); delete it to run it again"),
                )
            })?;
            return Ok(Stored::Done(Box::new(r)));
        }
        let path = self.failure_path(id);
        if path.is_file() {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let r: FailureRecord = serde_json::from_str(&text).map_err(|e| {
                Error::data(
                    &path,
                    format!("not a valid failure record ({e}); delete it to run it again"),
                )
            })?;
            return Ok(Stored::Failed(Box::new(r)));
        }
        Ok(Stored::Missing)
    }

    pub fn write_result(&self, id: &str, result: &RunResult) -> Result<()> {
        write_atomic(&self.result_path(id), result.to_json().as_bytes())?;
        // A success replaces an earlier failure of the same run.
        let _ = std::fs::remove_file(self.failure_path(id));
        Ok(())
    }

    pub fn write_failure(&self, id: &str, config: &RunConfig, error: &str) -> Result<()> {
        let record = FailureRecord {
            schema: FAILURE_SCHEMA.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            config: config.clone(),
            error: error.into(),
        };
        let json =
            serde_json::to_string_pretty(&record).expect("a failure record serializes") + "\n";
        write_atomic(&self.failure_path(id), json.as_bytes())
    }

    /// Ids of every result or failure file in the directory.
    pub fn stored_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.runs)
            .map_err(|e| Error::io(&self.runs, e))?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    return None;
                }
                name.strip_suffix(".failed.json")
                    .or(name.strip_suffix(".json"))
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}
