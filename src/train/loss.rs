//! The losses (method §1, §6) as the step loop and the observables call them, from a point's
//! margin `y F`: the hinge with margin `1/alpha` and the cross-entropy
//! `log(1 + exp(-alpha y F)) / alpha`; and the error count.

use crate::config::Loss;

/// A loss at a given `alpha`.
#[derive(Clone, Copy, Debug)]
pub struct PointLoss {
    pub kind: Loss,
    alpha: f64,
    /// The hinge margin `1/alpha` as the trainer compares `f32` margins with it.
    threshold: f32,
}

impl PointLoss {
    pub fn new(kind: Loss, alpha: f64) -> Self {
        PointLoss {
            kind,
            alpha,
            threshold: (1.0 / alpha) as f32,
        }
    }

    /// The loss of one point from its margin `y F`; NaN stays NaN.
    #[inline]
    pub fn value(&self, margin: f32) -> f64 {
        match self.kind {
            Loss::Hinge => hinge(margin, self.threshold as f64),
            Loss::CrossEntropy => cross_entropy(margin, self.alpha),
        }
    }

    /// `-dl/d(y F)` of one point, the weight of its gradient in a step: 1 for a hinge point
    /// below the margin and 0 above it, `1 / (1 + exp(alpha y F))` for the cross-entropy.
    #[inline]
    pub fn slope(&self, margin: f32) -> f32 {
        match self.kind {
            Loss::Hinge => {
                if super::margins::is_fitted(margin, self.threshold) {
                    0.0
                } else {
                    1.0
                }
            }
            Loss::CrossEntropy => (1.0 / (1.0 + (self.alpha * margin as f64).exp())) as f32,
        }
    }

    /// Can a step whose batch holds only points known to be fitted be skipped? For the hinge
    /// only: its fitted points have an exactly zero gradient, a cross-entropy point never does.
    pub fn skips_fitted(&self) -> bool {
        self.kind == Loss::Hinge
    }

    /// Mean loss and error rate over margins `y F`.
    pub fn mean_and_error(&self, margins: impl Iterator<Item = f32>) -> (f64, f64) {
        let (mut loss, mut errors, mut n) = (0.0, 0usize, 0usize);
        for m in margins {
            loss += self.value(m);
            errors += is_error(m) as usize;
            n += 1;
        }
        if n == 0 {
            (f64::NAN, f64::NAN)
        } else {
            (loss / n as f64, errors as f64 / n as f64)
        }
    }
}

/// `log(1 + exp(-alpha m)) / alpha` without overflow: `softplus(x) = max(x, 0) + log1p(exp(-|x|))`.
#[inline]
pub fn cross_entropy(margin: f32, alpha: f64) -> f64 {
    let x = -alpha * margin as f64;
    (x.max(0.0) + (-x.abs()).exp().ln_1p()) / alpha
}

/// `(1/alpha - y F)^+` of one point from its margin `y F`; NaN stays NaN.
#[inline]
pub fn hinge(margin: f32, threshold: f64) -> f64 {
    let l = threshold - margin as f64;
    if l.is_nan() { f64::NAN } else { l.max(0.0) }
}

/// A point is misclassified when `y F <= 0` or `y F` is not finite.
#[inline]
pub fn is_error(margin: f32) -> bool {
    !(margin > 0.0 && margin.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hinge_and_errors() {
        assert_eq!(hinge(0.25, 1.0), 0.75);
        assert_eq!(hinge(2.0, 1.0), 0.0);
        assert!(hinge(f32::NAN, 1.0).is_nan());
        assert!(is_error(0.0) && is_error(-1.0) && is_error(f32::INFINITY) && is_error(f32::NAN));
        assert!(!is_error(1e-9));
        let hinge = PointLoss::new(Loss::Hinge, 1.0);
        let (l, e) = hinge.mean_and_error([0.0f32, 1.0, -1.0, 3.0].into_iter());
        assert_eq!((l, e), (0.75, 0.5));
        assert_eq!([0.5f32, 1.0, 2.0].map(|m| hinge.slope(m)), [1.0, 0.0, 0.0]);
        assert!(hinge.skips_fitted());
    }

    #[test]
    fn cross_entropy_is_stable_and_its_slope_is_its_derivative() {
        for alpha in [1e-3, 1.0, 32768.0] {
            let ce = PointLoss::new(Loss::CrossEntropy, alpha);
            assert!(!ce.skips_fitted());
            // At y F = 0 the loss is log 2 / alpha and the slope 1/2.
            assert!((ce.value(0.0) - std::f64::consts::LN_2 / alpha).abs() < 1e-12 / alpha);
            assert_eq!(ce.slope(0.0), 0.5);
            // Far on either side: no overflow, the asymptotes -y F and 0.
            let far = (1e4 / alpha) as f32;
            assert!(
                (ce.value(-far) - far as f64).abs() <= 1e-9 * far as f64,
                "{alpha}"
            );
            assert_eq!(ce.value(far), 0.0);
            assert_eq!((ce.slope(-far), ce.slope(far)), (1.0, 0.0));
            // The slope is -dl/dm, by central differences in f64.
            for m in [-2.0f32, -0.3, 0.1, 0.7, 3.0] {
                let m = m / alpha as f32;
                let h = 1e-4 / alpha;
                let fd = -(cross_entropy((m as f64 + h) as f32, alpha)
                    - cross_entropy((m as f64 - h) as f32, alpha))
                    / (((m as f64 + h) as f32 - (m as f64 - h) as f32) as f64);
                assert!(
                    (fd - ce.slope(m) as f64).abs() < 2e-3,
                    "alpha {alpha} m {m}: fd {fd} slope {}",
                    ce.slope(m)
                );
            }
        }
    }
}
