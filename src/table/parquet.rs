//! Parquet through Arrow: one record batch, nullable typed columns (Int64, Float64, Boolean,
//! Utf8) as inferred by [`Table::column_type`].

use super::{Cell, ColumnType, Table, TableWriter};
use crate::error::{Error, Result};
use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use std::sync::Arc;

pub struct ParquetWriter;

fn column(table: &Table, k: usize) -> (DataType, ArrayRef) {
    let cells = table.rows.iter().map(|r| &r[k]);
    match table.column_type(k) {
        ColumnType::Bool => {
            let mut b = BooleanBuilder::new();
            cells.for_each(|c| {
                b.append_option(if let Cell::Bool(x) = c {
                    Some(*x)
                } else {
                    None
                })
            });
            (DataType::Boolean, Arc::new(b.finish()))
        }
        ColumnType::Int => {
            let mut b = Int64Builder::new();
            cells.for_each(|c| b.append_option(if let Cell::Int(x) = c { Some(*x) } else { None }));
            (DataType::Int64, Arc::new(b.finish()))
        }
        ColumnType::Float => {
            let mut b = Float64Builder::new();
            cells.for_each(|c| {
                b.append_option(match c {
                    Cell::Float(x) => Some(*x),
                    Cell::Int(x) => Some(*x as f64),
                    _ => None,
                })
            });
            (DataType::Float64, Arc::new(b.finish()))
        }
        ColumnType::Str => {
            let mut b = StringBuilder::new();
            cells.for_each(|c| match c {
                Cell::Null => b.append_null(),
                Cell::Str(s) => b.append_value(s),
                Cell::Bool(x) => b.append_value(x.to_string()),
                Cell::Int(x) => b.append_value(x.to_string()),
                Cell::Float(x) => b.append_value(format!("{x:?}")),
            });
            (DataType::Utf8, Arc::new(b.finish()))
        }
    }
}

impl TableWriter for ParquetWriter {
    fn encode(&self, table: &Table) -> Result<Vec<u8>> {
        let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = (0..table.columns.len())
            .map(|k| {
                let (dtype, array) = column(table, k);
                (Field::new(&table.columns[k], dtype, true), array)
            })
            .unzip();
        let schema = Arc::new(Schema::new(fields));
        let err = |e: String| Error::encode("Parquet", e);
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| err(e.to_string()))?;
        let mut out = Vec::new();
        let mut writer =
            ArrowWriter::try_new(&mut out, schema, None).map_err(|e| err(e.to_string()))?;
        writer.write(&batch).map_err(|e| err(e.to_string()))?;
        writer.close().map_err(|e| err(e.to_string()))?;
        Ok(out)
    }
}
