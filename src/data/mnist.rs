//! Image sets in the IDX layout of MNIST (method §3): MNIST, Fashion-MNIST, KMNIST, EMNIST
//! (`.gz` or not).
//!
//! - `mnist-parity`: 28x28 digits, pixels mapped to `(b - 33.31002426147461) / 78.56748962402344`,
//!   `y = +1` for even digits and `-1` for odd ones (the named map `LabelMap::even_digits`).
//! - `idx`: any `n x h x w` images with byte labels, a label map choosing the `+1` classes, and
//!   pixels standardized by the mean and standard deviation of every pixel of the pool.
//!
//! A directory is searched for the standard `train-*` and `t10k-*` files (also the
//! `train-images.idx3-ubyte` spelling, and a `mnist/` subdirectory); whatever pairs it holds are
//! pooled, train first. With no directory, `mnist-parity` uses the 10,000 real digits bundled in
//! the binary (`data/mnist10k/`, CC BY-SA 3.0, see its README). EMNIST's files hold each image
//! transposed; a net learns the task either way, so they are read as stored.

use super::idx;
use super::labels::LabelMap;
use super::split::Pool;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

pub const MEAN: f32 = 33.310_024;
pub const STD: f32 = 78.567_49;
const SIDE: usize = 28;

static BUNDLED_IMAGES: &[u8] = include_bytes!("../../data/mnist10k/t10k-images-idx3-ubyte.gz");
static BUNDLED_LABELS: &[u8] = include_bytes!("../../data/mnist10k/t10k-labels-idx1-ubyte.gz");

/// The 10,000 digits bundled in the binary.
pub fn load_bundled() -> Result<Pool> {
    let images = idx::decompress_if_gz(BUNDLED_IMAGES.to_vec(), "bundled mnist10k images")?;
    let labels = idx::decompress_if_gz(BUNDLED_LABELS.to_vec(), "bundled mnist10k labels")?;
    let mut pool = empty_pool("bundled mnist10k (10,000 digits)".into());
    append(
        &mut pool,
        &images,
        "bundled mnist10k images",
        &labels,
        "bundled mnist10k labels",
        Check::Mnist,
    )?;
    pool.label_named(&LabelMap::even_digits());
    Ok(pool)
}

/// What [`append`] checks: MNIST's 28x28 digits, or any image size and byte label.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Check {
    Mnist,
    Any,
}

fn empty_pool(source: String) -> Pool {
    Pool {
        pixels: Vec::new(),
        shape: [SIDE, SIDE, 1],
        mean: MEAN,
        std: STD,
        source,
        ..Pool::default()
    }
}

fn find(dir: &Path, stem: &str, kind: &str, suffix: &str) -> Option<PathBuf> {
    // Standard name `train-images-idx3-ubyte` and the variant `train-images.idx3-ubyte`.
    [
        format!("{stem}-{kind}-{suffix}"),
        format!("{stem}-{kind}.{suffix}"),
    ]
    .into_iter()
    .flat_map(|n| [format!("{n}.gz"), n])
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

/// Pool every MNIST image/label file pair found in `dir` (or `dir/mnist`): `mnist-parity`.
pub fn load_dir(dir: &Path) -> Result<Pool> {
    super::check_data_dir(
        dir,
        "pass --data-dir with the MNIST IDX files, or omit it to use the bundled digits",
    )?;
    let mut pool = read_pairs(dir, Check::Mnist)?;
    pool.label_named(&LabelMap::even_digits());
    Ok(pool)
}

/// Pool every IDX image/label pair found in `dir` (or `dir/mnist`), labelled by `map` and
/// standardized by its own moments: the `idx` data set.
pub fn load_any(dir: &Path, map: &LabelMap) -> Result<Pool> {
    super::check_data_dir(
        dir,
        "pass --data-dir with the IDX files (train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz], and/or the t10k-* pair)",
    )?;
    let mut pool = read_pairs(dir, Check::Any)?;
    pool.label_with(map)?;
    pool.standardize_by_own_moments();
    Ok(pool)
}

fn read_pairs(dir: &Path, check: Check) -> Result<Pool> {
    let mut pairs = Vec::new();
    for base in [dir.to_path_buf(), dir.join("mnist")] {
        for stem in ["train", "t10k"] {
            let images = find(&base, stem, "images", "idx3-ubyte");
            let labels = find(&base, stem, "labels", "idx1-ubyte");
            match (images, labels) {
                (Some(i), Some(l)) => pairs.push((i, l)),
                (Some(i), None) => {
                    return Err(Error::data(
                        &i,
                        format!("found images but no {stem}-labels-idx1-ubyte[.gz] beside them"),
                    ));
                }
                (None, Some(l)) => {
                    return Err(Error::data(
                        &l,
                        format!("found labels but no {stem}-images-idx3-ubyte[.gz] beside them"),
                    ));
                }
                (None, None) => {}
            }
        }
        if !pairs.is_empty() {
            break;
        }
    }
    if pairs.is_empty() {
        return Err(Error::data(
            dir,
            format!(
                "no {} files here (expected train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] and/or the t10k-* pair)",
                if check == Check::Mnist {
                    "MNIST"
                } else {
                    "IDX"
                }
            ),
        ));
    }
    let names: Vec<String> = pairs.iter().map(|(i, _)| i.display().to_string()).collect();
    let mut pool = empty_pool(names.join(" + "));
    pool.files = pairs
        .iter()
        .flat_map(|(i, l)| [i.clone(), l.clone()])
        .collect();
    for (i, l) in &pairs {
        let images = idx::read_maybe_gz(i)?;
        let labels = idx::read_maybe_gz(l)?;
        append(
            &mut pool,
            &images,
            &i.display().to_string(),
            &labels,
            &l.display().to_string(),
            check,
        )?;
    }
    Ok(pool)
}

/// The pool of one image/label file pair, each raw IDX or gzipped: as `mnist-parity` reads it,
/// or (`any`) as `idx` does with the even classes positive.
pub fn pair_from_bytes(images: Vec<u8>, labels: Vec<u8>, origin: &str, any: bool) -> Result<Pool> {
    let images = idx::decompress_if_gz(images, origin)?;
    let labels = idx::decompress_if_gz(labels, origin)?;
    let mut pool = empty_pool(origin.to_string());
    let check = if any { Check::Any } else { Check::Mnist };
    append(&mut pool, &images, origin, &labels, origin, check)?;
    if any {
        pool.label_with(&LabelMap::even_digits())?;
        pool.standardize_by_own_moments();
    } else {
        pool.label_named(&LabelMap::even_digits());
    }
    Ok(pool)
}

/// Validate one image/label pair and append its images and classes to the pool. The first
/// pair sets the image size of an `idx` pool; later pairs must match it.
fn append(
    pool: &mut Pool,
    images: &[u8],
    image_origin: &str,
    labels: &[u8],
    label_origin: &str,
    check: Check,
) -> Result<()> {
    let im = idx::parse(images, 3, image_origin)?;
    if check == Check::Any {
        let [h, w] = [im.dims[1], im.dims[2]];
        if h == 0 || w == 0 {
            return Err(Error::data(
                image_origin,
                format!("images are {h}x{w}; an image needs at least one pixel"),
            ));
        }
        if pool.pixels.is_empty() {
            pool.shape = [h, w, 1];
        } else if pool.shape != [h, w, 1] {
            return Err(Error::data(
                image_origin,
                format!(
                    "images are {h}x{w}, the files before them {}x{}; pool files of one data set",
                    pool.shape[0], pool.shape[1]
                ),
            ));
        }
    } else if im.dims[1] != SIDE || im.dims[2] != SIDE {
        return Err(Error::data(
            image_origin,
            format!(
                "images are {}x{}, MNIST images are 28x28",
                im.dims[1], im.dims[2]
            ),
        ));
    }
    let lb = idx::parse(labels, 1, label_origin)?;
    if lb.dims[0] != im.dims[0] {
        return Err(Error::data(
            label_origin,
            format!(
                "{} labels for {} images in {image_origin}",
                lb.dims[0], im.dims[0]
            ),
        ));
    }
    if check == Check::Mnist
        && let Some(pos) = lb.data.iter().position(|&d| d > 9)
    {
        return Err(Error::data(
            label_origin,
            format!("label {} at index {pos} is not a digit 0-9", lb.data[pos]),
        ));
    }
    pool.pixels.extend_from_slice(&im.data);
    pool.classes.extend(lb.data.iter().map(|&d| d as i64));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx::tests::encode;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8], gz: bool) {
        let path = dir.join(name);
        if gz {
            let f = std::fs::File::create(path).unwrap();
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap();
        } else {
            std::fs::write(path, bytes).unwrap();
        }
    }

    fn images(n: usize, fill: u8) -> Vec<u8> {
        encode(&[n, 28, 28], &vec![fill; n * 784])
    }

    #[test]
    fn bundled_digits_load_with_parity_labels() {
        let pool = load_bundled().unwrap();
        assert_eq!(pool.labels.len(), 10_000);
        assert_eq!(pool.pixels.len(), 10_000 * 784);
        // README: 4930 even and 5070 odd digits.
        assert_eq!(pool.labels.iter().filter(|&&y| y > 0.0).count(), 4930);
        let mean = pool.pixels.iter().map(|&b| b as f64).sum::<f64>() / pool.pixels.len() as f64;
        assert!((mean - 33.437).abs() < 1e-3, "{mean}");
    }

    #[test]
    fn directory_pools_train_then_test_gz_or_raw() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "train-images-idx3-ubyte.gz",
            &images(3, 10),
            true,
        );
        write(
            dir.path(),
            "train-labels-idx1-ubyte.gz",
            &encode(&[3], &[0, 1, 2]),
            true,
        );
        write(dir.path(), "t10k-images.idx3-ubyte", &images(2, 20), false);
        write(
            dir.path(),
            "t10k-labels.idx1-ubyte",
            &encode(&[2], &[7, 8]),
            false,
        );
        let pool = load_dir(dir.path()).unwrap();
        assert_eq!(pool.labels, vec![1.0, -1.0, 1.0, -1.0, 1.0]);
        assert_eq!(pool.pixels[0], 10);
        assert_eq!(pool.pixels[3 * 784], 20);
    }

    #[test]
    fn mnist_subdirectory_is_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("mnist")).unwrap();
        write(
            &dir.path().join("mnist"),
            "t10k-images-idx3-ubyte",
            &images(1, 1),
            false,
        );
        write(
            &dir.path().join("mnist"),
            "t10k-labels-idx1-ubyte",
            &encode(&[1], &[4]),
            false,
        );
        assert_eq!(load_dir(dir.path()).unwrap().labels, vec![1.0]);
    }

    #[test]
    fn bad_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let e = load_dir(p).unwrap_err().to_string();
        assert!(e.contains("no MNIST files here"), "{e}");
        let e = load_dir(&p.join("nope")).unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");

        write(p, "train-images-idx3-ubyte", &images(3, 0), false);
        let e = load_dir(p).unwrap_err().to_string();
        assert!(
            e.contains("train-images-idx3-ubyte: found images but no train-labels"),
            "{e}"
        );

        write(p, "train-labels-idx1-ubyte", &encode(&[2], &[0, 1]), false);
        let e = load_dir(p).unwrap_err().to_string();
        assert!(
            e.contains("train-labels-idx1-ubyte: 2 labels for 3 images"),
            "{e}"
        );

        write(
            p,
            "train-labels-idx1-ubyte",
            &encode(&[3], &[0, 1, 12]),
            false,
        );
        let e = load_dir(p).unwrap_err().to_string();
        assert!(e.contains("label 12 at index 2 is not a digit"), "{e}");

        write(
            p,
            "train-labels-idx1-ubyte",
            &encode(&[3], &[0, 1, 2]),
            false,
        );
        write(
            p,
            "train-images-idx3-ubyte",
            &encode(&[3, 32, 32], &vec![0; 3 * 1024]),
            false,
        );
        let e = load_dir(p).unwrap_err().to_string();
        assert!(e.contains("images are 32x32"), "{e}");

        // labels file given where images belong: wrong magic number
        write(
            p,
            "train-images-idx3-ubyte",
            &encode(&[3], &[0, 1, 2]),
            false,
        );
        let e = load_dir(p).unwrap_err().to_string();
        assert!(
            e.contains("train-images-idx3-ubyte: not an IDX file"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
}
