//! Monte-Carlo check of the extreme-value law behind `gamma = 1/(1+chi)` (method §5): with
//! `|x_1|` distributed as in `depleted-sign` (density `~ |x_1|^chi` near 0) and independent
//! `c ~ N(0,1)`, the typical value of `max_mu c_mu / |x_1^mu|` over `P` points grows as
//! `P^(1/(1+chi))`. "Typical" is `exp(mean log)` over repetitions: for `chi = 0` the maximum has
//! a heavy tail (its mean is infinite), its logarithm does not.

use super::fit::{Estimate, power_law};
use crate::rng::{self, Stream};
use rand_distr::{Distribution, Gamma, StandardNormal};

#[derive(Clone, Debug)]
pub struct EvtCheck {
    pub chi: f64,
    /// `(P, typical max)`.
    pub points: Vec<(usize, f64)>,
    pub exponent: Estimate,
    pub predicted: f64,
}

/// Estimate the exponent for `chi` over `ps`, `reps` repetitions each.
pub fn evt_check(chi: f64, ps: &[usize], reps: usize, seed: u64) -> Option<EvtCheck> {
    let gamma = Gamma::new((chi + 1.0) / 2.0, 1.0).ok()?;
    let mut rng = rng::stream(seed, Stream::MonteCarlo);
    let points: Vec<(usize, f64)> = ps
        .iter()
        .map(|&p| {
            let mut logs = 0.0;
            let mut n = 0usize;
            for _ in 0..reps {
                let mut best = f64::NEG_INFINITY;
                for _ in 0..p {
                    let x1 = (2.0 * gamma.sample(&mut rng)).sqrt();
                    let c: f64 = StandardNormal.sample(&mut rng);
                    best = best.max(c / x1);
                }
                if best > 0.0 {
                    logs += best.ln();
                    n += 1;
                }
            }
            (p, (logs / n.max(1) as f64).exp())
        })
        .collect();
    let (x, y): (Vec<f64>, Vec<f64>) = points.iter().map(|&(p, v)| (p as f64, v)).unzip();
    let (exponent, _) = power_law(&x, &y)?;
    Some(EvtCheck {
        chi,
        points,
        exponent,
        predicted: 1.0 / (1.0 + chi),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponent_is_one_over_one_plus_chi() {
        let ps: Vec<usize> = (6..=13).map(|k| 1usize << k).collect();
        for chi in [0.0, 1.0, 3.0] {
            let c = evt_check(chi, &ps, 60, 1).unwrap();
            assert!(
                (c.exponent.value - c.predicted).abs() < 0.05,
                "chi {chi}: {:?} vs {}",
                c.exponent,
                c.predicted
            );
        }
    }
}
