//! Gathering a sweep's results into one table (method §4), rows in sweep order, built here
//! where the results are read.
//!
//! Columns: `run_id`, the config fields (with `temperature` and `lr` the effective values,
//! and `given` saying which one the config set), `margin`, `n_params`, `status`,
//! `status_detail`, `t_star` (`t` of a converged run, else empty), the final observables,
//! `weight_change.<layer>` and `weight_norm.<layer>` per parameter segment, the work counters,
//! `wall_s`, `version`, and an external trainer's own observables by name.

use super::spec::PlannedRun;
use super::store::{FailureRecord, RunStore, Stored};
use crate::config::Loss;
use crate::error::Result;
use crate::table::{Cell, Table};
use crate::train::result::{RunResult, Status};
use serde_json::Value;

/// The table of every finished or failed run of `runs`, and how many are missing.
pub fn collect(store: &RunStore, runs: &[PlannedRun]) -> Result<(Table, usize)> {
    let mut t = Table::default();
    let mut missing = 0;
    for r in runs {
        match store.load(&r.id)? {
            Stored::Done(result) => t.push(result_row(&r.id, &result)),
            Stored::Failed(f) => t.push(failure_row(&r.id, &f)),
            Stored::Missing => missing += 1,
        }
    }
    Ok((t, missing))
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
