//! Scaling collapse (method §5): the exponent `a` for which the curves `y(T)` of different `P`,
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
//! there are several. A bootstrap is only an error bar when it is stable: with few seeds and a
//! weak collapse, resampled minima jump between distant local minima and their spread exceeds
//! the acceptable range itself. Then the scan's interval is reported instead, or, when that is
//! wider than the acceptable range too, the error is *undetermined* ([`ErrorSource`]).

use super::accept::{ACCEPT_FRACTION, ACCEPT_RMS, Acceptable, acceptable_within};
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

/// Mean squared vertical log-distance between neighbouring curves (sorted by `P`) drawn as
/// `ln y + beta ln P` against `ln T + a ln P`, over their overlaps; `None` when a pair of
/// neighbours shares fewer than two points.
pub fn mismatch(curves: &[LogCurve], a: f64, beta: f64) -> Option<f64> {
    if curves.len() < 2 {
        return None;
    }
    let shifted: Vec<Vec<(f64, f64)>> = curves
        .iter()
        .map(|c| {
            c.points
                .iter()
                .map(|&(x, y)| (x + a * c.ln_p, y + beta * c.ln_p))
                .collect()
        })
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
            return None;
        }
        count += n;
    }
    Some(sum / count as f64)
}

/// Variance of all `ln y` of `curves` (the normalization of [`cost`]).
fn variance(curves: &[LogCurve]) -> f64 {
    let all: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .collect();
    let mean = all.iter().sum::<f64>() / all.len().max(1) as f64;
    all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / all.len().max(1) as f64
}

/// The acceptable-range tolerance for `curves` (`accept.rs`): [`ACCEPT_RMS`], or
/// [`ACCEPT_FRACTION`] of the curves' own spread of `ln y` when that is smaller.
pub fn tolerance(curves: &[LogCurve]) -> f64 {
    ACCEPT_RMS.min(ACCEPT_FRACTION * within_variance(curves).sqrt())
}

/// Mean within-curve variance of `ln y`: unchanged by vertical shifts, so it normalizes costs
/// that also fit a height factor `P^beta`.
fn within_variance(curves: &[LogCurve]) -> f64 {
    let v: Vec<f64> = curves
        .iter()
        .map(|c| {
            let n = c.points.len().max(1) as f64;
            let m = c.points.iter().map(|p| p.1).sum::<f64>() / n;
            c.points.iter().map(|p| (p.1 - m).powi(2)).sum::<f64>() / n
        })
        .collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Normalized collapse cost of `curves` (sorted by `P`) at exponent `a`.
pub fn cost(curves: &[LogCurve], a: f64) -> f64 {
    let var = variance(curves);
    if var <= 0.0 {
        return f64::INFINITY;
    }
    mismatch(curves, a, 0.0).map_or(f64::INFINITY, |m| m / var)
}

/// The most seeds any cell of `curves` has.
fn max_seeds(curves: &[Curve]) -> usize {
    curves
        .iter()
        .flat_map(|c| &c.cells)
        .map(|c| c.values.len())
        .max()
        .unwrap_or(0)
}

/// One bootstrap resample: each cell becomes the median of its values drawn with replacement,
/// from a fixed linear congruential generator (`state`), so error bars are reproducible.
fn resample(curves: &[Curve], state: &mut u64) -> Vec<Curve> {
    let mut next = |n: usize| {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*state >> 33) as usize) % n
    };
    curves
        .iter()
        .map(|c| Curve {
            p: c.p,
            cells: c
                .cells
                .iter()
                .map(|cell| super::curves::Cell {
                    t: cell.t,
                    runs: 1,
                    values: vec![median(
                        &(0..cell.values.len())
                            .map(|_| cell.values[next(cell.values.len())])
                            .collect::<Vec<_>>(),
                    )],
                })
                .collect(),
        })
        .collect()
}

/// Sample standard deviation (of bootstrap estimates).
fn standard_deviation(v: &[f64]) -> f64 {
    let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len().max(2) - 1) as f64).sqrt()
}

/// Where the statistical error of a collapse exponent comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSource {
    /// The spread of `a` over bootstrap resamples of the seeds (or the cost interval, if wider).
    Bootstrap,
    /// The half-width of the interval where the cost stays within [`COST_FACTOR`] times its
    /// minimum: one seed, or a bootstrap wider than the acceptable range.
    Scan,
    /// No error bar: the bootstrap is unstable and the cost interval is wider than the
    /// acceptable range as well (the value is a best guess, its acceptable range the bound).
    Undetermined,
}

impl ErrorSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSource::Bootstrap => "bootstrap",
            ErrorSource::Scan => "scan",
            ErrorSource::Undetermined => "undetermined",
        }
    }
}

/// The statistical error of a collapse exponent and where it comes from. No error is reported
/// that exceeds the half-width of the acceptable range `accept` (the bound): the bootstrap over
/// seeds while its spread `bootstrap_sd` stays within it (widened to the cost interval's
/// `half_width` when that stays within it too); otherwise the cost interval, if it does;
/// otherwise undetermined (NaN).
pub fn statistical_error(
    half_width: f64,
    bootstrap_sd: Option<f64>,
    accept: Option<Acceptable>,
) -> (f64, ErrorSource) {
    let bound = accept.map_or(f64::INFINITY, |r| (r.hi - r.lo) / 2.0);
    let scan_ok = half_width.is_finite() && half_width <= bound;
    match bootstrap_sd {
        Some(sd) if sd.is_finite() && sd <= bound => (
            if scan_ok { half_width.max(sd) } else { sd },
            ErrorSource::Bootstrap,
        ),
        _ if scan_ok => (half_width, ErrorSource::Scan),
        _ => (f64::NAN, ErrorSource::Undetermined),
    }
}

/// Half-width of the connected interval around the minimum of `scan` (`(a, cost)`, cost
/// increasing away from the minimum `min`) where the cost stays within [`COST_FACTOR`] x the
/// minimum or `floor` above it, whichever is wider; at least one step.
fn cost_half_width(scan: &[(f64, f64)], best: f64, min: f64, floor: f64) -> Option<f64> {
    let limit = (COST_FACTOR * min).max(min + floor);
    let k = scan.iter().position(|&(x, _)| x == best)?;
    let lo = scan[..=k]
        .iter()
        .rev()
        .take_while(|(_, v)| *v <= limit)
        .last()
        .map_or(best, |p| p.0);
    let hi = scan[k..]
        .iter()
        .take_while(|(_, v)| *v <= limit)
        .last()
        .map_or(best, |p| p.0);
    Some(((hi - lo) / 2.0).max(A_STEP))
}

/// The result of a collapse.
#[derive(Clone, Debug)]
pub struct Collapse {
    pub a: Estimate,
    /// Where `a.error` comes from.
    pub error_source: ErrorSource,
    /// Normalized cost at the best `a`.
    pub cost: f64,
    /// `(a, cost)` over the scanned range (finite costs only).
    pub scan: Vec<(f64, f64)>,
    /// Standard deviation of `a` over bootstrap resamples of the seeds, if there were seeds.
    pub bootstrap_sd: Option<f64>,
    /// The range of `a` over which the collapse stays acceptable (`accept.rs`).
    pub accept: Option<Acceptable>,
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
    let half_width = cost_half_width(&scan, a, c, COST_FLOOR)?;

    let bootstrap_sd = (max_seeds(curves) >= 2).then(|| {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let samples: Vec<f64> = (0..40)
            .filter_map(|_| {
                let resampled = resample(curves, &mut state);
                best(&log_curves(&resampled, norm), range).map(|b| b.0)
            })
            .collect();
        standard_deviation(&samples)
    });
    let var = variance(&logs);
    let rms: Vec<(f64, f64)> = scan.iter().map(|&(x, c)| (x, (c * var).sqrt())).collect();
    let accept = acceptable_within(&rms, tolerance(&logs));
    let (error, error_source) = statistical_error(half_width, bootstrap_sd, accept);
    Some(Collapse {
        a: Estimate::new(a, error),
        error_source,
        cost: c,
        scan,
        bootstrap_sd,
        accept,
    })
}

/// A collapse that also fits a height factor: `y P^beta` against `T P^a` (method §5: the lazy
/// test-error curves, whose heights may differ by `P^beta`).
#[derive(Clone, Debug)]
pub struct HeightCollapse {
    /// `a` with its statistical error ([`statistical_error`]).
    pub a: Estimate,
    /// Where `a.error` comes from, and the bootstrap's spread (NaN with one seed).
    pub error_source: ErrorSource,
    pub bootstrap_sd: f64,
    pub beta: Estimate,
    /// Mismatch at the best `(a, beta)` divided by the mean within-curve variance of `ln y`
    /// (unchanged by the height shift); above [`NO_COLLAPSE`] the curves do not collapse.
    pub cost: f64,
    /// RMS log-distance between neighbouring curves at the best `(a, beta)`.
    pub rms: f64,
    /// Acceptable ranges of `a` (beta re-fitted at each `a`) and of `beta` (at the best `a`).
    pub a_accept: Option<Acceptable>,
    pub beta_accept: Option<Acceptable>,
}

impl HeightCollapse {
    pub fn collapses(&self) -> bool {
        self.cost < NO_COLLAPSE
    }
}

/// At exponent `a`: the mismatch as a quadratic `q0 + q1 beta + q2 beta^2` in `beta` (the
/// overlaps do not depend on `beta`), or `None` without overlap.
fn height_quadratic(curves: &[LogCurve], a: f64) -> Option<[f64; 3]> {
    let shifted: Vec<(f64, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|c| {
            let pts = c.points.iter().map(|&(x, y)| (x + a * c.ln_p, y)).collect();
            (c.ln_p, pts)
        })
        .collect();
    let (mut q, mut count) = ([0.0; 3], 0usize);
    for pair in shifted.windows(2) {
        let ((lu, u), (lv, v)) = (&pair[0], &pair[1]);
        let lo = u[0].0.max(v[0].0);
        let hi = u[u.len() - 1].0.min(v[v.len() - 1].0);
        let mut n = 0;
        for (this, other, dl) in [(u, v, lu - lv), (v, u, lv - lu)] {
            for &(x, y) in this.iter().filter(|(x, _)| *x >= lo && *x <= hi) {
                let d = y - interpolate(other, x);
                q[0] += d * d;
                q[1] += 2.0 * d * dl;
                q[2] += dl * dl;
                n += 1;
            }
        }
        if n < 2 {
            return None;
        }
        count += n;
    }
    Some(q.map(|v| v / count as f64))
}

/// The best `beta` and its mismatch for a quadratic of [`height_quadratic`].
fn best_beta(q: [f64; 3]) -> (f64, f64) {
    if q[2] <= 0.0 {
        return (0.0, q[0]);
    }
    let b = -q[1] / (2.0 * q[2]);
    (b, (q[0] + q[1] * b + q[2] * b * b).max(0.0))
}

fn best_height(logs: &[LogCurve], range: (f64, f64)) -> Option<(f64, f64, f64, Scan)> {
    let n = ((range.1 - range.0) / A_STEP).round() as usize;
    let profile: Scan = (0..=n)
        .map(|k| range.0 + k as f64 * A_STEP)
        .map(|a| {
            let m = height_quadratic(logs, a).map_or(f64::INFINITY, |q| best_beta(q).1);
            (a, m.sqrt())
        })
        .collect();
    let &(a, rms) = profile
        .iter()
        .filter(|p| p.1.is_finite())
        .min_by(|x, y| x.1.total_cmp(&y.1))?;
    let beta = best_beta(height_quadratic(logs, a)?).0;
    Some((a, beta, rms, profile))
}

/// Find `a` in `range` and the height exponent `beta` for `curves`.
pub fn find_with_height(curves: &[Curve], range: (f64, f64)) -> Option<HeightCollapse> {
    let logs = log_curves(curves, None);
    if logs.len() < 2 {
        return None;
    }
    let within = within_variance(&logs);
    let tolerance = tolerance(&logs);
    let (a, beta, rms, profile) = best_height(&logs, range)?;
    let q = height_quadratic(&logs, a)?;
    // beta where q0 + q1 b + q2 b^2 <= rms^2 + tolerance^2.
    let beta_accept = (q[2] > 0.0).then(|| {
        let limit = rms * rms + tolerance * tolerance;
        let disc = (q[1] * q[1] - 4.0 * q[2] * (q[0] - limit)).max(0.0).sqrt();
        Acceptable {
            lo: (-q[1] - disc) / (2.0 * q[2]),
            hi: (-q[1] + disc) / (2.0 * q[2]),
            open: false,
        }
    });
    let (mut sd_a, mut sd_b) = (f64::NAN, f64::NAN);
    if max_seeds(curves) >= 2 {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let samples: Vec<(f64, f64)> = (0..20)
            .filter_map(|_| {
                let resampled = resample(curves, &mut state);
                best_height(&log_curves(&resampled, None), range).map(|b| (b.0, b.1))
            })
            .collect();
        sd_a = standard_deviation(&samples.iter().map(|s| s.0).collect::<Vec<_>>());
        sd_b = standard_deviation(&samples.iter().map(|s| s.1).collect::<Vec<_>>());
    }
    // The cost interval of a on the profile (cost = rms^2 / within, as for `find`).
    let costs: Scan = profile.iter().map(|&(x, r)| (x, r * r)).collect();
    let half_width = cost_half_width(&costs, a, rms * rms, COST_FLOOR * within)?;
    let a_accept = acceptable_within(&profile, tolerance);
    let (error, error_source) =
        statistical_error(half_width, sd_a.is_finite().then_some(sd_a), a_accept);
    Some(HeightCollapse {
        a: Estimate::new(a, error),
        error_source,
        bootstrap_sd: sd_a,
        beta: Estimate::new(beta, sd_b),
        cost: if within > 0.0 {
            rms * rms / within
        } else {
            f64::INFINITY
        },
        rms,
        a_accept,
        beta_accept,
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
                            runs: seeds,
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
    fn a_height_factor_and_a_shift_are_recovered_together() {
        // y = P^-0.3 (1 + 0.5 tanh(ln(T P^0.7) + 3)): a drop at T ~ P^-0.7, height ~ P^-0.3.
        let curves: Vec<Curve> = [256usize, 512, 1024, 2048, 4096]
            .iter()
            .map(|&p| Curve {
                p,
                cells: (0..30)
                    .map(|k| {
                        let t = 2f64.powf(-18.0 + 0.5 * k as f64);
                        let u = (t * (p as f64).powf(0.7)).ln() + 3.0;
                        Cell {
                            t,
                            values: vec![(p as f64).powf(-0.3) * (1.0 + 0.5 * u.tanh())],
                            runs: 1,
                        }
                    })
                    .collect(),
            })
            .collect();
        let c = find_with_height(&curves, (-1.0, 2.0)).unwrap();
        assert!((c.a.value - 0.7).abs() < 0.02, "{:?}", c.a);
        assert!((c.beta.value - 0.3).abs() < 0.01, "{:?}", c.beta);
        assert!(
            c.collapses() && c.rms < 0.01,
            "cost {} rms {}",
            c.cost,
            c.rms
        );
        let (ra, rb) = (c.a_accept.unwrap(), c.beta_accept.unwrap());
        assert!(ra.contains(0.7) && rb.contains(0.3), "{ra:?} {rb:?}");
        assert!(ra.hi - ra.lo < 1.5 && rb.hi - rb.lo < 0.6, "{ra:?} {rb:?}");
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
                            runs: 1,
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
    fn no_error_wider_than_the_acceptable_range_is_reported() {
        let range = Some(Acceptable {
            lo: 0.4,
            hi: 0.8,
            open: false,
        });
        // A stable bootstrap, widened to the cost interval when that is within the bound.
        assert_eq!(
            statistical_error(0.1, Some(0.05), range),
            (0.1, ErrorSource::Bootstrap)
        );
        assert_eq!(
            statistical_error(0.5, Some(0.05), range),
            (0.05, ErrorSource::Bootstrap)
        );
        // An unstable bootstrap (spread beyond half the acceptable range, 0.2): the scan.
        assert_eq!(
            statistical_error(0.1, Some(1.5), range),
            (0.1, ErrorSource::Scan)
        );
        assert_eq!(
            statistical_error(0.1, None, range),
            (0.1, ErrorSource::Scan)
        );
        // Neither is an error bar.
        let (e, source) = statistical_error(0.5, Some(1.5), range);
        assert!(e.is_nan() && source == ErrorSource::Undetermined);
        // Without an acceptable range nothing bounds them.
        assert_eq!(
            statistical_error(0.5, Some(1.5), None),
            (1.5, ErrorSource::Bootstrap)
        );
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
