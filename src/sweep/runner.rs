//! Running what is missing of a sweep (method §4): each run single-threaded, `jobs` at a time,
//! the largest expected work first so the tail is short; `--shard I/N` takes every N-th run of
//! the list starting at I, so N array tasks split it exactly.

use super::external::Ended;
use super::spec::PlannedRun;
use super::status::{Counts, RunState};
use super::store::RunStore;
use crate::config::{ModelKind, RunConfig};
use crate::error::{Error, Result};
use crate::train::{self, Options};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Shard `index` of `count` (0-based), written `I/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("invalid shard `{s}`: expected I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The runs of this shard: positions `index, index + count, ...` of the run list.
    pub fn select<'a>(&self, runs: &'a [PlannedRun]) -> Vec<&'a PlannedRun> {
        runs.iter().skip(self.index).step_by(self.count).collect()
    }
}

/// A rough cost of a run, for ordering only: multiply-adds of one forward pass times points
/// evaluated.
pub fn expected_work(cfg: &RunConfig) -> f64 {
    let [rows, cols, c] = cfg.input_shape().map(|v| v as f64);
    let (d, pixels) = (rows * cols * c, rows * cols);
    let h = cfg.width.unwrap_or(1) as f64;
    let per_point = match cfg.model {
        ModelKind::Perceptron => d,
        ModelKind::Fc => {
            let l = cfg.depth.unwrap_or(1) as f64;
            d * h + (l - 1.0) * h * h + h
        }
        // conv1 + conv2 (at a quarter of the pixels) + the dense layer.
        ModelKind::SimpleCnn => {
            pixels * 25.0 * c * h + pixels / 4.0 * 50.0 * h * h + pixels / 16.0 * 64.0 * h * h
        }
        // The stem at a quarter of the pixels dominates: 5x5 conv, depthwise, 1x1 projection.
        ModelKind::Mnas => pixels / 4.0 * (100.0 * c * h + 100.0 * h + 8.0 * h * h),
        // Its multiply-adds, counted from the list (a list that does not build costs nothing:
        // the run fails at once).
        ModelKind::Net => cfg
            .validated()
            .ok()
            .and_then(|v| match &v.net {
                crate::config::NetSpec::Layers { layers, width, .. } => {
                    crate::model::layer_list::plan(
                        &layers.0,
                        *width,
                        [rows as usize, cols as usize, c as usize],
                    )
                    .ok()
                }
                _ => None,
            })
            .map_or(0.0, |b| b.macs() as f64),
    };
    per_point * (cfg.p + cfg.p_test) as f64
}

/// The runs to do now: this shard's, without a result (nor a failure record unless
/// `retry_failed`), largest expected work first (ties in sweep order). Result and failure files
/// of these runs that do not parse or name another run are set aside first
/// ([`RunStore::set_aside_corrupt`]), so those runs are done again.
pub fn pending<'a>(
    store: &RunStore,
    runs: &'a [PlannedRun],
    shard: Option<Shard>,
    retry_failed: bool,
) -> Vec<&'a PlannedRun> {
    let mine = match shard {
        Some(s) => s.select(runs),
        None => runs.iter().collect(),
    };
    store.set_aside_corrupt(mine.iter().map(|r| r.id.as_str()));
    let todo: Vec<&PlannedRun> = mine
        .into_iter()
        .filter(|r| !store.has_result(&r.id) && (retry_failed || !store.has_failure(&r.id)))
        .collect();
    largest_first(todo, |r| r)
}

/// `items` ordered by the expected work of their run, largest first, ties in the given order.
/// Each run's work is computed once (a `net`'s builds its layer plan), not per comparison.
fn largest_first<T>(items: Vec<T>, run: impl Fn(&T) -> &PlannedRun) -> Vec<T> {
    let mut keyed: Vec<(f64, T)> = items
        .into_iter()
        .map(|t| (expected_work(&run(&t).config), t))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
    keyed.into_iter().map(|(_, t)| t).collect()
}

/// Threads one run of `runs` may use: an external trainer's `threads_per_run` (the largest,
/// if several), 1 for the built-in trainer. Workers times this is the cores a sweep takes.
pub fn threads_per_run<'a>(runs: impl IntoIterator<Item = &'a PlannedRun>) -> usize {
    runs.into_iter()
        .filter_map(|r| r.config.trainer.as_ref())
        .map(|t| t.threads_per_run)
        .max()
        .unwrap_or(1)
}

/// Workers to start on `cores` cores for runs of `threads` threads each: at least one.
pub fn default_jobs(cores: usize, threads: usize) -> usize {
    (cores / threads.max(1)).max(1)
}

/// Workers to start on this machine for `runs`: every core, divided by the threads a run
/// may use ([`threads_per_run`]).
pub fn jobs_here<'a>(runs: impl IntoIterator<Item = &'a PlannedRun>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    default_jobs(cores, threads_per_run(runs))
}

/// What happened to one run.
#[derive(Clone, Debug)]
pub enum Event {
    Started {
        worker: usize,
        description: String,
    },
    /// `state` is the run's status, or `Failed`; `task` is the run's position in the list
    /// given to [`execute_tasks`].
    Finished {
        worker: usize,
        task: usize,
        state: RunState,
        seconds: f64,
    },
    /// The run was not started: another process holds its claim or has just finished it.
    Skipped {
        task: usize,
    },
    /// Sent every 200 ms while runs are in progress: the longest-running one.
    Tick {
        slowest: Option<(String, Duration)>,
    },
}

/// Counts of what this invocation ran.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Runs finished, by state (never `Missing`).
    pub counts: Counts,
    /// Runs not started because `stop` was raised.
    pub not_started: usize,
    /// Runs left to another process that held them or had just done them.
    pub skipped: usize,
}

impl Outcome {
    pub fn finished(&self) -> usize {
        self.counts.total()
    }

    pub fn failed(&self) -> usize {
        self.counts.get(RunState::Failed)
    }
}

/// Run `todo` on `jobs` worker threads. Raising `stop` lets running runs finish and starts no
/// new one. A run's error is recorded in its failure file; an error writing results stops
/// the sweep.
pub fn execute(
    store: &RunStore,
    todo: &[&PlannedRun],
    jobs: usize,
    stop: &AtomicBool,
    on_event: impl FnMut(&Event),
) -> Result<Outcome> {
    let tasks: Vec<Task> = todo
        .iter()
        .map(|&run| Task {
            store,
            run,
            part: 0,
        })
        .collect();
    execute_tasks(&tasks, jobs, stop, on_event)
}

/// One run to do, the results directory it belongs to and which of the caller's parts it is.
#[derive(Clone, Copy)]
pub struct Task<'a> {
    pub store: &'a RunStore,
    pub run: &'a PlannedRun,
    pub part: usize,
}

/// The runs of several sweeps as one queue (as [`execute`] does for one), so no worker idles
/// at the end of one sweep while another still has runs: largest expected work first.
/// `parts[i]` gives the tasks with `part = i`.
pub fn queue<'a>(
    parts: impl IntoIterator<Item = (&'a RunStore, Vec<&'a PlannedRun>)>,
) -> Vec<Task<'a>> {
    let tasks: Vec<Task> = parts
        .into_iter()
        .enumerate()
        .flat_map(|(part, (store, runs))| {
            runs.into_iter().map(move |run| Task { store, run, part })
        })
        .collect();
    largest_first(tasks, |t| t.run)
}

/// Run `tasks` (each into its own results directory) on `jobs` worker threads, as [`execute`].
pub fn execute_tasks(
    tasks: &[Task],
    jobs: usize,
    stop: &AtomicBool,
    mut on_event: impl FnMut(&Event),
) -> Result<Outcome> {
    check_data(tasks)?;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Event>();
    let mut outcome = Outcome::default();
    let mut write_error: Option<Error> = None;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.clamp(1, tasks.len().max(1)))
            .map(|worker| {
                let tx = tx.clone();
                let next = &next;
                scope.spawn(move || -> Result<()> {
                    loop {
                        if stop.load(Ordering::SeqCst) {
                            return Ok(());
                        }
                        let k = next.fetch_add(1, Ordering::SeqCst);
                        let Some(&Task { store, run, .. }) = tasks.get(k) else {
                            return Ok(());
                        };
                        // Another process (a second `sweep run`, a resubmitted array task)
                        // may hold this run or have finished it since we planned.
                        let Some(_claim) = store.claim(&run.id)? else {
                            let _ = tx.send(Event::Skipped { task: k });
                            continue;
                        };
                        if store.done_by_another(&run.id) {
                            let _ = tx.send(Event::Skipped { task: k });
                            continue;
                        }
                        let _ = tx.send(Event::Started {
                            worker,
                            description: run.describe(),
                        });
                        let start = Instant::now();
                        let ended = if run.config.trainer.is_some() {
                            super::external::run(
                                &run.config,
                                &run.id,
                                &store.log_path(&run.id),
                                stop,
                            )
                        } else {
                            match run_catching_panics(&run.config) {
                                Ok(result) => Ended::Result(Box::new(result)),
                                Err(message) => Ended::Failed(message),
                            }
                        };
                        let state = match ended {
                            Ended::Result(result) => {
                                store.write_result(&run.id, &result)?;
                                RunState::Ended(result.status)
                            }
                            Ended::Failed(message) => {
                                store.write_failure(&run.id, &run.config, &message)?;
                                RunState::Failed
                            }
                            // Left undone: counted as not started, the next `sweep run` does it.
                            Ended::Interrupted => continue,
                        };
                        let _ = tx.send(Event::Finished {
                            worker,
                            task: k,
                            state,
                            seconds: start.elapsed().as_secs_f64(),
                        });
                    }
                })
            })
            .collect();
        drop(tx);
        let mut active: HashMap<usize, (String, Instant)> = HashMap::new();
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(event) => {
                    match &event {
                        Event::Started {
                            worker,
                            description,
                        } => {
                            active.insert(*worker, (description.clone(), Instant::now()));
                        }
                        Event::Finished { worker, state, .. } => {
                            active.remove(worker);
                            outcome.counts.add(*state);
                        }
                        Event::Skipped { .. } => outcome.skipped += 1,
                        Event::Tick { .. } => {}
                    }
                    on_event(&event);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let slowest = active
                        .values()
                        .min_by_key(|(_, t)| *t)
                        .map(|(d, t)| (d.clone(), t.elapsed()));
                    on_event(&Event::Tick { slowest });
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        for w in workers {
            if let Ok(Err(e)) = w.join() {
                stop.store(true, Ordering::SeqCst);
                write_error.get_or_insert(e);
            }
        }
    });
    if let Some(e) = write_error {
        return Err(e);
    }
    outcome.not_started = tasks.len() - outcome.finished() - outcome.skipped;
    Ok(outcome)
}

/// Before any run starts: every data directory the tasks read is loaded once (a bad one is one
/// error, not a failure per run) and its files checked against what each results directory
/// recorded (`data::fingerprint`): a run's data is part of its identity.
fn check_data(tasks: &[Task]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for t in tasks {
        let c = &t.run.config;
        let Some(dir) = c.data_dir.as_deref() else {
            continue;
        };
        let key = (
            t.store.dir.clone(),
            c.dataset,
            dir.to_string(),
            c.positive.clone(),
        );
        if seen.insert(key)
            && let Some(files) = crate::data::files_of_config(c)?
        {
            crate::data::fingerprint::check_and_record(&t.store.dir, dir, &files)?;
        }
    }
    Ok(())
}

/// Train one run; an error or a panic (a bug, but one run's bug must not end a sweep of
/// thousands, nor be met again on every rerun) becomes the message of its failure record.
fn run_catching_panics(cfg: &RunConfig) -> std::result::Result<train::result::RunResult, String> {
    catching_panics(|| train::run(cfg, Options::default()))
}

fn catching_panics<T>(run: impl FnOnce() -> Result<T>) -> std::result::Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(e)) => Err(e.to_string()),
        Err(payload) => {
            let what = crate::error::panic_message(payload.as_ref());
            Err(format!(
                "internal error (a bug in sgd-regimes, please report it with this run's config): {what}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::spec::SweepSpec;

    #[test]
    fn shards_cover_the_list_exactly_once() {
        let text = "[base]\nlr = 0.1\n[grid]\nseed_init = { linear = [0, 36] }\n";
        let runs = SweepSpec::parse(text, "s").unwrap().runs().unwrap();
        assert_eq!(runs.len(), 37);
        for n in [1, 2, 3, 5, 8, 37, 50] {
            let mut seen: Vec<&str> = (0..n)
                .flat_map(|i| Shard { index: i, count: n }.select(&runs))
                .map(|r| r.id.as_str())
                .collect();
            assert_eq!(seen.len(), 37, "N = {n}");
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 37, "N = {n}: a run is in two shards");
        }
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["4/4", "1", "a/2", "0/0", "-1/3"] {
            assert!(
                bad.parse::<Shard>().unwrap_err().contains("expected I/N"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_panicking_run_becomes_a_failure_message() {
        let e = catching_panics(|| -> Result<()> { panic!("index out of bounds: 7") }).unwrap_err();
        assert!(
            e.starts_with("internal error (a bug") && e.ends_with("index out of bounds: 7"),
            "{e}"
        );
        let n = 3;
        let e = catching_panics(|| -> Result<()> { panic!("formatted {n}") }).unwrap_err();
        assert!(e.ends_with("formatted 3"), "{e}");
        let e = catching_panics(|| -> Result<()> { Err(Error::config("bad p")) }).unwrap_err();
        assert_eq!(e, "invalid config: bad p");
        assert_eq!(catching_panics(|| Ok(5)).unwrap(), 5);
    }

    #[test]
    fn bigger_runs_first() {
        let small = RunConfig {
            p: 100,
            lr: Some(0.1),
            ..RunConfig::default()
        }
        .normalized()
        .unwrap();
        let big = RunConfig {
            p: 1000,
            ..small.clone()
        };
        assert!(expected_work(&big) > expected_work(&small));
    }
}
