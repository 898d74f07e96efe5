//! What every reproduction is made of (method §4): parts, each a sweep file with a name, a
//! description and its declared regime; planning them (the sweep files written, their
//! results directories opened, or only looked at for `--dry-run`); running what is missing
//! of all parts in one queue.

use crate::config::Regime;
use crate::error::{Error, Result};
use crate::sweep::{Event, PlannedRun, RunStore, SweepSpec, execute_tasks, pending, queue};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use toml::{Table, Value};

/// One sweep of the reproduction.
#[derive(Clone, Debug)]
pub struct Part {
    /// `lazy`, `feature` or `phase`.
    pub name: &'static str,
    /// What it measures, in a few words.
    pub what: &'static str,
    /// The declared regime (`None` for the phase diagram, which spans both); the sweep file's
    /// `[analysis]` table.
    pub regime: Option<Regime>,
    /// The sweep file's first line, a comment (the command and what the sweep is).
    pub title: String,
    /// The sweep file's tables (`[base]`, `[grid]`), in order.
    pub sweep: Table,
}

impl Part {
    /// The sweep file: the title as a comment, each table with one `key = value` line per
    /// entry (ranges as inline tables), then `[analysis]` with the declared regime.
    pub fn text(&self) -> String {
        let mut s = format!("# {}\n", self.title);
        let analysis = self.regime.map(|r| table([("regime", r.as_str().into())]));
        let sections = self
            .sweep
            .iter()
            .filter_map(|(name, body)| Some((name.as_str(), body.as_table()?)))
            .chain(analysis.as_ref().map(|t| ("analysis", t)));
        for (i, (name, body)) in sections.enumerate() {
            if i > 0 {
                s.push('\n');
            }
            s += &format!("[{name}]\n");
            for (key, value) in body {
                s += &format!("{} = {value}\n", toml_key(key));
            }
        }
        s
    }
}

/// A TOML table from `(key, value)` pairs, in their order.
pub fn table<const N: usize>(pairs: [(&str, Value); N]) -> Table {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect()
}

/// `{ log2 = [lo, hi], step = step }`: the powers of two from `2^lo` to `2^hi`.
pub fn log2(lo: i64, hi: i64, step: f64) -> Value {
    let step = if step.fract() == 0.0 {
        Value::Integer(step as i64)
    } else {
        Value::Float(step)
    };
    Value::Table(table([("log2", ints(&[lo, hi])), ("step", step)]))
}

/// `{ linear = [0, n - 1] }`: the seeds `0 .. n`.
pub fn seeds(n: i64) -> Value {
    Value::Table(table([("linear", ints(&[0, n - 1]))]))
}

/// An array of integers.
pub fn ints(values: &[i64]) -> Value {
    Value::Array(values.iter().map(|&v| Value::Integer(v)).collect())
}

/// A key as TOML writes it: bare when it can be, else quoted.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

/// A part with its results directory and planned runs.
pub struct Planned {
    pub part: Part,
    pub store: RunStore,
    pub runs: Vec<PlannedRun>,
}

/// Whether planning writes (sweep files, results directories) or only looks (`--dry-run`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Planning {
    Write,
    DryRun,
}

impl Planning {
    pub fn of(dry_run: bool) -> Self {
        if dry_run {
            Planning::DryRun
        } else {
            Planning::Write
        }
    }
}

/// Write each part's sweep file to `OUT/sweeps/<name>.toml` and open its results directory
/// `OUT/results/<name>` (resuming what is there); a dry run writes nothing.
pub fn plan_parts(out: &Path, parts: Vec<Part>, planning: Planning) -> Result<Vec<Planned>> {
    plan_into(out, parts, planning, |part| results_dir(out, part))
}

/// [`plan_parts`] with each part's results directory given by `dir_of(part name)`.
pub fn plan_into(
    out: &Path,
    parts: Vec<Part>,
    planning: Planning,
    dir_of: impl Fn(&str) -> PathBuf,
) -> Result<Vec<Planned>> {
    if planning == Planning::Write {
        std::fs::create_dir_all(out.join("sweeps")).map_err(|e| Error::io(out, e))?;
    }
    let mut planned = Vec::new();
    for part in parts {
        let path = out.join("sweeps").join(format!("{}.toml", part.name));
        let text = part.text();
        let spec = SweepSpec::parse(&text, &path.display().to_string())?;
        let runs = spec.runs()?;
        let store = match planning {
            Planning::DryRun => RunStore::inspect(&dir_of(part.name), &spec)?,
            Planning::Write => {
                crate::io::write_atomic(&path, text.as_bytes())?;
                let store = RunStore::create_or_open(&dir_of(part.name), &spec)?;
                if let Some(note) = store.adopted_note() {
                    eprintln!("{note}");
                }
                store
            }
        };
        planned.push(Planned { part, store, runs });
    }
    Ok(planned)
}

/// The results directory of one part.
pub fn results_dir(out: &Path, part: &str) -> PathBuf {
    out.join("results").join(part)
}

/// Run what is missing of every part (resuming), with `jobs` workers, all parts in one queue.
pub fn run_all(
    planned: &[Planned],
    jobs: usize,
    stop: &AtomicBool,
    on_event: impl FnMut(&Event),
) -> Result<usize> {
    let tasks = queue(
        planned
            .iter()
            .map(|p| (&p.store, pending(&p.store, &p.runs, None, false))),
    );
    Ok(execute_tasks(&tasks, jobs, stop, on_event)?.not_started)
}

/// Runs still missing per part (read-only: a corrupt result counts as done here and is set
/// aside and rerun when the runs start).
pub fn missing(planned: &[Planned]) -> Vec<usize> {
    planned.iter().map(|p| todo(p).len()).collect()
}

/// The runs of a part with neither a result nor a failure record, without touching the
/// directory.
pub fn todo(p: &Planned) -> Vec<&PlannedRun> {
    p.runs
        .iter()
        .filter(|r| !p.store.has_result(&r.id) && !p.store.has_failure(&r.id))
        .collect()
}
