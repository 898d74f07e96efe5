//! `depleted-sign` (method §3): `x_1 = s sqrt(2G)` with `G ~ Gamma((chi+1)/2, 1)` and a random sign
//! `s`, so that the density of `x_1` is `∝ |x_1|^chi exp(-x_1^2/2)`; `x_2..x_d ~ N(0,1)`;
//! `y = sign(x_1)`. `chi = 0` is the Gaussian case.

use super::{Dataset, Split};
use crate::rng::{self, Rng, Stream};
use rand::RngExt;
use rand_distr::{Distribution, Gamma, StandardNormal};

/// Draw `n` points of dimension `d` with exponent `chi` from `rng`.
pub fn depleted_sign(d: usize, chi: f64, n: usize, rng: &mut Rng) -> Dataset {
    // chi > -1 is validated with the config, so the shape (chi+1)/2 is positive and finite.
    let gamma = Gamma::new((chi + 1.0) / 2.0, 1.0).expect("chi > -1 is validated by the config");
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
        let g: f64 = gamma.sample(rng);
        x.push((sign * (2.0 * g).sqrt()) as f32);
        for _ in 1..d {
            let z: f64 = StandardNormal.sample(rng);
            x.push(z as f32);
        }
        y.push(sign as f32);
    }
    Dataset {
        x,
        y,
        shape: [1, 1, d],
    }
}

/// Training set from `seed_train`, test set from `seed_test`, drawn independently.
pub fn depleted_sign_split(
    d: usize,
    chi: f64,
    p: usize,
    p_test: usize,
    seed_train: u64,
    seed_test: u64,
) -> Split {
    Split {
        train: depleted_sign(d, chi, p, &mut rng::stream(seed_train, Stream::Train)),
        test: depleted_sign(d, chi, p_test, &mut rng::stream(seed_test, Stream::Test)),
        source: format!("depleted-sign generator (d = {d}, chi = {chi})"),
        files: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_coordinates(chi: f64, n: usize) -> (Vec<f64>, Dataset) {
        let data = depleted_sign(3, chi, n, &mut rng::stream(1, Stream::Train));
        ((0..n).map(|i| data.row(i)[0] as f64).collect(), data)
    }

    #[test]
    fn gaussian_case_has_unit_variance_and_sign_labels() {
        let (x1, data) = first_coordinates(0.0, 40_000);
        let var = x1.iter().map(|v| v * v).sum::<f64>() / x1.len() as f64;
        assert!((var - 1.0).abs() < 0.03, "E[x1^2] = {var}");
        let abs = x1.iter().map(|v| v.abs()).sum::<f64>() / x1.len() as f64;
        assert!(
            (abs - (2.0 / std::f64::consts::PI).sqrt()).abs() < 0.02,
            "E|x1| = {abs}"
        );
        for (i, y) in data.y.iter().enumerate() {
            assert_eq!(*y, (x1[i] as f32).signum());
        }
        let others: Vec<f64> = (0..x1.len()).map(|i| data.row(i)[2] as f64).collect();
        let m2 = others.iter().map(|v| v * v).sum::<f64>() / others.len() as f64;
        assert!((m2 - 1.0).abs() < 0.03, "{m2}");
    }

    #[test]
    fn depletion_exponent_shapes_the_density_near_zero() {
        // E[x1^2] = 2 E[G] = chi + 1, and P(|x1| < e) ~ e^(chi+1).
        for chi in [1.0, 3.0] {
            let (x1, _) = first_coordinates(chi, 40_000);
            let m2 = x1.iter().map(|v| v * v).sum::<f64>() / x1.len() as f64;
            assert!(
                (m2 - (chi + 1.0)).abs() < 0.06 * (chi + 1.0),
                "chi {chi}: {m2}"
            );
            let small = x1.iter().filter(|v| v.abs() < 0.3).count() as f64 / x1.len() as f64;
            let gaussian_small = 0.2358; // P(|N(0,1)| < 0.3)
            assert!(
                small < gaussian_small / 4.0,
                "chi {chi}: P(|x1|<0.3) = {small}"
            );
        }
    }

    #[test]
    fn train_and_test_use_independent_seeds() {
        let a = depleted_sign_split(4, 1.0, 10, 5, 1, 2);
        let b = depleted_sign_split(4, 1.0, 10, 5, 3, 2);
        assert_eq!(a.test, b.test);
        assert_ne!(a.train, b.train);
        let c = depleted_sign_split(4, 1.0, 10, 5, 1, 2);
        assert_eq!(a.train, c.train);
    }
}
