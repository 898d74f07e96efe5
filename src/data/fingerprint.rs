//! What a run's data *is*, not where it lies (method §4, "Data identity"): the files a data
//! set was read from, each with its size and SHA-256. Computed once per process per data
//! directory (with the pool, `data::cached_pool`), recorded in every result (`derived.data_files`)
//! and, per results directory, in `data.json`, so a sweep resumed on changed files is refused
//! with the name of the file instead of mixing runs on two data sets.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One file of a data set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// The file's path as it was read (absolute when the data directory is).
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Size and digest of each of `files`.
pub fn of_files(files: &[PathBuf]) -> Result<Vec<DataFile>> {
    files
        .iter()
        .map(|p| {
            let bytes = std::fs::metadata(p).map_err(|e| Error::io(p, e))?.len();
            Ok(DataFile {
                path: p.display().to_string(),
                bytes,
                sha256: super::fetch::sha256_file(p)?,
            })
        })
        .collect()
}

/// The file of a results directory recording the data its runs were trained on.
pub const RECORD_FILE: &str = "data.json";

/// Per data directory (as runs name it), its files when the directory's first run started.
pub type Record = BTreeMap<String, Vec<DataFile>>;

/// Check `current` (the files of `data_dir` now) against what `results` recorded for it, and
/// record it if nothing was. An error names the first file that differs and the fix.
pub fn check_and_record(results: &Path, data_dir: &str, current: &[DataFile]) -> Result<()> {
    let path = results.join(RECORD_FILE);
    let mut record: Record = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            Error::data(
                &path,
                format!("not a data record ({e}); delete it to record the data anew"),
            )
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Record::new(),
        Err(e) => return Err(Error::io(&path, e)),
    };
    if let Some(then) = record.get(data_dir) {
        return match difference(then, current) {
            None => Ok(()),
            Some(what) => Err(Error::data(
                &what.0,
                format!(
                    "{} since the runs in {} were made; restore the data they were trained on, or use a new --results directory",
                    what.1,
                    results.display()
                ),
            )),
        };
    }
    record.insert(data_dir.to_string(), current.to_vec());
    let text = serde_json::to_string_pretty(&record)
        .map_err(|e| Error::encode("the data record as JSON", e))?;
    crate::io::write_atomic(&path, format!("{text}\n").as_bytes())
}

/// The first file that differs between two fingerprints, and how.
fn difference(then: &[DataFile], now: &[DataFile]) -> Option<(String, String)> {
    for old in then {
        match now.iter().find(|f| f.path == old.path) {
            None => return Some((old.path.clone(), "is gone".into())),
            Some(new) if new.bytes != old.bytes => {
                return Some((
                    old.path.clone(),
                    format!("changed size ({} bytes, then {})", new.bytes, old.bytes),
                ));
            }
            Some(new) if new.sha256 != old.sha256 => {
                return Some((old.path.clone(), "changed content (SHA-256 differs)".into()));
            }
            Some(_) => {}
        }
    }
    now.iter()
        .find(|f| !then.iter().any(|old| old.path == f.path))
        .map(|f| {
            (
                f.path.clone(),
                "is new (the runs were trained without it)".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_missing_or_new_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a.gz"), tmp.path().join("b.gz"));
        std::fs::write(&a, b"one").unwrap();
        std::fs::write(&b, b"two").unwrap();
        let results = tmp.path().join("r");
        std::fs::create_dir(&results).unwrap();
        let files = of_files(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(files[0].bytes, 3);
        check_and_record(&results, "/d", &files).unwrap();
        check_and_record(&results, "/d", &files).unwrap();
        // Another data directory is recorded beside it.
        check_and_record(&results, "/e", &files[..1]).unwrap();

        std::fs::write(&b, b"tw0").unwrap();
        let e = check_and_record(&results, "/d", &of_files(&[a.clone(), b.clone()]).unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("{}: changed content", b.display()))
                && e.contains("use a new --results directory"),
            "{e}"
        );
        std::fs::write(&b, b"three").unwrap();
        let e = check_and_record(&results, "/d", &of_files(&[a.clone(), b.clone()]).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("changed size (5 bytes, then 3)"), "{e}");
        let e = check_and_record(&results, "/d", &of_files(std::slice::from_ref(&a)).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(&format!("{}: is gone", b.display())), "{e}");
        let e = check_and_record(&results, "/e", &files)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is new"), "{e}");
    }
}
