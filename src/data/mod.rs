//! Data sets (method §3): every set gives inputs `x` (row-major, one row per point, images in HWC
//! order) and labels `y = ±1`, with independent seeds for the test and the training set.

pub mod cifar;
pub mod fetch;
pub mod fingerprint;
pub mod idx;
pub mod labels;
pub mod mnist;
pub mod numpy;
pub mod split;
pub mod synthetic;

use crate::config::{DataSpec, DatasetKind, ValidConfig};
use crate::error::Result;
use labels::LabelMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `n` points: inputs `x` (`n * dim()` floats, row-major) and labels `y` (±1).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    /// Shape of one input as `[height, width, channels]`; vectors are `[1, 1, d]`.
    pub shape: [usize; 3],
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Number of input features.
    pub fn dim(&self) -> usize {
        self.shape.iter().product()
    }

    /// Input of point `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        let d = self.dim();
        &self.x[i * d..(i + 1) * d]
    }
}

/// The training and test sets of a run.
#[derive(Clone, Debug)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
    /// Where the points came from (file paths, "bundled mnist10k", or the generator), for the result.
    pub source: String,
    /// The files read, with sizes and digests (none for the bundled and synthetic sets).
    pub files: Vec<fingerprint::DataFile>,
}

/// The pool of a real data set in `dir` (MNIST: or the bundled digits), read once per process:
/// a sweep runs many short runs on the same files.
fn cached_pool(
    kind: DatasetKind,
    dir: Option<&Path>,
    map: Option<&LabelMap>,
) -> Result<Arc<split::Pool>> {
    type Key = (DatasetKind, Option<PathBuf>, Option<LabelMap>);
    static CACHE: Mutex<Vec<(Key, Arc<split::Pool>)>> = Mutex::new(Vec::new());
    let key = (kind, dir.map(Path::to_path_buf), map.cloned());
    if let Some((_, pool)) = CACHE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|(k, _)| *k == key)
    {
        return Ok(pool.clone());
    }
    let needs_dir = || {
        crate::error::Error::field(
            "data_dir",
            format!("dataset {kind} needs data_dir (--data-dir)"),
        )
    };
    let mut pool = match (kind, dir, map) {
        (DatasetKind::MnistParity, Some(d), _) => mnist::load_dir(d)?,
        (DatasetKind::MnistParity, None, _) => mnist::load_bundled()?,
        (DatasetKind::CifarAnimals, Some(d), _) => cifar::load_dir(d)?,
        (DatasetKind::Idx, Some(d), Some(m)) => mnist::load_any(d, m)?,
        (DatasetKind::Cifar10, Some(d), Some(m)) => cifar::load_any(d, m)?,
        (DatasetKind::Numpy, Some(d), Some(m)) => numpy::load(d, m)?,
        _ => return Err(needs_dir()),
    };
    pool.fingerprint = fingerprint::of_files(&pool.files)?;
    let pool = Arc::new(pool);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= 4 {
        cache.remove(0);
    }
    cache.push((key, pool.clone()));
    Ok(pool)
}

/// The files of the data set `kind` in `dir` (labelled by `map` for `idx`, `cifar10` and
/// `numpy`), with sizes and digests: the whole set is read and checked (and kept for the runs
/// of this process), so a bad directory is one error here rather than one per run.
pub fn files_of(
    kind: DatasetKind,
    dir: &Path,
    map: Option<&LabelMap>,
) -> Result<Vec<fingerprint::DataFile>> {
    Ok(cached_pool(kind, Some(dir), map)?.fingerprint.clone())
}

/// [`files_of`] the data directory of a run config (`None` when it reads none).
pub fn files_of_config(
    cfg: &crate::config::RunConfig,
) -> Result<Option<Vec<fingerprint::DataFile>>> {
    let Some(dir) = cfg.data_dir.as_deref() else {
        return Ok(None);
    };
    let map = cfg.positive.as_deref().map(LabelMap::new);
    files_of(cfg.dataset, Path::new(dir), map.as_ref()).map(Some)
}

/// Load or generate the training and test sets of `cfg`.
pub fn load(cfg: &ValidConfig) -> Result<Split> {
    let (kind, dir, map) = match &cfg.data {
        DataSpec::DepletedSign { dim, chi } => {
            return Ok(synthetic::depleted_sign_split(
                *dim,
                *chi,
                cfg.p,
                cfg.p_test,
                cfg.seeds.train,
                cfg.seeds.test,
            ));
        }
        DataSpec::MnistParity { dir } => (DatasetKind::MnistParity, dir.as_deref(), None),
        DataSpec::CifarAnimals { dir } => (DatasetKind::CifarAnimals, Some(dir.as_path()), None),
        DataSpec::Labelled { kind, dir, map } => (*kind, Some(dir.as_path()), Some(map)),
    };
    let pool = cached_pool(kind, dir, map)?;
    let (train, test) =
        split::split_pool(&pool, cfg.p, cfg.p_test, cfg.seeds.train, cfg.seeds.test)?;
    Ok(Split {
        train,
        test,
        source: pool.source.clone(),
        files: pool.fingerprint.clone(),
    })
}

/// `s` with control characters escaped and cut to 120 characters: a corrupt file's bytes
/// (escape sequences, binary names) quoted in an error must not reach the terminal raw.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .flat_map(|c| {
            let keep = !c.is_control() && c != '\u{fffd}';
            let escaped: Vec<char> = if keep {
                vec![c]
            } else {
                c.escape_default().collect()
            };
            escaped
        })
        .take(120)
        .collect();
    if out.chars().count() == 120 {
        out.push_str("...");
    }
    out
}

/// A `--data-dir` must be a directory: say which of "missing" or "a file" it is, with the fix.
pub(crate) fn check_data_dir(dir: &std::path::Path, fix: &str) -> Result<()> {
    let what = if dir.is_dir() {
        return Ok(());
    } else if dir.exists() {
        "is a file, not a data directory"
    } else {
        "data directory does not exist"
    };
    Err(crate::Error::data(dir, format!("{what}; {fix}")))
}
