//! Least squares with standard errors, for power laws fitted in log space.
//!
//! Written by hand: the fits here have at most three coefficients, so the normal equations are
//! a 3x3 solve; a linear-algebra crate would be heavier than the code.

/// A fitted number with its standard error (or another stated error bar).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub error: f64,
}

impl Estimate {
    pub fn new(value: f64, error: f64) -> Self {
        Estimate { value, error }
    }

    /// `value ± error` with sensible digits.
    pub fn show(&self) -> String {
        if !self.value.is_finite() {
            return "-".into();
        }
        if self.error.is_finite() && self.error > 0.0 {
            format!("{:.3} ± {:.3}", self.value, self.error)
        } else {
            format!("{:.3}", self.value)
        }
    }

    /// Does `x` lie within `k` error bars?
    pub fn agrees_with(&self, x: f64, k: f64) -> bool {
        (self.value - x).abs() <= k * self.error
    }
}

/// Ordinary least squares `y = X beta` (the caller includes a column of ones for an intercept).
/// Returns the coefficients with their standard errors, or `None` when there are not more
/// points than coefficients or the columns are collinear.
pub fn ols(x: &[Vec<f64>], y: &[f64]) -> Option<Vec<Estimate>> {
    let n = y.len();
    let k = x.first()?.len();
    if n <= k || x.iter().any(|r| r.len() != k) {
        return None;
    }
    // Normal equations A beta = c with A = XᵀX, c = Xᵀy; solve by Gauss-Jordan with pivoting,
    // carrying the identity to get A⁻¹ for the standard errors.
    let mut a = vec![vec![0.0; 2 * k + 1]; k];
    for (row, &yi) in x.iter().zip(y) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += row[i] * row[j];
            }
            a[i][2 * k] += row[i] * yi;
        }
    }
    let scale: f64 = (0..k).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    for (i, r) in a.iter_mut().enumerate() {
        r[k + i] = 1.0;
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        let p = a[col][col];
        for v in a[col].iter_mut() {
            *v /= p;
        }
        for r in 0..k {
            if r != col {
                let f = a[r][col];
                if f != 0.0 {
                    let pivot_row = a[col].clone();
                    for (v, pv) in a[r].iter_mut().zip(pivot_row) {
                        *v -= f * pv;
                    }
                }
            }
        }
    }
    let beta: Vec<f64> = (0..k).map(|i| a[i][2 * k]).collect();
    let rss: f64 = x
        .iter()
        .zip(y)
        .map(|(row, &yi)| (yi - row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()).powi(2))
        .sum();
    let sigma2 = rss / (n - k) as f64;
    Some(
        (0..k)
            .map(|i| Estimate::new(beta[i], (sigma2 * a[i][k + i]).max(0.0).sqrt()))
            .collect(),
    )
}

/// Fit `log y = slope · log x + c`; returns (slope, intercept).
pub fn power_law(x: &[f64], y: &[f64]) -> Option<(Estimate, Estimate)> {
    let rows: Vec<Vec<f64>> = x.iter().map(|&xi| vec![xi.ln(), 1.0]).collect();
    let ly: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    let b = ols(&rows, &ly)?;
    Some((b[0], b[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_and_plane() {
        let x: Vec<f64> = (1..=10).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 * v.powf(1.5)).collect();
        let (s, c) = power_law(&x, &y).unwrap();
        assert!((s.value - 1.5).abs() < 1e-12 && s.error < 1e-9);
        assert!((c.value - 3f64.ln()).abs() < 1e-12);

        let rows: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![(i % 5) as f64, (i / 5) as f64, 1.0])
            .collect();
        let y: Vec<f64> = rows.iter().map(|r| 0.5 * r[0] - 2.0 * r[1] + 7.0).collect();
        let b = ols(&rows, &y).unwrap();
        assert!(
            (b[0].value - 0.5).abs() < 1e-10
                && (b[1].value + 2.0).abs() < 1e-10
                && (b[2].value - 7.0).abs() < 1e-10
        );
    }

    #[test]
    fn standard_errors_cover_the_truth_under_noise() {
        // y = 2x + 1 + noise (deterministic pseudo-noise, sd ~0.3): the slope is within 3 sigma.
        let mut s = 7u64;
        let mut noise = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1.0
        };
        let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![i as f64 / 20.0, 1.0]).collect();
        let y: Vec<f64> = rows.iter().map(|r| 2.0 * r[0] + 1.0 + noise()).collect();
        let b = ols(&rows, &y).unwrap();
        assert!(b[0].agrees_with(2.0, 3.0), "{:?}", b[0]);
        assert!(b[0].error > 0.005 && b[0].error < 0.05, "{:?}", b[0]);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(
            ols(&[vec![1.0, 1.0], vec![2.0, 1.0]], &[1.0, 2.0]).is_none(),
            "as many points as coefficients"
        );
        assert!(
            ols(
                &[vec![1.0, 2.0], vec![1.0, 2.0], vec![1.0, 2.0]],
                &[1.0, 2.0, 3.0]
            )
            .is_none(),
            "collinear"
        );
    }
}
