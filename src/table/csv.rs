//! CSV: a header row, then one row per run; empty fields are nulls. Floats are written in
//! their shortest round-trip form, so reading them back gives the same bits.

use super::{Cell, Table, TableWriter};
use crate::error::{Error, Result};

pub struct CsvWriter;

impl TableWriter for CsvWriter {
    fn encode(&self, table: &Table) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| Error::encode("CSV", e);
        w.write_record(&table.columns).map_err(err)?;
        for row in &table.rows {
            w.write_record(row.iter().map(|c| match c {
                Cell::Null => String::new(),
                Cell::Bool(b) => b.to_string(),
                Cell::Int(i) => i.to_string(),
                Cell::Float(f) => format!("{f:?}"),
                Cell::Str(s) => s.clone(),
            }))
            .map_err(err)?;
        }
        w.into_inner().map_err(|e| Error::encode("CSV", e))
    }
}
