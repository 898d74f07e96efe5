//! An external trainer (docs/external-trainer.md): a sweep file's `[trainer]` table names a
//! command the sweep runs for each run instead of the built-in trainer, and the files whose
//! contents make up the trainer. The command, `version`, `params` and the SHA-256 of every file
//! are part of each run's identity, so editing the script never reuses stale results; the
//! directory it runs in and its thread count are not (they do not change what it computes).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the protocol between the runner and an external trainer
/// (docs/external-trainer.md); the trainer sees it in `SGD_REGIMES_PROTOCOL`.
pub const PROTOCOL: &str = "1";

/// Seconds between the SIGTERM and the SIGKILL that end a trainer (default).
pub const DEFAULT_GRACE_S: f64 = 10.0;

/// The `[trainer]` table of a sweep file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalTrainer {
    /// The program and its arguments, e.g. `["python3", "train.py"]`; the runner appends the
    /// config and result paths.
    pub command: Vec<String>,
    /// The files that make up the trainer, relative to the sweep file (or to `dir`), each with
    /// its SHA-256 once the sweep file has been read.
    #[serde(default)]
    pub files: Vec<TrainerFile>,
    /// A version the user bumps when something outside `files` changes what the trainer
    /// computes (a library, a data pipeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether the runner writes the run's training and test sets for the trainer
    /// (`SGD_REGIMES_DATA`, an `.npz` file); default true.
    #[serde(default = "default_true")]
    pub provide_data: bool,
    /// The trainer's own parameters, passed through in the config it reads (keys sorted).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
    /// Threads one run may use (`SGD_REGIMES_THREADS`, `OMP_NUM_THREADS`); `sweep run` starts
    /// at most cores / threads_per_run runs at once unless `--jobs` says otherwise.
    /// Not part of the run's identity.
    #[serde(default = "default_threads", skip_serializing)]
    pub threads_per_run: usize,
    /// Seconds between SIGTERM and SIGKILL when a run is stopped (max_wall, a signal to the
    /// sweep). Not part of the run's identity.
    #[serde(default, skip_serializing)]
    pub grace_s: Option<f64>,
    /// Absolute directory the command runs in and `files` are read from: the sweep file's,
    /// filled when it is read. Not part of the run's identity.
    #[serde(default, skip_serializing)]
    pub dir: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_threads() -> usize {
    1
}

/// One file of a trainer: written as its path, stored with its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TrainerFile {
    Path(String),
    Digested { path: String, sha256: String },
}

impl TrainerFile {
    pub fn path(&self) -> &str {
        match self {
            TrainerFile::Path(p) | TrainerFile::Digested { path: p, .. } => p,
        }
    }
}

impl ExternalTrainer {
    /// Seconds from SIGTERM to SIGKILL.
    pub fn grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.grace_s.unwrap_or(DEFAULT_GRACE_S))
    }

    /// This trainer as it runs from `dir` (the sweep file's directory, unless the table names
    /// one): every file read and digested. A file that already carries a digest (the copy a
    /// results directory keeps) must still have it: a trainer edited since is another sweep.
    /// The error is the message, without the file it came from.
    pub fn resolved_under(&self, dir: &Path) -> std::result::Result<Self, String> {
        let mut t = self.clone();
        let dir = match &self.dir {
            Some(d) => std::path::PathBuf::from(d),
            // A sweep file named without a directory is in the working directory.
            None if dir.as_os_str().is_empty() => std::path::PathBuf::from("."),
            None => dir.to_path_buf(),
        };
        let dir = crate::config::absolute_path(&dir);
        t.files = self
            .files
            .iter()
            .map(|f| {
                let full = Path::new(&dir).join(f.path());
                let sha256 = crate::data::fetch::sha256_file(&full).map_err(|e| {
                    let why = match e {
                        crate::Error::Io { err, .. } => err.to_string(),
                        other => other.to_string(),
                    };
                    format!(
                        "[trainer] files: cannot read {} ({why}); list the trainer's files relative to the sweep file",
                        full.display()
                    )
                })?;
                if let TrainerFile::Digested { sha256: was, .. } = f
                    && *was != sha256
                {
                    return Err(format!(
                        "[trainer] files: {} changed since this sweep was stored (sha256 {} then, {} now); results of the old trainer are not reused: run the sweep file (not the stored copy) into a new --results directory",
                        full.display(),
                        was.chars().take(12).collect::<String>(),
                        &sha256[..12]
                    ));
                }
                Ok(TrainerFile::Digested {
                    path: f.path().to_string(),
                    sha256,
                })
            })
            .collect::<std::result::Result<_, String>>()?;
        t.dir = Some(dir);
        Ok(t)
    }

    /// Check what does not need the files: a command, sane counts, plain file names. The
    /// error is the message.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.command.first().is_none_or(|c| c.trim().is_empty()) {
            return Err("[trainer] command is empty; give the program and its arguments, e.g. command = [\"python3\", \"train.py\"]".into());
        }
        if self.threads_per_run == 0 {
            return Err("[trainer] threads_per_run must be at least 1".into());
        }
        if let Some(g) = self.grace_s
            && !(g.is_finite() && g >= 0.0)
        {
            return Err(format!(
                "[trainer] grace_s must be a non-negative number of seconds (got {g})"
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &self.files {
            if f.path().is_empty() {
                return Err("[trainer] files: an empty file name".into());
            }
            if !seen.insert(f.path()) {
                return Err(format!("[trainer] files: {} is listed twice", f.path()));
            }
        }
        Ok(())
    }

    /// Whether every file carries its digest (the sweep file was read from disk).
    pub fn is_resolved(&self) -> bool {
        self.files
            .iter()
            .all(|f| matches!(f, TrainerFile::Digested { .. }))
    }
}
