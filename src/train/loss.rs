//! The hinge loss with margin `1/alpha` and the error count (method §1).

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

/// Mean hinge loss and error rate over margins `y F`.
pub fn loss_and_error(margins: impl Iterator<Item = f32>, threshold: f64) -> (f64, f64) {
    let (mut loss, mut errors, mut n) = (0.0, 0usize, 0usize);
    for m in margins {
        loss += hinge(m, threshold);
        errors += is_error(m) as usize;
        n += 1;
    }
    if n == 0 {
        (f64::NAN, f64::NAN)
    } else {
        (loss / n as f64, errors as f64 / n as f64)
    }
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
        let (l, e) = loss_and_error([0.0f32, 1.0, -1.0, 3.0].into_iter(), 1.0);
        assert_eq!((l, e), (0.75, 0.5));
    }
}
