//! The paper's error bar on an exponent (its appendix judges collapses by eye and quotes about
//! ±0.2): the range of the exponent over which the collapse stays acceptable, reported beside
//! the statistical error.
//!
//! The rule, made explicit: a value is acceptable while the RMS log-distance between the curves
//! (neighbouring `P` for a collapse, the residuals for a fit) stays within `sqrt(min^2 + tol^2)`
//! with `tol` = [`ACCEPT_RMS`] = ln 1.15: the change of exponent adds at most a 15% mismatch
//! (in quadrature) to the best collapse. For a law with slope 1 in `T` and `P` doubling between
//! curves, a shift of `a` by 0.2 moves neighbouring curves apart by `0.2 ln 2 = 0.139`: the rule
//! reproduces the paper's tolerance whatever the quality of the best collapse.

/// Extra RMS log-distance that still counts as an acceptable collapse.
pub const ACCEPT_RMS: f64 = 0.139_761_942_375_158_8; // ln(1.15)

/// For curves that vary little (test errors, `dw / plateau` with its long flat part), the
/// extra RMS of a collapse is at most this fraction of their within-curve standard deviation
/// of `ln y`, if that is smaller than [`ACCEPT_RMS`]: 15% is a large error on a curve whose
/// whole range is 30%. (The vertical collapses of gamma and b, whose curves span decades, and the
/// fits judged by their residuals, delta and zeta, use [`ACCEPT_RMS`].)
pub const ACCEPT_FRACTION: f64 = 0.15;

/// An interval of acceptable values; `open` when it reaches an end of the scanned range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Acceptable {
    pub lo: f64,
    pub hi: f64,
    pub open: bool,
}

impl Acceptable {
    pub fn contains(&self, x: f64) -> bool {
        x >= self.lo && x <= self.hi
    }

    /// `[lo, hi]`, with `…` on an open end.
    pub fn show(&self) -> String {
        format!(
            "[{:.2}, {:.2}]{}",
            self.lo,
            self.hi,
            if self.open { " (open)" } else { "" }
        )
    }
}

/// The connected interval around the minimum of `scan` (`(x, rms)` in increasing `x`) where
/// `rms^2 <= min^2 + ACCEPT_RMS^2`.
pub fn acceptable(scan: &[(f64, f64)]) -> Option<Acceptable> {
    acceptable_within(scan, ACCEPT_RMS)
}

/// As [`acceptable`], with the extra RMS `tolerance`.
pub fn acceptable_within(scan: &[(f64, f64)], tolerance: f64) -> Option<Acceptable> {
    let (k, &(_, best)) = scan
        .iter()
        .enumerate()
        .filter(|(_, p)| p.1.is_finite())
        .min_by(|x, y| x.1.1.total_cmp(&y.1.1))?;
    let limit = (best * best + tolerance * tolerance).sqrt();
    let ok = |p: &&(f64, f64)| p.1 <= limit;
    let lo_k = k + 1 - scan[..=k].iter().rev().take_while(ok).count();
    let hi_k = k + scan[k..].iter().take_while(ok).count() - 1;
    Some(Acceptable {
        lo: scan[lo_k].0,
        hi: scan[hi_k].0,
        open: lo_k == 0 || hi_k == scan.len() - 1,
    })
}

/// Scan `x` over `[lo, hi]` in steps of `step`, evaluating `rms(x)`.
pub fn scan(lo: f64, hi: f64, step: f64, rms: impl Fn(f64) -> Option<f64>) -> Vec<(f64, f64)> {
    let n = ((hi - lo) / step).round() as usize;
    (0..=n)
        .map(|k| lo + k as f64 * step)
        .map(|x| (x, rms(x).unwrap_or(f64::INFINITY)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_where_the_rms_stays_close_to_its_minimum() {
        // rms^2 = 0.01 + (x - 1)^2: acceptable within ACCEPT_RMS of x = 1.
        let s = scan(0.0, 2.0, 0.001, |x| Some((0.01 + (x - 1.0).powi(2)).sqrt()));
        let r = acceptable(&s).unwrap();
        assert!((r.lo - (1.0 - ACCEPT_RMS)).abs() < 2e-3, "{r:?}");
        assert!((r.hi - (1.0 + ACCEPT_RMS)).abs() < 2e-3, "{r:?}");
        assert!(!r.open && r.contains(1.0) && !r.contains(1.5));
        // A flat scan is acceptable everywhere, and says the interval is open.
        let r = acceptable(&scan(0.0, 1.0, 0.1, |_| Some(0.3))).unwrap();
        assert!(r.open && r.lo == 0.0 && (r.hi - 1.0).abs() < 1e-12);
        assert_eq!(acceptable(&scan(0.0, 1.0, 0.1, |_| None)), None);
    }
}
