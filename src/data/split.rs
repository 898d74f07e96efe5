//! Train/test split of a real data set (method §3): the pool of all points is shuffled with the
//! test seed and the first `P_test` become the test set; the rest is shuffled with the training
//! seed and the first `P` become the training set. Only the selected points are converted to
//! normalized `f32`.

use super::Dataset;
use crate::error::{Error, Result};
use crate::rng::{self, Stream};
use rand::seq::SliceRandom;

/// All points of a real data set, as raw bytes (or floats) with their classes and ±1 labels.
#[derive(Clone, Debug, Default)]
pub struct Pool {
    /// `n * h * w * c` bytes, one image after another, HWC; empty when the inputs are `floats`.
    pub pixels: Vec<u8>,
    /// The inputs of a float array (`.npy` float32), laid out as `pixels`; empty otherwise.
    pub floats: Vec<f32>,
    /// The class of each point as the files give it.
    pub classes: Vec<i64>,
    /// `y = ±1` of each point: the classes through the data set's label map (`labels.rs`).
    pub labels: Vec<f32>,
    pub shape: [usize; 3],
    /// Pixels are mapped to `(b - mean) / std`.
    pub mean: f32,
    pub std: f32,
    pub source: String,
    /// The files the pool was read from (none for the bundled digits), and their sizes and
    /// digests once `data::cached_pool` has taken them.
    pub files: Vec<std::path::PathBuf>,
    pub fingerprint: Vec<super::fingerprint::DataFile>,
}

impl Pool {
    /// Label every point through a named map of the paper (`mnist-parity`, `cifar-animals`).
    pub fn label_named(&mut self, map: &super::labels::LabelMap) {
        self.labels = self.classes.iter().map(|&c| map.label(c)).collect();
    }

    /// Label every point through a user's map (refused when one sign gets every point).
    pub fn label_with(&mut self, map: &super::labels::LabelMap) -> Result<()> {
        self.labels = map.labels(&self.classes, &self.source)?;
        Ok(())
    }

    /// Set `mean` and `std` to those of every input value of the pool (computed in `f64`):
    /// the standardization of a data set without published constants.
    pub fn standardize_by_own_moments(&mut self) {
        let (n, sum, sum_sq) = if self.floats.is_empty() {
            moments(self.pixels.iter().map(|&b| b as f64))
        } else {
            moments(self.floats.iter().map(|&v| v as f64))
        };
        if n == 0.0 {
            return;
        }
        let mean = sum / n;
        let var = (sum_sq / n - mean * mean).max(0.0);
        self.mean = mean as f32;
        // A constant input has no spread; leave it centred but unscaled.
        self.std = if var > 0.0 { var.sqrt() as f32 } else { 1.0 };
    }

    fn dataset(&self, indices: &[usize]) -> Dataset {
        let d: usize = self.shape.iter().product();
        let mut x = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            if self.floats.is_empty() {
                x.extend(
                    self.pixels[i * d..(i + 1) * d]
                        .iter()
                        .map(|&b| (b as f32 - self.mean) / self.std),
                );
            } else {
                x.extend(
                    self.floats[i * d..(i + 1) * d]
                        .iter()
                        .map(|&v| (v - self.mean) / self.std),
                );
            }
        }
        Dataset {
            x,
            y: indices.iter().map(|&i| self.labels[i]).collect(),
            shape: self.shape,
        }
    }
}

/// Count, sum and sum of squares of `values`.
fn moments(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    values.fold((0.0, 0.0, 0.0), |(n, s, q), v| (n + 1.0, s + v, q + v * v))
}

/// Split `pool` into a training set of `p` and a test set of `p_test` points.
pub fn split_pool(
    pool: &Pool,
    p: usize,
    p_test: usize,
    seed_train: u64,
    seed_test: u64,
) -> Result<(Dataset, Dataset)> {
    let n = pool.labels.len();
    if p.checked_add(p_test).is_none_or(|total| total > n) {
        return Err(Error::field(
            "p",
            format!(
                "p ({p}) + p_test ({p_test}) exceeds the {n} points of {}; lower them or pass a larger data set with --data-dir",
                pool.source
            ),
        ));
    }
    let mut all: Vec<usize> = (0..n).collect();
    all.shuffle(&mut rng::stream(seed_test, Stream::Test));
    let (test, rest) = all.split_at_mut(p_test);
    rest.shuffle(&mut rng::stream(seed_train, Stream::Train));
    Ok((pool.dataset(&rest[..p]), pool.dataset(test)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Pool {
        Pool {
            pixels: (0..n).map(|i| i as u8).collect(),
            labels: (0..n)
                .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
                .collect(),
            shape: [1, 1, 1],
            mean: 0.0,
            std: 1.0,
            source: "test pool".into(),
            ..Pool::default()
        }
    }

    fn ids(d: &Dataset) -> Vec<usize> {
        d.x.iter().map(|&v| v as usize).collect()
    }

    #[test]
    fn disjoint_and_test_set_independent_of_training_seed() {
        let pool = pool(200);
        let (tr, te) = split_pool(&pool, 50, 30, 1, 2).unwrap();
        let (tr2, te2) = split_pool(&pool, 80, 30, 9, 2).unwrap();
        assert_eq!(te, te2, "the test set depends only on the test seed");
        assert_ne!(ids(&tr), ids(&tr2)[..50].to_vec());
        let mut all: Vec<usize> = ids(&tr).into_iter().chain(ids(&te)).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 80, "train and test are disjoint");
        for (x, y) in tr.x.iter().zip(&tr.y) {
            assert_eq!(
                *y,
                if (*x as usize).is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                },
                "labels follow their points"
            );
        }
    }

    #[test]
    fn too_many_points_is_a_clear_error() {
        let e = split_pool(&pool(10), 8, 3, 0, 0).unwrap_err().to_string();
        assert!(
            e.contains("p (8) + p_test (3) exceeds the 10 points of test pool"),
            "{e}"
        );
    }

    #[test]
    fn normalization_is_applied() {
        let mut p = pool(4);
        p.mean = 1.0;
        p.std = 2.0;
        let (tr, _) = split_pool(&p, 3, 1, 0, 0).unwrap();
        for v in &tr.x {
            assert!([-0.5, 0.0, 0.5, 1.0].contains(v), "{v}");
        }
    }
}
