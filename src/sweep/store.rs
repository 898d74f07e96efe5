//! The results directory of a sweep (method §4):
//!
//! ```text
//! DIR/sweep.toml            copy of the sweep file: what the directory is for
//! DIR/runs/<id>.json        result of run <id> (the `train` JSON), written atomically
//! DIR/runs/<id>.failed.json a run that ended in an error: its config and the message
//! DIR/runs/<id>.claim       held (flock) by the process running <id>: its PID and host
//! DIR/runs/<id>.log         an external trainer's stdout and stderr (docs/external-trainer.md)
//! DIR/runs/<id>.*.corrupt   a result or failure file that did not parse or named another
//!                           run, set aside by `sweep run`, which runs <id> again
//! ```
//!
//! A sweep file that changes only the step budget (`max_steps`, `max_wall`) reopens the
//! directory and keeps the runs that finished within the new budget (`super::adopt`).
//!
//! A result file exists only complete (temp file + fsync + rename), so a sweep killed at any
//! moment restarts with exactly the runs that are missing. Several processes may work on one
//! directory (a resubmitted Slurm array, two terminals): each run is claimed with an exclusive
//! `flock` on its claim file before it starts ([`RunStore::claim`]), so it runs once; the
//! kernel releases the lock of a process that dies, so a killed owner's runs are free again.

use super::spec::SweepSpec;
use super::status::RunState;
use crate::config::RunConfig;
use crate::data::fingerprint::RECORD_FILE;
use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::train::result::RunResult;
use serde::{Deserialize, Serialize};
use std::fs::{File, TryLockError};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub const SWEEP_FILE: &str = "sweep.toml";
const CLAIM_SUFFIX: &str = ".claim";
/// How long a busy claim is retried before it counts as held (probes hold it for microseconds;
/// a running run holds it for its whole run), and in how many tries.
const CLAIM_PATIENCE: Duration = Duration::from_millis(50);
const CLAIM_TRIES: u32 = 5;
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
    /// When this process opened the directory: failure records written later are another
    /// process's (see [`Self::done_by_another`]).
    opened_at: SystemTime,
}

/// A temporary file older than a minute: its writer was killed (a live writer renames its
/// temporary file within moments of creating it).
fn is_stale_temporary(e: &std::fs::DirEntry) -> bool {
    crate::io::is_temporary(&e.file_name().to_string_lossy())
        && e.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
            SystemTime::now().duration_since(t).unwrap_or_default() > Duration::from_secs(60)
        })
}

/// Parse the text of a result file (or, if `failed`, a failure record) that should hold run
/// `id`; the error says what is wrong with it.
pub fn parse_stored(text: &str, id: &str, failed: bool) -> std::result::Result<Stored, String> {
    let (stored, config) = if failed {
        let r: FailureRecord =
            serde_json::from_str(text).map_err(|e| format!("not a valid failure record ({e})"))?;
        let config = r.config.clone();
        (Stored::Failed(Box::new(r)), config)
    } else {
        let r: RunResult =
            serde_json::from_str(text).map_err(|e| format!("not a valid run result ({e})"))?;
        let config = r.config.clone();
        (Stored::Done(Box::new(r)), config)
    };
    let actual = super::id::run_id(&config);
    if actual != id {
        return Err(format!("holds run {actual}, not run {id}"));
    }
    Ok(stored)
}

/// A file of `runs/` that is neither a result nor a failure record.
enum Extra {
    /// A temporary file older than a minute: its writer was killed.
    StaleTemporary(PathBuf),
    /// The claim file of run `id`, `held` by a live process or left by a dead one.
    Claim { id: String, held: bool },
}

/// Whether a process holds the claim file at `path` (`None`: it is gone or unreadable). A
/// shared lock probes without taking the run: it fails only against an exclusive one.
fn claim_held(path: &Path) -> Option<bool> {
    let f = File::open(path).ok()?;
    match f.try_lock_shared() {
        Ok(()) => {
            let _ = f.unlock();
            Some(false)
        }
        Err(TryLockError::WouldBlock) => Some(true),
        Err(TryLockError::Error(_)) => None,
    }
}

/// This machine's name, for the owner line of a claim file.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
    // truncates, and we stop at the first NUL or the end.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown host".into()
    }
}

/// The exclusive right to run one run of a results directory, held until dropped: an open,
/// `flock`ed claim file. Dropping it removes the file while the lock is still held.
pub struct Claim {
    path: PathBuf,
    file: File,
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Only the holder of the lock on the inode at `path` unlinks it (see `RunStore::claim`).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// What [`RunStore::check_compatible`] found.
struct Compatible {
    /// The same sweep with another budget (or another spelling): its copy is replaced.
    budget_changed: bool,
    /// A directory made when relative data_dirs were hashed as written: the base they resolve
    /// against to give this sweep, so its results are adopted under their new ids.
    legacy_base: Option<PathBuf>,
}

impl RunStore {
    /// Open `dir` for `spec` to look only (`--dry-run`): the same refusals as
    /// [`Self::create_or_open`], but nothing is created or written, and a directory that does
    /// not exist yet reads as empty.
    pub fn inspect(dir: &Path, spec: &SweepSpec) -> Result<Self> {
        Self::check_compatible(dir, spec)?;
        Ok(RunStore::at(dir))
    }

    /// Whether `dir` may hold `spec`'s results: `Ok(true)` if it was made by the same sweep with
    /// another step or wall budget; an error for a different sweep or a foreign directory.
    fn check_compatible(dir: &Path, spec: &SweepSpec) -> Result<Compatible> {
        let sweep_copy = dir.join(SWEEP_FILE);
        let mut budget_changed = false;
        if sweep_copy.is_file() {
            let stored = SweepSpec::load_stored(&sweep_copy)?;
            budget_changed = !stored.same_sweep(spec);
            // A directory made before relative data_dirs were resolved: its copy names the
            // data relative to where that sweep ran, most likely here or beside the sweep file.
            let legacy_base = [
                std::env::current_dir().ok(),
                Path::new(&spec.origin).parent().map(Path::to_path_buf),
            ]
            .into_iter()
            .flatten()
            .find(|base| {
                // A copy that cannot be resolved is simply not a legacy match.
                stored
                    .with_data_dirs_under(base)
                    .ok()
                    .flatten()
                    .is_some_and(|s| s.same_but_budget(spec))
            });
            if legacy_base.is_some() {
                return Ok(Compatible {
                    budget_changed: true,
                    legacy_base,
                });
            }
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
                .any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    // Another process may be writing the sweep file right now, or have just
                    // created it (`create_or_open` compares it after its own creation fails).
                    !matches!(
                        name.as_str(),
                        "runs" | "slurm" | "analysis" | SWEEP_FILE | RECORD_FILE
                    ) && !crate::io::is_temporary(&name)
                });
            if foreign {
                return Err(Error::config(format!(
                    "{} is not empty and has no {SWEEP_FILE}, so it is not a sweep results directory; choose a new or empty directory",
                    dir.display()
                )));
            }
        }
        Ok(Compatible {
            budget_changed,
            legacy_base: None,
        })
    }

    /// Open `dir` for `spec`, creating it if needed. Refuses a directory made by a different
    /// sweep file, or a non-empty directory that is not a results directory; touches nothing then.
    pub fn create_or_open(dir: &Path, spec: &SweepSpec) -> Result<Self> {
        let sweep_copy = dir.join(SWEEP_FILE);
        // Looked at before the check: a sweep file present now is the one the check compares.
        let had_sweep_file = sweep_copy.is_file();
        let Compatible {
            budget_changed,
            legacy_base,
        } = Self::check_compatible(dir, spec)?;
        let mut lost_race = false;
        let mut store = RunStore::at(dir);
        let new_dir = !dir.exists();
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
        if let Some(base) = &legacy_base {
            store.adopted = super::adopt::adopt_resolved_data_dirs(&store, &spec.runs()?, base)?;
        }
        if budget_changed {
            store.adopted += super::adopt::adopt(&store, &spec.runs()?)?;
        }
        // A new directory's sweep file is created exclusively: of two different sweeps started
        // together on it, one wins and the other is refused as a different sweep (issue #23,
        // case 2), instead of both passing the check above and mixing their runs.
        let written = if budget_changed {
            write_atomic(&sweep_copy, spec.stored_text.as_bytes())
        } else if had_sweep_file {
            Ok(())
        } else {
            crate::io::create_exclusive(&sweep_copy, spec.stored_text.as_bytes()).map(|created| {
                if !created {
                    lost_race = true;
                }
            })
        };
        if lost_race {
            // The winner's directory is left alone; the same sweep is welcome to share it.
            Self::check_compatible(dir, spec)?;
        }
        if let Err(e) = written {
            // A directory this call made is taken back (a full disk must not leave an empty
            // results directory behind); `remove_dir` removes only empty ones.
            if new_dir {
                let _ = std::fs::remove_dir(&store.runs);
                let _ = std::fs::remove_dir(dir);
            }
            return Err(e);
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
        let spec = SweepSpec::load_stored(&sweep_copy)?;
        Ok((RunStore::at(dir), spec))
    }

    fn at(dir: &Path) -> Self {
        RunStore {
            dir: dir.to_path_buf(),
            runs: dir.join("runs"),
            adopted: 0,
            opened_at: SystemTime::now(),
        }
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

    /// What `runs/` holds besides results and failure records: temporary files of writers that
    /// were killed, and claim files, held by a live process or by no one (a dead owner's).
    fn extras(&self) -> Result<Vec<Extra>> {
        Ok(std::fs::read_dir(&self.runs)
            .map_err(|e| Error::io(&self.runs, e))?
            .flatten()
            .filter_map(|e| {
                if is_stale_temporary(&e) {
                    return Some(Extra::StaleTemporary(e.path()));
                }
                let name = e.file_name().to_string_lossy().into_owned();
                let id = name.strip_suffix(CLAIM_SUFFIX)?.to_string();
                claim_held(&e.path()).map(|held| Extra::Claim { id, held })
            })
            .collect())
    }

    /// Remove what killed processes left: stale temporary files, and claim files no one holds
    /// (taking such a claim and dropping it removes the file).
    fn remove_stale_temporaries(&self) {
        for extra in self.extras().unwrap_or_default() {
            match extra {
                Extra::StaleTemporary(path) => {
                    let _ = std::fs::remove_file(path);
                }
                Extra::Claim { id, held: false } => {
                    let _ = self.claim_within(&id, 0);
                }
                Extra::Claim { held: true, .. } => {}
            }
        }
    }

    /// Leftovers of killed processes: temporary files and claim files no process holds.
    /// Removed the next time a sweep opens the directory.
    pub fn orphans(&self) -> Result<usize> {
        Ok(self
            .extras()?
            .iter()
            .filter(|x| !matches!(x, Extra::Claim { held: true, .. }))
            .count())
    }

    /// Runs being run now by some process: claim files whose lock is held.
    pub fn running(&self) -> Result<usize> {
        Ok(self
            .extras()?
            .iter()
            .filter(|x| matches!(x, Extra::Claim { held: true, .. }))
            .count())
    }

    /// Claim run `id` for this process, or `None` if another live process holds it. The caller
    /// must check again, after claiming, that the run is still to do: a process that finished
    /// it a moment ago wrote its result before it let go of the claim.
    ///
    /// Protocol (the classic lock-file-with-unlink one): open or create `<id>.claim`, take an
    /// exclusive non-blocking `flock`, then check that the path still names the locked inode
    /// (the previous holder may have unlinked it between our open and our lock); if not, start
    /// over. Only a holder unlinks, so two processes never both hold a claim to one path.
    /// On NFS, Linux emulates `flock` with POSIX byte-range locks, which NFSv4 (and v3 with
    /// `lockd`) honour across clients; a client that crashes loses its locks when its lease
    /// ends (about 90 s on NFSv4), so its runs are free again after that. With `nolock`
    /// mounts, locks are local to each client and two clients can run one run twice.
    ///
    /// A lock held for a moment only (`status` probing, another process cleaning up an unheld
    /// claim) must not make us give the run up: a busy claim is tried again a few times over
    /// [`CLAIM_PATIENCE`] before it counts as another process's run.
    pub fn claim(&self, id: &str) -> Result<Option<Claim>> {
        self.claim_within(id, CLAIM_TRIES)
    }

    /// [`Self::claim`], retrying a busy claim `retries` times.
    fn claim_within(&self, id: &str, retries: u32) -> Result<Option<Claim>> {
        let path = self.runs.join(format!("{id}{CLAIM_SUFFIX}"));
        let mut tries = 0;
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) if tries < retries => {
                    tries += 1;
                    std::thread::sleep(CLAIM_PATIENCE / CLAIM_TRIES);
                    continue;
                }
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
            let held = file.metadata().map_err(|e| Error::io(&path, e))?;
            let current = std::fs::metadata(&path);
            if current.is_ok_and(|m| m.ino() == held.ino() && m.dev() == held.dev()) {
                let mut claim = Claim { path, file };
                let owner = format!("pid {} on {}\n", std::process::id(), hostname());
                let _ = claim.file.set_len(0);
                let _ = claim.file.write_all(owner.as_bytes());
                return Ok(Some(claim));
            }
            // The inode we locked was unlinked by its holder: try the path afresh.
        }
    }

    /// Check the result and failure files of `runs` and set aside (rename to
    /// `<name>.corrupt`) each one that does not parse or holds another run's config, so the
    /// run is done again; each one is a warning line on stderr. Returns how many.
    pub fn set_aside_corrupt<'a>(&self, runs: impl IntoIterator<Item = &'a str>) -> usize {
        let mut n = 0;
        for id in runs {
            for path in [self.result_path(id), self.failure_path(id)] {
                if !path.is_file() {
                    continue;
                }
                let Err(why) = self.check(&path, id) else {
                    continue;
                };
                let mut aside = path.clone().into_os_string();
                aside.push(".corrupt");
                // Another process may have moved it first: then it is gone, as wanted.
                if std::fs::rename(&path, &aside).is_ok() {
                    n += 1;
                    eprintln!(
                        "warning: {}: {why}; set aside as {} and run again",
                        path.display(),
                        Path::new(&aside).display()
                    );
                }
            }
        }
        n
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

    /// The output of run `id`'s external trainer (docs/external-trainer.md): its stdout and
    /// stderr, appended to on each attempt.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.runs.join(format!("{id}.log"))
    }

    pub fn failure_path(&self, id: &str) -> PathBuf {
        self.runs.join(format!("{id}.failed.json"))
    }

    /// Called with the claim of `id` held: has another process done `id` since this one planned
    /// its runs? Yes if a result exists, or a failure record written after this process opened
    /// the directory (older failure records are either skipped when planning, or meant to be
    /// retried with `--retry-failed`).
    pub fn done_by_another(&self, id: &str) -> bool {
        self.has_result(id)
            || std::fs::metadata(self.failure_path(id))
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= self.opened_at)
    }

    /// Is there a result or a failure record for `id`? (No parsing: cheap.)
    pub fn has_result(&self, id: &str) -> bool {
        self.result_path(id).is_file()
    }

    pub fn has_failure(&self, id: &str) -> bool {
        self.failure_path(id).is_file()
    }

    /// Read what is stored for `id`. A file that does not parse, or holds the config of
    /// another run, is an error naming it (`sweep run` sets such files aside and reruns).
    pub fn load(&self, id: &str) -> Result<Stored> {
        for path in [self.result_path(id), self.failure_path(id)] {
            if path.is_file() {
                return self.read_checked(&path, id);
            }
        }
        Ok(Stored::Missing)
    }

    fn read_checked(&self, path: &Path, id: &str) -> Result<Stored> {
        self.check(path, id).map_err(|why| {
            Error::data(
                path,
                format!("{why}; `sgd-regimes sweep run` sets it aside and runs {id} again"),
            )
        })
    }

    /// Parse the result or failure file at `path` and check that it is run `id`'s; the
    /// error says what is wrong with it.
    fn check(&self, path: &Path, id: &str) -> std::result::Result<Stored, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("unreadable ({e})"))?;
        let failed = path.to_string_lossy().ends_with(".failed.json");
        parse_stored(&text, id, failed)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, RunStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::at(dir.path());
        std::fs::create_dir_all(&store.runs).unwrap();
        (dir, store)
    }

    #[test]
    fn a_claim_is_exclusive_outlives_a_probe_and_leaves_no_file() {
        let (_dir, store) = store();
        let held = store.claim("a").unwrap().expect("a free run is claimed");
        assert!(
            store.claim("a").unwrap().is_none(),
            "a held run is not claimed twice"
        );
        assert_eq!(store.running().unwrap(), 1);
        drop(held);
        assert!(
            !store.runs.join("a.claim").exists(),
            "dropping a claim removes its file"
        );

        // A probe (a shared lock held for a moment, as `status` takes) does not make a
        // claimant give the run up.
        let path = store.runs.join("b.claim");
        let probe = File::create(&path).unwrap();
        probe.lock_shared().unwrap();
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(15));
            drop(probe);
        });
        assert!(store.claim("b").unwrap().is_some());
        release.join().unwrap();

        // A claim file left by a dead owner is free, counted as an orphan, and taken over.
        File::create(store.runs.join("c.claim")).unwrap();
        assert_eq!((store.running().unwrap(), store.orphans().unwrap()), (0, 1));
        assert!(store.claim("c").unwrap().is_some());
        assert_eq!(store.orphans().unwrap(), 0);
    }

    #[test]
    fn temporaries_of_killed_writers_are_counted_then_removed_and_live_ones_kept() {
        let (_dir, store) = store();
        let stale = crate::io::temporary_path(&store.result_path("d")).unwrap();
        let live = crate::io::temporary_path(&store.result_path("e")).unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        File::create(&stale).unwrap().set_modified(old).unwrap();
        File::create(&live).unwrap();
        File::create(store.runs.join("f.claim")).unwrap();
        assert_eq!(
            store.orphans().unwrap(),
            2,
            "the stale temporary and the unheld claim"
        );
        store.remove_stale_temporaries();
        assert!(!stale.exists() && live.exists());
        assert!(!store.runs.join("f.claim").exists());
        assert_eq!(store.orphans().unwrap(), 0);
    }
}
