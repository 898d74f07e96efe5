//! A table of typed columns, written as CSV or Parquet (one file per format behind
//! [`TableWriter`]); `sweep::collect` fills it with one row per run.

mod csv;
mod parquet;

pub use self::csv::CsvWriter;
pub use self::parquet::ParquetWriter;

use crate::error::{Error, Result};
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
