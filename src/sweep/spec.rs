//! Sweep files (method §4): a `[base]` table with any run parameter and a `[grid]` table whose
//! values are lists or ranges (see [`super::axis`]); the run list is the Cartesian product of the
//! grid, the first axis varying slowest. The grid key `seed` sets `seed_init`, `seed_batch` and
//! `seed_train` together (the test set stays that of `seed_test`, so test errors of different
//! seeds are measured on the same points). An optional `[analysis]` table declares the
//! experiment's regime (`regime = "lazy"` or `"feature"`, method §5) for `analyze`.
//!
//! A sweep may also be a union of grids: `[[grid]]` tables, each a Cartesian product of its
//! own axes, their runs concatenated in file order with identical runs merged. It reaches
//! further where a part of the grid needs it (lower temperatures for the largest `P`) without
//! paying for the whole product.
//!
//! ```toml
//! [base]
//! model = "fc"
//! p_test = 2048
//! alpha = 32768
//! batch = 16
//!
//! [grid]
//! temperature = { log2 = [-12, -2], step = 0.5 }
//! p = [256, 512, 1024]
//! seed = { linear = [0, 4] }
//! ```

use super::axis;
use super::id::{id_of_key, run_key};
use crate::config::trainer::ExternalTrainer;
use crate::config::{Regime, RunConfig};
use crate::error::{Error, Result};
use std::path::Path;
use toml::{Table, Value};

/// At most this many grid points per sweep.
pub const MAX_RUNS: usize = 10_000_000;

/// One Cartesian product: its axes in file order, each with its expanded values.
pub type Grid = Vec<(String, Vec<Value>)>;

/// A parsed sweep file.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    pub base: Table,
    /// The grids whose runs the sweep takes, in file order: one `[grid]` table, or one per
    /// `[[grid]]` entry (a sweep without a grid is one grid of one point).
    pub grids: Vec<Grid>,
    /// The regime declared by the optional `[analysis]` table (`regime = "lazy"` or
    /// `"feature"`); it does not change any run.
    pub regime: Option<Regime>,
    /// The file's text (what messages quote line numbers of).
    pub text: String,
    /// The text a results directory keeps: `text`, or, when the file had a relative
    /// `data_dir`, the file with it made absolute.
    pub stored_text: String,
    pub origin: String,
}

/// `text` with every relative `data_dir` (in `[base]` and in grids) joined to `dir` and made
/// absolute; `None` when there is none to change.
fn resolve_data_dirs(text: &str, dir: &Path, origin: &str) -> Result<Option<String>> {
    let mut doc: Table =
        toml::from_str(text).map_err(|e| crate::config::toml_error(&e, text, origin))?;
    let mut changed = false;
    let mut fix = |v: &mut Value| {
        if let Value::String(s) = v
            && !s.is_empty()
            && Path::new(s.as_str()).is_relative()
        {
            *s = crate::config::absolute_path(&dir.join(s.as_str()));
            changed = true;
        }
    };
    let mut fix_table = |t: &mut Table| {
        if let Some(v) = t.get_mut("data_dir") {
            match v {
                Value::Array(values) => values.iter_mut().for_each(&mut fix),
                v => fix(v),
            }
        }
    };
    for (key, value) in doc.iter_mut() {
        match (key.as_str(), value) {
            ("base" | "grid", Value::Table(t)) => fix_table(t),
            ("grid", Value::Array(list)) => list
                .iter_mut()
                .filter_map(Value::as_table_mut)
                .for_each(&mut fix_table),
            _ => {}
        }
    }
    if !changed {
        return Ok(None);
    }
    toml::to_string(&doc).map(Some).map_err(|e| {
        Error::config(format!(
            "{origin}: cannot write it back with absolute data_dir ({e})"
        ))
    })
}

/// The runs a field applies to, for the fields normalization drops where they do not apply.
fn inapplicable_to(field: &str) -> Option<&'static str> {
    Some(match field {
        "depth" => "model fc",
        "width" => "models fc, simple-cnn, mnas and a net with sizes in units of h",
        "activation" => "models fc, simple-cnn, mnas and net",
        "dim" | "chi" => "dataset depleted-sign",
        "data_dir" => "datasets mnist-parity, cifar-animals, idx, cifar10 and numpy",
        "positive" => "datasets idx, cifar10 and numpy",
        _ => return None,
    })
}

/// `v` with integers (also inside arrays and tables) as floats, for comparing sweeps.
fn number_as_float(v: &Value) -> Value {
    match v {
        Value::Integer(i) => Value::Float(*i as f64),
        Value::Array(a) => Value::Array(a.iter().map(number_as_float).collect()),
        Value::Table(t) => Value::Table(
            t.iter()
                .map(|(k, v)| (k.clone(), number_as_float(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One run of a sweep: its id, its normalized config and its grid point.
#[derive(Clone, Debug)]
pub struct PlannedRun {
    pub id: String,
    pub config: RunConfig,
    pub point: Vec<(String, Value)>,
}

impl PlannedRun {
    /// This run's value on grid axis `axis`, as written in TOML.
    pub fn axis_value(&self, axis: &str) -> Option<String> {
        self.point
            .iter()
            .find(|(k, _)| k == axis)
            .map(|(_, v)| v.to_string())
    }

    /// `temperature=0.001 p=512 seed=2`.
    pub fn describe(&self) -> String {
        self.point
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// 1-based line of the first key `key` in `text` (at the top level or in any table, in the
/// order of the file), from the TOML parser's spans; `None` if there is none or the text does
/// not parse.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    fn first(table: &DeTable, key: &str) -> Option<usize> {
        table.iter().find_map(|(k, v)| {
            if k.get_ref().as_ref() == key {
                return Some(k.span().start);
            }
            match v.get_ref() {
                DeValue::Table(t) => first(t, key),
                DeValue::Array(items) => items.iter().find_map(|item| match item.get_ref() {
                    DeValue::Table(t) => first(t, key),
                    _ => None,
                }),
                _ => None,
            }
        })
    }
    let doc = DeTable::parse(text).ok()?;
    let offset = first(doc.get_ref(), key)?;
    Some(text[..offset].matches('\n').count() + 1)
}

impl SweepSpec {
    /// Read a sweep file. A relative `data_dir` is read from the file's directory (not the
    /// working directory, which changes between a submit and a resume) and becomes absolute,
    /// in the runs and in the copy a results directory keeps (method §4, "Data identity").
    pub fn load(path: &Path) -> Result<Self> {
        // Parsed as written first, so that errors quote the user's lines.
        let spec = Self::load_stored(path)?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let resolved = spec.with_data_dirs_under(dir)?.unwrap_or(spec);
        resolved.with_trainer_under(dir)
    }

    /// This sweep with its external trainer's files read and digested from `dir` (the sweep
    /// file's directory) and that directory recorded, so each run's id covers the trainer's
    /// code (docs/external-trainer.md); unchanged without a `[trainer]` table.
    fn with_trainer_under(self, dir: &Path) -> Result<Self> {
        let Some(table) = self.base.get("trainer") else {
            return Ok(self);
        };
        let at = || {
            line_of(&self.text, "trainer")
                .map_or(self.origin.clone(), |l| format!("{}:{l}", self.origin))
        };
        let trainer: ExternalTrainer = table.clone().try_into().map_err(|e: toml::de::Error| {
            Error::config(format!(
                "{}: [trainer]: {}",
                at(),
                e.message().trim().replace('\n', " ")
            ))
        })?;
        let resolved = trainer
            .resolved_under(dir)
            .map_err(|e| Error::config(format!("{}: {e}", at())))?;
        let mut doc: Table = toml::from_str(&self.stored_text)
            .map_err(|e| crate::config::toml_error(&e, &self.stored_text, &self.origin))?;
        let mut t = match Value::try_from(&resolved) {
            Ok(Value::Table(t)) => t,
            Ok(_) | Err(_) => {
                return Err(Error::config(format!(
                    "{}: cannot write the trainer table back",
                    at()
                )));
            }
        };
        // Kept in the stored copy (not in run ids): where to run and with how many threads.
        t.insert(
            "dir".into(),
            Value::String(resolved.dir.clone().unwrap_or_default()),
        );
        t.insert(
            "threads_per_run".into(),
            Value::Integer(resolved.threads_per_run as i64),
        );
        if let Some(g) = resolved.grace_s {
            t.insert("grace_s".into(), Value::Float(g));
        }
        let as_toml = Value::Table(t);
        doc.insert("trainer".into(), as_toml);
        let text = toml::to_string(&doc).map_err(|e| {
            Error::config(format!(
                "{}: cannot write it back with the trainer's digests ({e})",
                self.origin
            ))
        })?;
        let resolved_spec = Self::parse(&text, &self.origin)?;
        Ok(SweepSpec {
            text: self.text.clone(),
            stored_text: format!(
                "# Copied from {}, with data_dir absolute and the trainer's files digested (docs/external-trainer.md).\n{text}",
                self.origin
            ),
            ..resolved_spec
        })
    }

    /// Read the copy a results directory keeps, as written: its data_dirs are absolute (or,
    /// in a directory made before they were resolved, relative as its runs hashed them).
    pub fn load_stored(path: &Path) -> Result<Self> {
        let text = crate::io::read_text(path, crate::io::MAX_TEXT_FILE, "a sweep file (TOML)")?;
        Self::parse(&text, &path.display().to_string())
    }

    /// This sweep with its relative data_dirs joined to `base` and made absolute, or `None`
    /// if it has none. Messages still quote the file as written (`text`); the copy a results
    /// directory keeps (`stored_text`) is the resolved file, saying so.
    pub fn with_data_dirs_under(&self, base: &Path) -> Result<Option<Self>> {
        let Some(absolute) = resolve_data_dirs(&self.text, base, &self.origin)? else {
            return Ok(None);
        };
        let resolved = Self::parse(&absolute, &self.origin)?;
        Ok(Some(SweepSpec {
            text: self.text.clone(),
            stored_text: format!(
                "# Copied from {}, with data_dir made absolute (relative to that file).\n{absolute}",
                self.origin
            ),
            ..resolved
        }))
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let doc: Table =
            toml::from_str(text).map_err(|e| crate::config::toml_error(&e, text, origin))?;
        let at =
            |key: &str| line_of(text, key).map_or(origin.to_string(), |l| format!("{origin}:{l}"));
        let mut base = Table::new();
        let mut grids: Vec<Grid> = Vec::new();
        let mut regime = None;
        let grid_of = |t: &Table| -> Result<Grid> {
            t.iter()
                .map(|(name, v)| {
                    let values = axis::expand(v)
                        .map_err(|m| Error::config(format!("{}: [grid] {name}: {m}", at(name))))?;
                    Ok((name.clone(), values))
                })
                .collect()
        };
        for (key, value) in &doc {
            match (key.as_str(), value) {
                ("base", Value::Table(t)) => {
                    if t.contains_key("net") && base.contains_key("net") {
                        return Err(Error::config(format!(
                            "{}: the net is given twice, as [net] and in [base]; keep one",
                            at(key)
                        )));
                    }
                    for (k, v) in t {
                        base.insert(k.clone(), v.clone());
                    }
                }
                // A net's layers (method §2.5) in a [net] table of their own, as in a run file.
                ("net", Value::Table(t)) => {
                    if base.contains_key("net") {
                        return Err(Error::config(format!(
                            "{}: the net is given twice, as [net] and in [base]; keep one",
                            at(key)
                        )));
                    }
                    base.insert("net".into(), Value::Table(t.clone()));
                }
                // An external trainer (docs/external-trainer.md): part of every run's config.
                ("trainer", Value::Table(t)) => {
                    base.insert("trainer".into(), Value::Table(t.clone()));
                }
                ("grid", Value::Table(t)) => grids.push(grid_of(t)?),
                ("grid", Value::Array(list)) if list.iter().all(Value::is_table) => {
                    for t in list.iter().filter_map(Value::as_table) {
                        grids.push(grid_of(t)?);
                    }
                }
                ("analysis", Value::Table(t)) => {
                    for (name, v) in t {
                        if name != "regime" {
                            return Err(Error::config(format!(
                                "{}: unknown key `{name}` in [analysis]; it takes regime = \"lazy\" or \"feature\"",
                                at(name)
                            )));
                        }
                        regime = Some(v.clone().try_into::<Regime>().map_err(|_| {
                            Error::config(format!(
                                "{}: [analysis] regime must be \"lazy\" or \"feature\" (got {v})",
                                at(name)
                            ))
                        })?);
                    }
                }
                ("grid", _) => {
                    return Err(Error::config(format!(
                        "{}: `grid` must be a table ([grid]) or a list of tables ([[grid]])",
                        at(key)
                    )));
                }
                ("base" | "analysis" | "net" | "trainer", _) => {
                    return Err(Error::config(format!(
                        "{}: `{key}` must be a table ([{key}])",
                        at(key)
                    )));
                }
                _ => {
                    return Err(Error::config(format!(
                        "{}: unknown top-level key `{key}`; a sweep file has a [base] and a [grid] table (and optionally [net], [trainer] and [analysis])",
                        at(key)
                    )));
                }
            }
        }
        if grids.is_empty() {
            grids.push(Grid::new());
        }
        // A key set twice would be silently overridden by the grid: say so instead.
        for (name, _) in grids.iter().flatten() {
            let overridden: Vec<&str> = if name == "seed" {
                ["seed_init", "seed_batch", "seed_train"]
                    .into_iter()
                    .filter(|k| {
                        base.contains_key(*k) || grids.iter().any(|g| g.iter().any(|(a, _)| a == k))
                    })
                    .collect()
            } else if base.contains_key(name) {
                vec![name.as_str()]
            } else {
                vec![]
            };
            if let Some(k) = overridden.first() {
                let what = if name == "seed" {
                    format!(
                        "[grid] seed sets seed_init, seed_batch and seed_train, so `{k}` is overridden"
                    )
                } else {
                    format!(
                        "`{name}` is both in [base] and in [grid], so the [base] value is never used"
                    )
                };
                return Err(Error::config(format!(
                    "{}: {what}; keep it in one place",
                    at(name)
                )));
            }
        }
        let spec = SweepSpec {
            base,
            grids,
            regime,
            text: text.to_string(),
            stored_text: text.to_string(),
            origin: origin.to_string(),
        };
        let count = spec.grids.iter().try_fold(0usize, |sum, g| {
            g.iter()
                .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len()))
                .and_then(|n| sum.checked_add(n))
        });
        match count {
            Some(n) if n <= MAX_RUNS => Ok(spec),
            _ => Err(Error::config(format!(
                "{origin}: the grid has more than {MAX_RUNS} points"
            ))),
        }
    }

    /// Number of grid points over all grids (before identical runs are merged).
    pub fn grid_size(&self) -> usize {
        self.grids.iter().map(product_size).sum()
    }

    /// Same base and grids (comments, formatting and the spelling of numbers aside: `alpha =
    /// 1` and `alpha = 1.0` give the same runs and ids).
    pub fn same_sweep(&self, other: &SweepSpec) -> bool {
        self.comparable(false) == other.comparable(false)
    }

    /// Same sweep but for the step or wall budget in `[base]`: the runs that finished keep
    /// their results (`sweep::adopt`).
    pub fn same_but_budget(&self, other: &SweepSpec) -> bool {
        self.comparable(true) == other.comparable(true)
    }

    /// Base and grids with every integer written as a float (run configs read both alike),
    /// and without the budget keys if `without_budget`.
    fn comparable(&self, without_budget: bool) -> (Table, Vec<Grid>) {
        let mut base: Table = self
            .base
            .iter()
            .map(|(k, v)| (k.clone(), number_as_float(v)))
            .collect();
        if without_budget {
            base.remove("max_steps");
            base.remove("max_wall");
        }
        // Where an external trainer runs and with how many threads is not what it computes.
        if let Some(Value::Table(t)) = base.get_mut("trainer") {
            for key in ["dir", "threads_per_run", "grace_s"] {
                t.remove(key);
            }
        }
        let grids = self
            .grids
            .iter()
            .map(|g| {
                g.iter()
                    .map(|(k, vs)| (k.clone(), vs.iter().map(number_as_float).collect()))
                    .collect()
            })
            .collect();
        (base, grids)
    }

    /// Every run, normalized and validated, identical runs merged (first occurrence kept).
    pub fn runs(&self) -> Result<Vec<PlannedRun>> {
        let mut runs = Vec::new();
        self.for_each_run(|r| {
            runs.push(r);
            Ok(())
        })?;
        Ok(runs)
    }

    /// The runs of [`Self::runs`] one at a time, holding only their ids (8 bytes each) to
    /// merge identical runs: `sweep plan` of a grid of millions of points stays small.
    pub fn for_each_run(&self, mut f: impl FnMut(PlannedRun) -> Result<()>) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for grid in &self.grids {
            // Axes of several values that no run has used yet: normalization drops a field that
            // does not apply (chi on MNIST), so such an axis would silently merge its runs.
            let mut unused: Vec<usize> = (0..grid.len())
                .filter(|&k| grid[k].1.len() > 1 && inapplicable_to(&grid[k].0).is_some())
                .collect();
            for index in 0..product_size(grid) {
                let mut rem = index;
                let mut point = vec![(String::new(), Value::Boolean(false)); grid.len()];
                for (k, (name, values)) in grid.iter().enumerate().rev() {
                    point[k] = (name.clone(), values[rem % values.len()].clone());
                    rem /= values.len();
                }
                let config = self.config_at(&point)?;
                unused.retain(|&k| config.is_unset(&grid[k].0));
                let key = run_key(&config);
                if seen.insert(key) {
                    f(PlannedRun {
                        id: id_of_key(key),
                        config,
                        point,
                    })?;
                }
            }
            if let Some(&k) = unused.first() {
                let name = &grid[k].0;
                return Err(Error::config(format!(
                    "{}: grid axis `{name}` changes no run: it applies only to {}, and none of this grid's runs is one; remove it or change [base]",
                    self.origin,
                    inapplicable_to(name).unwrap_or_default()
                )));
            }
        }
        Ok(())
    }

    fn config_at(&self, point: &[(String, Value)]) -> Result<RunConfig> {
        let mut table = self.base.clone();
        for (name, value) in point {
            if name == "seed" {
                for field in ["seed_init", "seed_batch", "seed_train"] {
                    table.insert(field.to_string(), value.clone());
                }
            } else if let Some(key) = name.strip_prefix("params.") {
                // An external trainer's own parameter (docs/external-trainer.md).
                let params = table
                    .get_mut("trainer")
                    .and_then(Value::as_table_mut)
                    .map(|t| {
                        t.entry("params")
                            .or_insert_with(|| Value::Table(Table::new()))
                    })
                    .and_then(Value::as_table_mut)
                    .ok_or_else(|| {
                        Error::config(format!(
                            "{}: [grid] {name} varies a trainer parameter, but the file has no [trainer] table",
                            self.origin
                        ))
                    })?;
                if params.contains_key(key) {
                    return Err(Error::config(format!(
                        "{}: `{name}` is both in [trainer.params] and in [grid], so the [trainer.params] value is never used; keep it in one place",
                        self.origin
                    )));
                }
                params.insert(key.to_string(), value.clone());
            } else {
                table.insert(name.clone(), value.clone());
            }
        }
        let describe = || {
            point
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let config: RunConfig = Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                let msg = e.message().trim().replace('\n', " ");
                let field = msg.split('`').nth(1).unwrap_or("");
                let line = line_of(&self.text, field).map_or(String::new(), |l| format!(":{l}"));
                Error::config(format!(
                    "{}{line}: {msg} (at grid point {})",
                    self.origin,
                    describe()
                ))
            })?;
        config.normalized().map_err(|e| match e {
            // The field at fault, found in the file by the parser's spans.
            Error::Config { field, message } => {
                let line = field
                    .and_then(|f| line_of(&self.text, f))
                    .map_or(String::new(), |l| format!(":{l}"));
                Error::Config {
                    field,
                    message: format!(
                        "{}{line}: {message} (at grid point {})",
                        self.origin,
                        describe()
                    ),
                }
            }
            other => other,
        })
    }
}

/// Number of points of one grid (1 for a grid without axes).
fn product_size(grid: &Grid) -> usize {
    grid.iter().map(|(_, v)| v.len()).product()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "[base]\nmodel = \"perceptron\"\ndataset = \"depleted-sign\"\np_test = 64\nalpha = 10.0\nbatch = 2\n\n[grid]\ntemperature = { log2 = [-4, -2], step = 1 }\np = [32, 64]\nseed = [0, 1]\n";

    #[test]
    fn product_in_file_order_with_seed_shorthand() {
        let spec = SweepSpec::parse(FILE, "s.toml").unwrap();
        let runs = spec.runs().unwrap();
        assert_eq!(runs.len(), 12);
        assert_eq!(runs[0].describe(), "temperature=0.0625 p=32 seed=0");
        assert_eq!(runs[1].describe(), "temperature=0.0625 p=32 seed=1");
        assert_eq!(runs[2].describe(), "temperature=0.0625 p=64 seed=0");
        let c = &runs[1].config;
        assert_eq!(
            (c.seed_init, c.seed_batch, c.seed_train, c.seed_test),
            (1, 1, 1, 0)
        );
        assert_eq!(c.temperature, Some(0.0625));
        let ids: std::collections::HashSet<_> = runs.iter().map(|r| &r.id).collect();
        assert_eq!(ids.len(), 12);
    }

    #[test]
    fn identical_runs_are_merged() {
        // `width` does not apply to the perceptron: its two widths normalize to one run, while
        // the fc runs keep both.
        let text = FILE.replace("model = \"perceptron\"\n", "").replace(
            "seed = [0, 1]",
            "width = [8, 16]\nmodel = [\"perceptron\", \"fc\"]",
        );
        let spec = SweepSpec::parse(&text, "s.toml").unwrap();
        assert_eq!(spec.grid_size(), 24);
        assert_eq!(spec.runs().unwrap().len(), 18);
        // Without the fc runs, the axis changes no run: an error, not a silent merge.
        let e = SweepSpec::parse(&FILE.replace("seed = [0, 1]", "width = [8, 16]"), "s.toml")
            .unwrap()
            .runs()
            .unwrap_err()
            .to_string();
        assert!(e.contains("grid axis `width` changes no run"), "{e}");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let e = SweepSpec::parse(
            "[base]\nmodel = \"fc\"\n[grid]\nalpha = { log2 = [1, 0], step = 1 }\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("s.toml:4: [grid] alpha: the range [1, 0] is empty"),
            "{e}"
        );
        let e = SweepSpec::parse("[base]\nlr = 0.1\n[grid]\nalpha = [1.0, -1.0]\n", "s.toml")
            .unwrap()
            .runs()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.toml:4: alpha must be a positive") && e.contains("alpha=-1.0"),
            "{e}"
        );
        let e = SweepSpec::parse("[base]\nlr = 0.1\nalfa = 2\n", "s.toml")
            .unwrap()
            .runs()
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:3: unknown field `alfa`"), "{e}");
        let e = SweepSpec::parse(
            "[base]\nlr = 0.1\n[grid]\nmodel = [\"fc\", \"resnet\"]\n",
            "s.toml",
        )
        .unwrap()
        .runs()
        .unwrap_err()
        .to_string();
        assert!(e.contains("resnet"), "{e}");
        let e = SweepSpec::parse("[bse]\nlr = 0.1\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:1: unknown top-level key `bse`"), "{e}");
        let e = SweepSpec::parse("[base]\nlr = 0.1\n[grid\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:3"), "{e}");
        let e = SweepSpec::parse(
            "[base]\nlr = 0.1\n[grid]\np = { linear = [1, 1e6] }\nseed = { linear = [0, 10] }\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("more than"), "{e}");
    }

    #[test]
    fn keys_set_twice_are_errors_not_silent_overrides() {
        let e = SweepSpec::parse("[base]\np = 64\nlr = 0.1\n[grid]\np = [32, 64]\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.toml:2: `p` is both in [base] and in [grid]"),
            "{e}"
        );
        let e = SweepSpec::parse(
            "[base]\nlr = 0.1\nseed_init = 3\n[grid]\nseed = [0, 1]\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("seed_init` is overridden"), "{e}");
        let e = SweepSpec::parse(
            "[base]\nlr = 0.1\n[grid]\nseed = [0, 1]\nseed_batch = [0, 1]\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("seed_batch` is overridden"), "{e}");
        // Distinct keys are fine, seed_test included (the grid's seed does not set it).
        SweepSpec::parse(
            "[base]\nlr = 0.1\nseed_test = 4\n[grid]\nseed = [0, 1]\n",
            "s.toml",
        )
        .unwrap();
    }

    #[test]
    fn a_union_of_grids_concatenates_and_merges() {
        // The main grid, then lower temperatures for the larger P only; the point
        // (T = 2^-2, P = 64, seed 0) is in both and runs once.
        let text = FILE.replace("[grid]\n", "[[grid]]\n")
            + "\n[[grid]]\ntemperature = { log2 = [-6, -2], step = 4 }\np = [64]\nseed = [0]\n";
        let spec = SweepSpec::parse(&text, "s.toml").unwrap();
        assert_eq!(spec.grids.len(), 2);
        assert_eq!(spec.grid_size(), 12 + 2);
        let runs = spec.runs().unwrap();
        assert_eq!(runs.len(), 13);
        assert_eq!(
            runs[12].describe(),
            "temperature=0.015625 p=64 seed=0",
            "the second grid's new point comes last"
        );
        // One [grid] table and the same grid as a one-entry [[grid]] list are the same sweep.
        let one = SweepSpec::parse(&FILE.replace("[grid]\n", "[[grid]]\n"), "t").unwrap();
        assert!(one.same_sweep(&SweepSpec::parse(FILE, "u").unwrap()));
        assert!(!one.same_sweep(&spec));
        // Keys set twice are caught in any grid; a grid that is not a table is an error.
        let e = SweepSpec::parse(&format!("{text}\n[[grid]]\nbatch = [2]\n"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`batch` is both in [base] and in [grid]"), "{e}");
        let e = SweepSpec::parse("grid = [1, 2]\n[base]\nlr = 0.1\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.toml:1: `grid` must be a table ([grid]) or a list"),
            "{e}"
        );
    }

    #[test]
    fn same_sweep_ignores_formatting() {
        let a = SweepSpec::parse(FILE, "a").unwrap();
        let b =
            SweepSpec::parse(&format!("# a comment\n{}", FILE.replace(" = ", "=")), "b").unwrap();
        assert!(a.same_sweep(&b));
        let c = SweepSpec::parse(&FILE.replace("seed = [0, 1]", "seed = [0, 2]"), "c").unwrap();
        assert!(!a.same_sweep(&c));
    }

    /// Issue #23, case 14: `alpha = 1` and `alpha = 1.0` are one sweep (their runs have the
    /// same ids), in `[base]` and in grid lists alike; 1 and 2 are not.
    #[test]
    fn the_spelling_of_a_number_does_not_make_another_sweep() {
        let one = "[base]\nlr = 0.1\nalpha = 1\n[grid]\np = [32, 64]\nwidth = [8, 16]\n";
        let a = SweepSpec::parse(one, "a").unwrap();
        let b = SweepSpec::parse(&one.replace("alpha = 1", "alpha = 1.0"), "b").unwrap();
        let c = SweepSpec::parse(&one.replace("[8, 16]", "[8.0, 16]"), "c").unwrap();
        assert!(a.same_sweep(&b) && a.same_sweep(&c) && a.same_but_budget(&b));
        let ids = |s: &SweepSpec| -> Vec<String> {
            s.runs().unwrap().into_iter().map(|r| r.id).collect()
        };
        assert_eq!(ids(&a), ids(&b));
        let d = SweepSpec::parse(&one.replace("alpha = 1", "alpha = 2"), "d").unwrap();
        assert!(!a.same_sweep(&d) && !a.same_but_budget(&d));
    }

    /// A `[trainer]` table (docs/external-trainer.md): its files digested when the file is
    /// read, its params passed through, and the stored copy planning the same runs.
    #[test]
    fn a_trainer_table_is_digested_and_its_stored_copy_plans_the_same_runs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.py"), "print('hi')\n").unwrap();
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "[trainer]\ncommand = [\"python3\", \"train.py\"]\nfiles = [\"train.py\"]\nthreads_per_run = 2\n[trainer.params]\nlayers = 18\nopt = \"sgd\"\n[base]\nlr = 0.1\np = 64\n[grid]\nseed = [0, 1]\n",
        )
        .unwrap();
        let spec = SweepSpec::load(&file).unwrap();
        let runs = spec.runs().unwrap();
        let t = runs[0].config.trainer.as_ref().unwrap();
        assert_eq!(
            t.files,
            vec![crate::config::trainer::TrainerFile::Digested {
                path: "train.py".into(),
                sha256: crate::data::fetch::sha256_file(&dir.path().join("train.py")).unwrap(),
            }]
        );
        assert_eq!(t.threads_per_run, 2);
        assert_eq!(t.params["layers"], serde_json::json!(18));
        assert_eq!(t.params["opt"], serde_json::json!("sgd"));
        let dir_abs = crate::config::absolute_path(dir.path());
        assert_eq!(t.dir.as_deref(), Some(dir_abs.as_str()));
        // The copy a results directory keeps reads back as the same sweep, with the same runs.
        let stored = dir.path().join("stored.toml");
        std::fs::write(&stored, &spec.stored_text).unwrap();
        let again = SweepSpec::load(&stored).unwrap();
        assert!(again.same_sweep(&spec));
        let ids = |s: &SweepSpec| -> Vec<String> {
            s.runs().unwrap().into_iter().map(|r| r.id).collect()
        };
        assert_eq!(ids(&again), ids(&spec));
        assert_eq!(
            again.runs().unwrap()[0]
                .config
                .trainer
                .as_ref()
                .unwrap()
                .dir,
            t.dir
        );
        // The params are part of the id.
        std::fs::write(
            &file,
            std::fs::read_to_string(&file).unwrap().replace("18", "34"),
        )
        .unwrap();
        assert_ne!(ids(&SweepSpec::load(&file).unwrap()), ids(&spec));
    }

    /// Lines come from the parser's spans: the first key of that name in the file's order,
    /// in a table, a table header, an array of tables or an inline table; never a comment or
    /// a string that happens to contain it.
    #[test]
    fn line_of_finds_keys_by_their_spans() {
        let text = "# alpha = 3 in a comment\n[base]\nnote = \"alpha = 2\"\nlr = 0.1\n\n[[grid]]\np = [1, 2]\n[[grid]]\nalpha = [1, 2]\n[trainer]\nparams = { width = 3 }\n";
        assert_eq!(line_of(text, "alpha"), Some(9));
        assert_eq!(line_of(text, "lr"), Some(4));
        assert_eq!(line_of(text, "grid"), Some(6));
        assert_eq!(line_of(text, "trainer"), Some(10));
        assert_eq!(line_of(text, "width"), Some(11));
        assert_eq!(line_of(text, "chi"), None);
        assert_eq!(line_of("[base\n", "base"), None, "text that does not parse");
        // A config error names the line of its field.
        let text = "[base]\n# alpha = 1 is the default\nlr = 0.1\nalpha = -1\n";
        let e = SweepSpec::parse(text, "s.toml")
            .unwrap()
            .runs()
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:4: alpha must be a positive"), "{e}");
    }
}
