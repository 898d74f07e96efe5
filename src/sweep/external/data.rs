//! The training and test sets of a run, written for an external trainer
//! (docs/external-trainer.md, "Data"): one uncompressed `.npz` with `x_train` (P x h x w x c,
//! float32, standardized as the built-in trainer sees it), `y_train` (P, float32, ±1),
//! `x_test` and `y_test` likewise. The same config gives the same points, bit for bit, as the
//! built-in trainer trains on.

use crate::data::Split;
use npyz::WriterBuilder;
use std::io::Write;
use std::path::Path;

/// Write `split` to `path` as an `.npz` archive (stored, not deflated: it is read once, soon).
pub fn write_npz(split: &Split, path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, set) in [("train", &split.train), ("test", &split.test)] {
        let n = set.len() as u64;
        let [h, w, c] = set.shape.map(|v| v as u64);
        zip.start_file(format!("x_{name}.npy"), options)
            .map_err(std::io::Error::other)?;
        write_array(&mut zip, &[n, h, w, c], &set.x)?;
        zip.start_file(format!("y_{name}.npy"), options)
            .map_err(std::io::Error::other)?;
        write_array(&mut zip, &[n], &set.y)?;
    }
    // No fsync: a scratch file, read once by the trainer, and written again if lost.
    zip.finish().map_err(std::io::Error::other)?.flush()
}

fn write_array(out: &mut impl Write, shape: &[u64], values: &[f32]) -> std::io::Result<()> {
    // npyz writes the header; the data is little-endian f32 ('<f4'), written as one block
    // (npyz's element-by-element writes into the archive, which checksums every write, took
    // 4x longer for 25 MB).
    let out = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(shape)
        .writer(out)
        .write_header_only()?;
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    out.write_all(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Dataset;

    #[test]
    fn an_npz_written_reads_back_with_the_same_arrays() {
        let set = |n: usize, v: f32| Dataset {
            x: (0..n * 12).map(|i| i as f32 * v).collect(),
            y: (0..n)
                .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
                .collect(),
            shape: [2, 2, 3],
        };
        let split = Split {
            train: set(5, 0.5),
            test: set(3, -1.25),
            source: "test".into(),
            files: vec![],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.npz");
        write_npz(&split, &path).unwrap();
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut array = |name: &str| {
            let npy = npyz::NpyFile::new(zip.by_name(name).unwrap()).unwrap();
            (npy.shape().to_vec(), npy.into_vec::<f32>().unwrap())
        };
        assert_eq!(
            array("x_train.npy"),
            (vec![5, 2, 2, 3], split.train.x.clone())
        );
        assert_eq!(array("y_test.npy"), (vec![3], split.test.y.clone()));
        assert_eq!(array("y_train.npy").1, split.train.y);
    }
}
