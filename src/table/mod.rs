//! One row per run (method §4): every config field and every final observable, with typed
//! columns, written as CSV or Parquet (one file per format behind [`TableWriter`]).
//!
//! Columns: `run_id`, the config fields (with `temperature` and `lr` the effective values,
//! and `given` saying which one the config set), `margin`, `n_params`, `status`,
//! `status_detail`, `t_star` (`t` of a converged run, else empty), the final observables,
//! `weight_change.<layer>` and `weight_norm.<layer>` per parameter segment, an external
//! trainer's own observables by name, the work counters, `wall_s` and `version`.

mod csv;
mod parquet;

pub use self::csv::CsvWriter;
pub use self::parquet::ParquetWriter;

use crate::config::Loss;
use crate::error::{Error, Result};
use crate::sweep::store::FailureRecord;
use crate::train::result::{RunResult, Status};
use serde_json::Value;
use std::path::Path;

/// One value of the table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// The type of a column, inferred from its cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Bool,
    Int,
    Float,
    Str,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A table file format.
pub trait TableWriter {
    /// Encode the whole table.
    fn encode(&self, table: &Table) -> Result<Vec<u8>>;
}

/// The writer for a path's extension (`.csv` or `.parquet`).
pub fn writer_for(path: &Path) -> Result<Box<dyn TableWriter>> {
    let ext = path.extension().and_then(|e| e.to_str());
    match ext.map(str::to_ascii_lowercase).as_deref() {
        Some("csv") => Ok(Box::new(CsvWriter)),
        Some("parquet" | "pq") => Ok(Box::new(ParquetWriter)),
        _ => Err(Error::data(
            path,
            "unknown table format; use a .csv or .parquet file name",
        )),
    }
}

/// Write `table` to `path` (format from the extension), atomically.
pub fn write(table: &Table, path: &Path) -> Result<()> {
    let bytes = writer_for(path)?.encode(table)?;
    crate::io::write_atomic(path, &bytes)
}

impl Table {
    /// Add a row given as (column, value) pairs; new columns are appended.
    pub fn push(&mut self, cells: Vec<(String, Cell)>) {
        let mut row = vec![Cell::Null; self.columns.len()];
        for (name, cell) in cells {
            match self.columns.iter().position(|c| *c == name) {
                Some(k) => row[k] = cell,
                None => {
                    self.columns.push(name);
                    for r in &mut self.rows {
                        r.push(Cell::Null);
                    }
                    row.push(cell);
                }
            }
        }
        self.rows.push(row);
    }

    /// Integers if every non-null cell is an integer, floats if every one is a number,
    /// booleans if all are booleans, text otherwise (also for an all-null column).
    pub fn column_type(&self, k: usize) -> ColumnType {
        let cells = || {
            self.rows
                .iter()
                .map(|r| &r[k])
                .filter(|c| **c != Cell::Null)
        };
        if cells().next().is_none() {
            return ColumnType::Str;
        }
        if cells().all(|c| matches!(c, Cell::Bool(_))) {
            ColumnType::Bool
        } else if cells().all(|c| matches!(c, Cell::Int(_))) {
            ColumnType::Int
        } else if cells().all(|c| matches!(c, Cell::Int(_) | Cell::Float(_))) {
            ColumnType::Float
        } else {
            ColumnType::Str
        }
    }
}

fn cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Int(i),
            None => n.as_f64().map_or(Cell::Null, Cell::Float),
        },
        Value::String(s) => Cell::Str(s.clone()),
        other => Cell::Str(other.to_string()),
    }
}

fn float(x: f64) -> Cell {
    if x.is_finite() {
        Cell::Float(x)
    } else {
        Cell::Null
    }
}

fn config_cells(run_id: &str, config: &crate::config::RunConfig) -> Vec<(String, Cell)> {
    let mut cells = vec![("run_id".to_string(), Cell::Str(run_id.to_string()))];
    if let Value::Object(map) = serde_json::to_value(config).expect("a config serializes") {
        for (k, v) in map {
            cells.push((k, cell(&v)));
        }
    }
    let given = if config.temperature.is_some() {
        "temperature"
    } else {
        "lr"
    };
    for (name, c) in cells.iter_mut() {
        match name.as_str() {
            "temperature" => *c = float(config.temperature_value()),
            "lr" => *c = float(config.learning_rate()),
            _ => {}
        }
    }
    // Unset in a normalized hinge config (so its id stays as it was); a column in every row.
    if config.loss.is_none() {
        cells.push(("loss".into(), Cell::Str(Loss::Hinge.to_string())));
    }
    cells.push(("given".into(), Cell::Str(given.into())));
    cells.push(("margin".into(), float(config.margin())));
    cells
}

/// The row of a finished run.
pub fn result_row(run_id: &str, r: &RunResult) -> Vec<(String, Cell)> {
    let mut cells = config_cells(run_id, &r.config);
    cells.push(("n_params".into(), Cell::Int(r.derived.n_params as i64)));
    cells.push(("status".into(), Cell::Str(r.status.to_string())));
    cells.push(("status_detail".into(), Cell::Str(r.status_detail.clone())));
    let f = &r.final_state;
    cells.push((
        "t_star".into(),
        if r.status == Status::Converged {
            float(f.t)
        } else {
            Cell::Null
        },
    ));
    if let Value::Object(map) = serde_json::to_value(f).expect("observables serialize") {
        for (k, v) in map {
            if k != "layers" && k != "extra" {
                cells.push((k, cell(&v)));
            }
        }
    }
    for layer in &f.layers {
        cells.push((
            format!("weight_change.{}", layer.name),
            float(layer.weight_change),
        ));
        cells.push((
            format!("weight_norm.{}", layer.name),
            float(layer.weight_norm),
        ));
    }
    // Cross-entropy runs: where the run stopped, beside the checkpoint of lowest test error.
    if let Some(sp) = &r.stopping_point {
        for (k, v) in [
            ("stop_t", sp.t),
            ("stop_train_error", sp.train_error),
            ("stop_test_error", sp.test_error),
            ("stop_weight_change", sp.weight_change),
        ] {
            cells.push((k.into(), float(v)));
        }
        cells.push(("stop_step".into(), Cell::Int(sp.step as i64)));
    }
    let c = &r.counters;
    for (k, v) in [
        ("steps_simulated", c.steps_simulated),
        ("updates", c.updates),
        ("skipped_steps", c.skipped_steps),
        ("checks", c.checks),
        ("check_points", c.check_points),
    ] {
        cells.push((k.into(), Cell::Int(v as i64)));
    }
    cells.push(("wall_s".into(), float(r.timing.wall_s)));
    cells.push(("version".into(), Cell::Str(r.version.clone())));
    // An external trainer's own observables (docs/external-trainer.md), by their names; a
    // name another column already has gets the prefix `extra.`.
    for (name, v) in &r.final_state.extra {
        let taken = cells.iter().any(|(c, _)| c == name);
        let column = if taken {
            format!("extra.{name}")
        } else {
            name.clone()
        };
        cells.push((column, float(*v)));
    }
    cells
}

/// The row of a run that ended in an error: its config, status `failed` and the message.
pub fn failure_row(run_id: &str, f: &FailureRecord) -> Vec<(String, Cell)> {
    let mut cells = config_cells(run_id, &f.config);
    cells.push((
        "status".into(),
        Cell::Str(crate::sweep::status::RunState::Failed.as_str().into()),
    ));
    cells.push(("status_detail".into(), Cell::Str(f.error.clone())));
    cells.push(("version".into(), Cell::Str(f.version.clone())));
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_union_and_types() {
        let mut t = Table::default();
        t.push(vec![
            ("a".into(), Cell::Int(1)),
            ("b".into(), Cell::Float(0.5)),
        ]);
        t.push(vec![
            ("a".into(), Cell::Int(2)),
            ("c".into(), Cell::Str("x".into())),
            ("b".into(), Cell::Int(3)),
        ]);
        assert_eq!(t.columns, vec!["a", "b", "c"]);
        assert_eq!(t.rows[0], vec![Cell::Int(1), Cell::Float(0.5), Cell::Null]);
        assert_eq!(
            t.rows[1],
            vec![Cell::Int(2), Cell::Int(3), Cell::Str("x".into())]
        );
        assert_eq!(
            (t.column_type(0), t.column_type(1), t.column_type(2)),
            (ColumnType::Int, ColumnType::Float, ColumnType::Str)
        );
        assert!(writer_for(Path::new("t.xlsx")).is_err());
    }
}
