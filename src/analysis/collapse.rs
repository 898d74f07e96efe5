//! Scaling collapse (SPEC §5): the exponent `a` for which the curves `y(T)` of different `P`,
//! drawn against `T P^a`, fall on one curve.
//!
//! Cost of a candidate `a`: in log-log coordinates, for each pair of neighbouring curves
//! (consecutive `P`), the mean squared vertical distance over their overlap (each curve
//! interpolated linearly at the other's points), averaged over all compared points and divided
//! by the variance of all `log y`. 0 is a perfect collapse; curves that do not collapse stay
//! near 1 or above. A pair of neighbours with fewer than two points in their overlap makes the
//! cost infinite, so the minimum cannot hide in vanishing overlaps.
//!
//! The exponent is the minimum of the cost over a grid of `a` (step 0.002); its error bar is
//! the half-width of the interval where the cost stays within [`COST_FACTOR`] times the minimum
//! (or plus [`COST_FLOOR`], whichever is wider), combined with a bootstrap over seeds where
//! there are several.

use super::curves::{Curve, median};
use super::fit::Estimate;

/// The error interval of `a`: where cost <= COST_FACTOR x minimum ...
pub const COST_FACTOR: f64 = 2.0;
/// ... or minimum + COST_FLOOR, whichever is wider.
pub const COST_FLOOR: f64 = 1e-4;
/// Above this normalized cost the curves are said not to collapse.
pub const NO_COLLAPSE: f64 = 0.1;
const A_STEP: f64 = 0.002;

/// One curve in log-log coordinates: `(ln T, ln y)` points and `ln P`.
#[derive(Clone, Debug)]
pub struct LogCurve {
    pub ln_p: f64,
    pub points: Vec<(f64, f64)>,
}

fn interpolate(points: &[(f64, f64)], u: f64) -> f64 {
    let k = points.partition_point(|(x, _)| *x < u);
    if k == 0 {
        return points[0].1;
    }
    if k == points.len() {
        return points[k - 1].1;
    }
    let ((x0, y0), (x1, y1)) = (points[k - 1], points[k]);
    if x1 == x0 {
        y0
    } else {
        y0 + (y1 - y0) * (u - x0) / (x1 - x0)
    }
}

/// Normalized collapse cost of `curves` (sorted by `P`) at exponent `a`.
pub fn cost(curves: &[LogCurve], a: f64) -> f64 {
    let all: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let var = all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len() as f64;
    if curves.len() < 2 || var <= 0.0 {
        return f64::INFINITY;
    }
    let shifted: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| c.points.iter().map(|&(x, y)| (x + a * c.ln_p, y)).collect())
        .collect();
    let (mut sum, mut count) = (0.0, 0usize);
    for pair in shifted.windows(2) {
        let (u, v) = (&pair[0], &pair[1]);
        let lo = u[0].0.max(v[0].0);
        let hi = u[u.len() - 1].0.min(v[v.len() - 1].0);
        let mut n = 0;
        for (this, other) in [(u, v), (v, u)] {
            for &(x, y) in this.iter().filter(|(x, _)| *x >= lo && *x <= hi) {
                sum += (y - interpolate(other, x)).powi(2);
                n += 1;
            }
        }
        if n < 2 {
            return f64::INFINITY;
        }
        count += n;
    }
    sum / count as f64 / var
}

/// The result of a collapse.
#[derive(Clone, Debug)]
pub struct Collapse {
    pub a: Estimate,
    /// Normalized cost at the best `a`.
    pub cost: f64,
    /// `(a, cost)` over the scanned range (finite costs only).
    pub scan: Vec<(f64, f64)>,
    /// Standard deviation of `a` over bootstrap resamples of the seeds, if there were seeds.
    pub bootstrap_sd: Option<f64>,
}

impl Collapse {
    /// Did the curves collapse (normalized cost below [`NO_COLLAPSE`])?
    pub fn collapses(&self) -> bool {
        self.cost < NO_COLLAPSE
    }
}

/// `(a, cost)` pairs of a scan.
type Scan = Vec<(f64, f64)>;

/// The best `a`, its cost, and the whole scan.
fn best(curves: &[LogCurve], range: (f64, f64)) -> Option<(f64, f64, Scan)> {
    let n = ((range.1 - range.0) / A_STEP).round() as usize;
    let scan: Vec<(f64, f64)> = (0..=n)
        .map(|k| range.0 + k as f64 * A_STEP)
        .map(|a| (a, cost(curves, a)))
        .filter(|(_, c)| c.is_finite())
        .collect();
    let &(a, c) = scan.iter().min_by(|x, y| x.1.total_cmp(&y.1))?;
    Some((a, c, scan))
}

/// Log curves of `(T, y)` medians, `y` divided by `norm(P)` (e.g. its low-T plateau) if given.
pub fn log_curves(curves: &[Curve], norm: Option<&dyn Fn(usize) -> f64>) -> Vec<LogCurve> {
    curves
        .iter()
        .map(|c| {
            let n = norm.map_or(1.0, |f| f(c.p));
            LogCurve {
                ln_p: (c.p as f64).ln(),
                points: c
                    .points()
                    .iter()
                    .map(|&(t, y)| (t.ln(), (y / n).ln()))
                    .collect(),
            }
        })
        .filter(|c| c.points.len() >= 2)
        .collect()
}

/// Find `a` in `range` for `curves`; `norm` divides each curve by a function of `P` first.
pub fn find(
    curves: &[Curve],
    norm: Option<&dyn Fn(usize) -> f64>,
    range: (f64, f64),
) -> Option<Collapse> {
    let logs = log_curves(curves, norm);
    if logs.len() < 2 {
        return None;
    }
    let (a, c, scan) = best(&logs, range)?;
    let limit = (COST_FACTOR * c).max(c + COST_FLOOR);
    // The connected interval around the minimum where the cost stays under the limit.
    let k = scan.iter().position(|&(x, _)| x == a)?;
    let lo = scan[..=k]
        .iter()
        .rev()
        .take_while(|(_, v)| *v <= limit)
        .last()
        .map_or(a, |p| p.0);
    let hi = scan[k..]
        .iter()
        .take_while(|(_, v)| *v <= limit)
        .last()
        .map_or(a, |p| p.0);
    let half_width = ((hi - lo) / 2.0).max(A_STEP);

    // Bootstrap over seeds: resample each cell's values with replacement (fixed generator).
    let seeds = curves
        .iter()
        .flat_map(|c| &c.cells)
        .map(|c| c.values.len())
        .max()
        .unwrap_or(0);
    let bootstrap_sd = (seeds >= 2).then(|| {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % n
        };
        let samples: Vec<f64> = (0..40)
            .filter_map(|_| {
                let resampled: Vec<Curve> = curves
                    .iter()
                    .map(|c| Curve {
                        p: c.p,
                        cells: c
                            .cells
                            .iter()
                            .map(|cell| super::curves::Cell {
                                t: cell.t,
                                values: vec![median(
                                    &(0..cell.values.len())
                                        .map(|_| cell.values[next(cell.values.len())])
                                        .collect::<Vec<_>>(),
                                )],
                            })
                            .collect(),
                    })
                    .collect();
                best(&log_curves(&resampled, norm), range).map(|b| b.0)
            })
            .collect();
        let m = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
        (samples.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (samples.len().max(2) - 1) as f64)
            .sqrt()
    });
    let error = half_width.max(bootstrap_sd.unwrap_or(0.0));
    Some(Collapse {
        a: Estimate::new(a, error),
        cost: c,
        scan,
        bootstrap_sd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::curves::Cell;

    /// Curves y = f(T P^a) with a crossover f(u) = 1 + u, times seed noise of relative size `noise`.
    fn synthetic(a: f64, noise: f64, seeds: usize) -> Vec<Curve> {
        let mut s = 1u64;
        let mut u = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        [256usize, 512, 1024, 2048, 4096]
            .iter()
            .map(|&p| Curve {
                p,
                cells: (0..25)
                    .map(|k| {
                        let t = 2f64.powf(-16.0 + 0.5 * k as f64);
                        let y = 1.0 + t * (p as f64).powf(a) * 1e3;
                        Cell {
                            t,
                            values: (0..seeds).map(|_| y * (1.0 + noise * u())).collect(),
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn recovers_a_known_exponent_within_its_error_bar() {
        for (a, noise, seeds) in [(0.5, 0.0, 1), (1.25, 0.1, 5), (-0.3, 0.2, 8)] {
            let c = find(&synthetic(a, noise, seeds), None, (-2.0, 3.0)).unwrap();
            assert!(c.collapses(), "a = {a}: cost {}", c.cost);
            assert!(
                c.a.agrees_with(a, 1.0) || (c.a.value - a).abs() <= A_STEP,
                "a = {a}: found {:?}",
                c.a
            );
            if noise <= 0.1 {
                assert!(
                    c.a.error < 0.1,
                    "a = {a}: error bar {} too wide for clean data",
                    c.a.error
                );
            }
            if seeds > 1 {
                assert!(c.bootstrap_sd.is_some());
            }
        }
    }

    #[test]
    fn curves_that_do_not_collapse_report_a_large_cost() {
        // Slopes that change with P: no shift in T puts them on one curve.
        let curves: Vec<Curve> = [256usize, 1024, 4096]
            .iter()
            .enumerate()
            .map(|(k, &p)| Curve {
                p,
                cells: (0..20)
                    .map(|j| {
                        let t = 2f64.powf(-10.0 + 0.5 * j as f64);
                        Cell {
                            t,
                            values: vec![t.powf(0.5 + k as f64)],
                        }
                    })
                    .collect(),
            })
            .collect();
        let c = find(&curves, None, (-2.0, 3.0)).unwrap();
        assert!(!c.collapses(), "cost {}", c.cost);
        assert!(c.cost > 0.1);
    }

    #[test]
    fn cost_is_zero_for_a_perfect_collapse_and_infinite_without_overlap() {
        let logs = log_curves(&synthetic(1.0, 0.0, 1), None);
        // Not exactly 0: the curves are interpolated linearly in log-log between their points.
        assert!(cost(&logs, 1.0) < 1e-3);
        assert!(cost(&logs, 0.7) > 10.0 * cost(&logs, 1.0));
        assert_eq!(cost(&logs, 40.0), f64::INFINITY);
    }
}
