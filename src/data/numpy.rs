//! `numpy` data sets (method §3): arrays saved by NumPy, read with the `npyz` crate.
//!
//! `data_dir` is a `.npz` file (`np.savez`) or a directory of `.npy` files (`np.save`) holding
//! inputs `x` and classes `y`, either as `x`/`y` or as `x_train`/`y_train` and optionally
//! `x_test`/`y_test` (Keras' layout), pooled train first. `x` is `n x h x w`, `n x h x w x c`
//! (HWC) or `n x d` (vectors, shape `[1, 1, d]`), `uint8` or `float32`, C order; `y` holds `n`
//! integer classes (any integer dtype, or floats with integral values). A label map chooses the
//! `+1` classes; inputs are standardized by the mean and standard deviation of every value of
//! the pool.

use super::labels::LabelMap;
use super::split::Pool;
use crate::error::{Error, Result};
use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest array read, in bytes (the size of the largest IDX set the tool reads).
pub const MAX_ARRAY_BYTES: u64 = 4 << 30;

/// The array names tried, in order: one pair, or a training and an optional test pair.
const PAIRS: [[&str; 2]; 3] = [["x", "y"], ["x_train", "y_train"], ["x_test", "y_test"]];

/// The pool of the arrays at `path` (a `.npz` file or a directory of `.npy` files).
pub fn load(path: &Path, map: &LabelMap) -> Result<Pool> {
    let fix = "pass --data-dir with a .npz file or a directory holding x.npy and y.npy";
    if !path.exists() {
        return Err(Error::data(path, format!("does not exist; {fix}")));
    }
    let mut source = Source::open(path)?;
    let mut pool = Pool {
        source: path.display().to_string(),
        mean: 0.0,
        std: 1.0,
        ..Pool::default()
    };
    let found: Vec<[&str; 2]> = if source.has("x") {
        vec![PAIRS[0]]
    } else {
        PAIRS[1..]
            .iter()
            .copied()
            .filter(|[x, _]| source.has(x))
            .collect()
    };
    if found.is_empty() || (found[0][0] == "x_test" && !source.has("x_train")) {
        return Err(Error::data(
            path,
            format!(
                "no inputs here: expected arrays x and y (or x_train and y_train){}; {fix}",
                source.listing()
            ),
        ));
    }
    for [x_name, y_name] in found {
        let x = source.array(x_name)?;
        let y = source.array(y_name)?;
        append(&mut pool, x, y)?;
    }
    pool.files = source.files();
    pool.label_with(map)?;
    pool.standardize_by_own_moments();
    Ok(pool)
}

/// The pool held by a `.npz` file's bytes (for the fuzz target), labelled with `[0]`.
pub fn npz_from_bytes(bytes: &[u8]) -> Result<Pool> {
    let origin = "fuzz.npz";
    let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| not_npz(origin, &e))?;
    let mut source = Source::Npz {
        path: PathBuf::from(origin),
        zip,
    };
    let mut pool = Pool::default();
    let x = source.array("x")?;
    let y = source.array("y")?;
    append(&mut pool, x, y)?;
    pool.label_with(&LabelMap::new(&[0]))?;
    pool.standardize_by_own_moments();
    Ok(pool)
}

/// The pool of one `.npy` input file and one `.npy` class file (for the fuzz target).
pub fn npy_pair_from_bytes(x: &[u8], y: &[u8]) -> Result<Pool> {
    let mut pool = Pool::default();
    let x = parse(x, "x.npy")?;
    let y = parse(y, "y.npy")?;
    append(&mut pool, x, y)?;
    pool.label_with(&LabelMap::new(&[0]))?;
    Ok(pool)
}

/// Where the arrays are: a `.npz` archive or a directory of `.npy` files.
enum Source {
    Npz {
        path: PathBuf,
        zip: zip::ZipArchive<std::io::Cursor<Vec<u8>>>,
    },
    Dir {
        path: PathBuf,
        read: Vec<PathBuf>,
    },
}

fn not_npz(origin: &str, e: &dyn std::fmt::Display) -> Error {
    Error::data(
        origin,
        format!(
            "not a readable .npz file ({}); save it with np.savez(path, x=..., y=...)",
            super::printable(&e.to_string())
        ),
    )
}

impl Source {
    fn open(path: &Path) -> Result<Source> {
        if path.is_dir() {
            return Ok(Source::Dir {
                path: path.to_path_buf(),
                read: Vec::new(),
            });
        }
        let bytes = read_bounded(path)?;
        let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| not_npz(&path.display().to_string(), &e))?;
        Ok(Source::Npz {
            path: path.to_path_buf(),
            zip,
        })
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Source::Npz { zip, .. } => zip.index_for_name(&format!("{name}.npy")).is_some(),
            Source::Dir { path, .. } => path.join(format!("{name}.npy")).is_file(),
        }
    }

    /// What the source holds, for an error: `" (found: a, b)"`.
    fn listing(&self) -> String {
        let names: Vec<String> = match self {
            Source::Npz { zip, .. } => zip
                .file_names()
                .flatten()
                .map(|n| super::printable(&n))
                .collect(),
            Source::Dir { path, .. } => std::fs::read_dir(path)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .map(|e| super::printable(&e.file_name().to_string_lossy()))
                        .filter(|n| n.ends_with(".npy") || n.ends_with(".npz"))
                        .collect()
                })
                .unwrap_or_default(),
        };
        if names.is_empty() {
            String::new()
        } else {
            let mut names = names;
            names.sort();
            names.truncate(8);
            format!(" (found: {})", names.join(", "))
        }
    }

    fn array(&mut self, name: &str) -> Result<Array> {
        let file = format!("{name}.npy");
        match self {
            Source::Npz { path, zip } => {
                let origin = format!("{}:{file}", path.display());
                let mut entry = zip.by_name(&file).map_err(|_| {
                    Error::data(
                        &*path,
                        format!("has no array {name}; save both x and y in it (np.savez(path, x=..., y=...))"),
                    )
                })?;
                if entry.size() > MAX_ARRAY_BYTES {
                    return Err(too_large(&origin, entry.size()));
                }
                let mut bytes = Vec::new();
                (&mut entry)
                    .take(MAX_ARRAY_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| not_npz(&origin, &e))?;
                parse(&bytes, &origin)
            }
            Source::Dir { path, read } => {
                let p = path.join(&file);
                if !p.is_file() {
                    return Err(Error::data(
                        &p,
                        format!(
                            "missing; save it beside the other arrays with np.save(\"{file}\", {name})"
                        ),
                    ));
                }
                let bytes = read_bounded(&p)?;
                read.push(p.clone());
                parse(&bytes, &p.display().to_string())
            }
        }
    }

    /// The files the pool was read from.
    fn files(&self) -> Vec<PathBuf> {
        match self {
            Source::Npz { path, .. } => vec![path.clone()],
            Source::Dir { read, .. } => read.clone(),
        }
    }
}

fn too_large(origin: &str, size: u64) -> Error {
    Error::data(
        origin,
        format!(
            "{size} bytes is more than the {} GiB an array may have here",
            MAX_ARRAY_BYTES >> 30
        ),
    )
}

/// A regular file of at most [`MAX_ARRAY_BYTES`], read whole.
fn read_bounded(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::data(path, "is not a regular file"));
    }
    if meta.len() > MAX_ARRAY_BYTES {
        return Err(too_large(&path.display().to_string(), meta.len()));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_ARRAY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

/// An array's values, in the one form each kind is kept in.
enum Values {
    Bytes(Vec<u8>),
    Floats(Vec<f32>),
    Classes(Vec<i64>),
}

struct Array {
    origin: String,
    shape: Vec<usize>,
    values: Values,
}

/// Parse one `.npy` file's bytes. The header is `npyz`'s; the sizes it announces are checked
/// against the bytes present before anything is allocated from them.
fn parse(bytes: &[u8], origin: &str) -> Result<Array> {
    let bad = |m: String| Error::data(origin, m);
    let mut rest = bytes;
    let header = NpyHeader::from_reader(&mut rest).map_err(|e| {
        bad(format!(
            "not a .npy file ({}); save it with np.save",
            super::printable(&e.to_string())
        ))
    })?;
    if header.order() == Order::Fortran {
        return Err(bad(
            "is in Fortran order; save np.ascontiguousarray(a) instead".into(),
        ));
    }
    let DType::Plain(ts) = header.dtype() else {
        return Err(bad(format!(
            "has a structured dtype ({}); save a plain numeric array",
            super::printable(&header.dtype().descr())
        )));
    };
    let shape: Vec<usize> = header
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<_>>()
        .ok_or_else(|| bad("impossible sizes".into()))?;
    let item = ts.num_bytes().unwrap_or(0);
    let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let expected = count.and_then(|c| c.checked_mul(item));
    if expected != Some(rest.len()) {
        return Err(bad(format!(
            "header announces shape {shape:?} of {} but the file holds {} bytes of data; the file is truncated or corrupt",
            super::printable(&ts.to_string()),
            rest.len()
        )));
    }
    let read_err = |e: std::io::Error| bad(format!("unreadable data ({e})"));
    let file = NpyFile::with_header(header, rest);
    let values = match (ts.type_char(), item) {
        (TypeChar::Uint, 1) => Values::Bytes(file.into_vec::<u8>().map_err(read_err)?),
        (TypeChar::Float, 4) => Values::Floats(file.into_vec::<f32>().map_err(read_err)?),
        (TypeChar::Float, 8) => {
            let v = file.into_vec::<f64>().map_err(read_err)?;
            Values::Floats(v.into_iter().map(|x| x as f32).collect())
        }
        (TypeChar::Int, 1) => classes(file.into_vec::<i8>().map_err(read_err)?),
        (TypeChar::Int, 2) => classes(file.into_vec::<i16>().map_err(read_err)?),
        (TypeChar::Int, 4) => classes(file.into_vec::<i32>().map_err(read_err)?),
        (TypeChar::Int, 8) => classes(file.into_vec::<i64>().map_err(read_err)?),
        (TypeChar::Uint, 2) => classes(file.into_vec::<u16>().map_err(read_err)?),
        (TypeChar::Uint, 4) => classes(file.into_vec::<u32>().map_err(read_err)?),
        (TypeChar::Uint, 8) => {
            let v = file.into_vec::<u64>().map_err(read_err)?;
            let v: Option<Vec<i64>> = v.into_iter().map(|c| i64::try_from(c).ok()).collect();
            Values::Classes(v.ok_or_else(|| bad("holds a class beyond 2^63".into()))?)
        }
        _ => {
            return Err(bad(format!(
                "has dtype {}; inputs must be uint8 or float32, classes integers",
                super::printable(&ts.to_string())
            )));
        }
    };
    Ok(Array {
        origin: origin.to_string(),
        shape,
        values,
    })
}

fn classes<T: Into<i64>>(v: Vec<T>) -> Values {
    Values::Classes(v.into_iter().map(Into::into).collect())
}

/// Check one `(x, y)` pair and append it to the pool.
fn append(pool: &mut Pool, x: Array, y: Array) -> Result<()> {
    let bad = |a: &Array, m: String| Error::data(&a.origin, m);
    let (x_origin, y_origin) = (x.origin.clone(), y.origin.clone());
    let n = *x.shape.first().unwrap_or(&0);
    let shape = match x.shape[..] {
        [_, d] => [1, 1, d],
        [_, h, w] => [h, w, 1],
        [_, h, w, c] => [h, w, c],
        _ => {
            return Err(bad(
                &x,
                format!(
                    "has shape {:?}; inputs are n x h x w, n x h x w x c or n x d",
                    x.shape
                ),
            ));
        }
    };
    if n == 0 || shape.contains(&0) {
        return Err(bad(&x, format!("has shape {:?}: no inputs", x.shape)));
    }
    if y.shape != [n] {
        return Err(bad(
            &y,
            format!(
                "has shape {:?}; the classes of {n} inputs are a vector of {n}",
                y.shape
            ),
        ));
    }
    if !pool.classes.is_empty() && pool.shape != shape {
        return Err(bad(
            &x,
            format!(
                "inputs are {shape:?} (h, w, c), the arrays before them {:?}; pool arrays of one data set",
                pool.shape
            ),
        ));
    }
    let classes = match y.values {
        Values::Classes(c) => c,
        Values::Floats(f) => {
            if let Some(v) = f.iter().find(|v| v.fract() != 0.0 || !v.is_finite()) {
                return Err(Error::data(
                    &y_origin,
                    format!("holds {v}; classes are integers (y.astype(np.int64))"),
                ));
            }
            f.into_iter().map(|v| v as i64).collect()
        }
        Values::Bytes(b) => b.into_iter().map(i64::from).collect(),
    };
    match x.values {
        Values::Bytes(b) if pool.floats.is_empty() => pool.pixels.extend(b),
        Values::Floats(f) if pool.pixels.is_empty() => {
            if let Some(k) = f.iter().position(|v| !v.is_finite()) {
                return Err(Error::data(
                    &x_origin,
                    format!("value {k} is {}; inputs must be finite", f[k]),
                ));
            }
            pool.floats.extend(f);
        }
        Values::Classes(_) => {
            return Err(Error::data(
                &x_origin,
                "holds integers other than uint8; inputs must be uint8 or float32",
            ));
        }
        _ => {
            return Err(Error::data(
                &x_origin,
                "has another dtype than the arrays before it; save all inputs as uint8 or all as float32",
            ));
        }
    }
    pool.shape = shape;
    pool.classes.extend(classes);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `.npy` file of `data` with `shape` (written with `npyz`, as NumPy would).
    pub fn npy<T: npyz::AutoSerialize + Clone>(shape: &[u64], data: &[T]) -> Vec<u8> {
        use npyz::WriterBuilder;
        let mut out = Vec::new();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(&mut out)
            .begin_nd()
            .unwrap();
        w.extend(data.iter().cloned()).unwrap();
        w.finish().unwrap();
        out
    }

    /// A `.npz` archive of named `.npy` files.
    pub fn npz(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in files {
            zip.start_file(
                format!("{name}.npy"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn npz_and_npy_directory_give_the_same_pool() {
        let x: Vec<u8> = (0..6 * 4).map(|i| i as u8).collect();
        let y: Vec<i64> = vec![0, 1, 2, 3, 4, 5];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("set.npz");
        std::fs::write(
            &file,
            npz(&[("x", npy(&[6, 2, 2], &x)), ("y", npy(&[6], &y))]),
        )
        .unwrap();
        let map = LabelMap::new(&[0, 2, 4]);
        let a = load(&file, &map).unwrap();
        assert_eq!(a.shape, [2, 2, 1]);
        assert_eq!(a.pixels, x);
        assert_eq!(a.labels, [1.0, -1.0, 1.0, -1.0, 1.0, -1.0]);
        let mean = (0..24).sum::<i32>() as f32 / 24.0;
        assert!((a.mean - mean).abs() < 1e-6, "{}", a.mean);
        let sub = dir.path().join("arrays");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("x_train.npy"), npy(&[4, 2, 2], &x[..16])).unwrap();
        std::fs::write(sub.join("y_train.npy"), npy(&[4], &[0u8, 1, 2, 3])).unwrap();
        std::fs::write(sub.join("x_test.npy"), npy(&[2, 2, 2], &x[16..])).unwrap();
        std::fs::write(sub.join("y_test.npy"), npy(&[2], &[4i32, 5])).unwrap();
        let b = load(&sub, &map).unwrap();
        assert_eq!((b.pixels, b.labels, b.mean), (a.pixels, a.labels, a.mean));
        assert_eq!(b.files.len(), 4);
    }

    #[test]
    fn float_inputs_and_vectors_are_read() {
        let x: Vec<f32> = (0..3 * 5).map(|i| i as f32 * 0.5).collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.npy"), npy(&[3, 5], &x)).unwrap();
        std::fs::write(dir.path().join("y.npy"), npy(&[3], &[1.0f64, -1.0, 1.0])).unwrap();
        let p = load(dir.path(), &LabelMap::new(&[1])).unwrap();
        assert_eq!(p.shape, [1, 1, 5]);
        assert_eq!(p.floats, x);
        assert_eq!(p.labels, [1.0, -1.0, 1.0]);
    }

    #[test]
    fn bad_arrays_name_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let e = |p: &Path| load(p, &LabelMap::new(&[0])).unwrap_err().to_string();
        assert!(e(&d.join("none.npz")).contains("does not exist"));
        let msg = e(d);
        assert!(
            msg.contains("no inputs here") && msg.contains("x.npy and y.npy"),
            "{msg}"
        );
        std::fs::write(d.join("x.npy"), npy(&[2, 3], &[0.0f64; 6])).unwrap();
        let msg = e(d);
        assert!(msg.contains("y.npy: missing"), "{msg}");
        std::fs::write(d.join("y.npy"), npy(&[3], &[0i64, 1, 0])).unwrap();
        let msg = e(d);
        assert!(
            msg.contains("y.npy: has shape [3]; the classes of 2 inputs"),
            "{msg}"
        );
        std::fs::write(d.join("y.npy"), npy(&[2], &[0.5f32, 1.0])).unwrap();
        assert!(e(d).contains("holds 0.5; classes are integers"));
        std::fs::write(d.join("x.npy"), npy(&[2, 3], &[0i16; 6])).unwrap();
        std::fs::write(d.join("y.npy"), npy(&[2], &[0i64, 1])).unwrap();
        assert!(e(d).contains("x.npy: holds integers other than uint8"));
        let mut truncated = npy(&[2, 3], &[0u8; 6]);
        truncated.pop();
        std::fs::write(d.join("x.npy"), truncated).unwrap();
        let msg = e(d);
        assert!(
            msg.contains("x.npy: header announces shape [2, 3]") && msg.contains("5 bytes"),
            "{msg}"
        );
        // A header whose sizes overflow any product is refused before anything is allocated.
        let mut huge = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
        let dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }";
        huge.extend(format!("{dict:<117}\n").bytes());
        std::fs::write(d.join("x.npy"), huge).unwrap();
        let msg = e(d);
        assert!(
            msg.contains("x.npy: header announces shape [4294967296"),
            "{msg}"
        );
        std::fs::write(d.join("x.npy"), b"\x93NUMPY garbage").unwrap();
        assert!(e(d).contains("x.npy: not a .npy file"));
        std::fs::write(d.join("bad.npz"), b"PK not a zip").unwrap();
        let msg = e(&d.join("bad.npz"));
        assert!(msg.contains("bad.npz: not a readable .npz"), "{msg}");
        std::fs::write(d.join("x.npy"), npy(&[2, 3], &[0u8; 6])).unwrap();
        std::fs::write(d.join("y.npy"), npy(&[2], &[0i64, 0])).unwrap();
        let msg = e(d);
        assert!(msg.contains("selects all of the points"), "{msg}");
        assert!(!msg.contains('\n'));
    }
}
