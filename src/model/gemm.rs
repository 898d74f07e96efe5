//! Safe wrappers over `matrixmultiply::sgemm` for the three products a dense layer needs. All
//! matrices are row-major; the wrappers check the slice lengths, which makes the unsafe call
//! sound. `matrixmultiply` is single-threaded here (its `threading` feature is off), so every
//! product is a deterministic function of its inputs.

/// The sizes of a dense layer's products: `n` points (rows), `fan_in` inputs, `fan_out`
/// outputs; the weights are `fan_out × fan_in`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DenseShape {
    pub n: usize,
    pub fan_in: usize,
    pub fan_out: usize,
}

impl DenseShape {
    pub fn new(n: usize, fan_in: usize, fan_out: usize) -> Self {
        DenseShape { n, fan_in, fan_out }
    }
}

/// `z = alpha · x wᵀ + beta · z` with `x: n×k`, `w: m×k`, `z: n×m` (a layer's forward pass;
/// `k = fan_in`, `m = fan_out`).
pub fn x_wt(s: DenseShape, alpha: f32, x: &[f32], w: &[f32], beta: f32, z: &mut [f32]) {
    let DenseShape {
        n,
        fan_in: k,
        fan_out: m,
    } = s;
    assert!(x.len() >= n * k && w.len() >= m * k && z.len() >= n * m);
    if n == 0 || m == 0 {
        return;
    }
    // SAFETY: the lengths checked above cover every index the strides reach.
    unsafe {
        matrixmultiply::sgemm(
            n,
            k,
            m,
            alpha,
            x.as_ptr(),
            k as isize,
            1,
            w.as_ptr(),
            1,
            k as isize,
            beta,
            z.as_mut_ptr(),
            m as isize,
            1,
        );
    }
}

/// `dx = alpha · dz w + beta · dx` with `dz: n×m`, `w: m×k`, `dx: n×k` (gradient to the input;
/// `k = fan_in`, `m = fan_out`).
pub fn dz_w(s: DenseShape, alpha: f32, dz: &[f32], w: &[f32], beta: f32, dx: &mut [f32]) {
    let DenseShape {
        n,
        fan_in: k,
        fan_out: m,
    } = s;
    assert!(dz.len() >= n * m && w.len() >= m * k && dx.len() >= n * k);
    if n == 0 || k == 0 {
        return;
    }
    // SAFETY: as above.
    unsafe {
        matrixmultiply::sgemm(
            n,
            m,
            k,
            alpha,
            dz.as_ptr(),
            m as isize,
            1,
            w.as_ptr(),
            k as isize,
            1,
            beta,
            dx.as_mut_ptr(),
            k as isize,
            1,
        );
    }
}

/// `g = alpha · dzᵀ x + beta · g` with `dz: n×m`, `x: n×k`, `g: m×k` (gradient to the weights;
/// `k = fan_in`, `m = fan_out`).
pub fn dzt_x(s: DenseShape, alpha: f32, dz: &[f32], x: &[f32], beta: f32, g: &mut [f32]) {
    let DenseShape {
        n,
        fan_in: k,
        fan_out: m,
    } = s;
    assert!(dz.len() >= n * m && x.len() >= n * k && g.len() >= m * k);
    if m == 0 || k == 0 {
        return;
    }
    // SAFETY: as above.
    unsafe {
        matrixmultiply::sgemm(
            m,
            n,
            k,
            alpha,
            dz.as_ptr(),
            1,
            m as isize,
            x.as_ptr(),
            k as isize,
            1,
            beta,
            g.as_mut_ptr(),
            k as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(
        n: usize,
        k: usize,
        m: usize,
        a: impl Fn(usize, usize) -> f32,
        b: impl Fn(usize, usize) -> f32,
    ) -> Vec<f32> {
        let mut c = vec![0.0; n * m];
        for i in 0..n {
            for j in 0..m {
                c[i * m + j] = (0..k).map(|l| a(i, l) * b(l, j)).sum();
            }
        }
        c
    }

    fn close(a: &[f32], b: &[f32]) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// The property the trainer's exact stop rule relies on: with `alpha = 1`, each row of
    /// `x wᵀ` has the same bits whatever the number of rows computed with it.
    #[test]
    fn rows_do_not_depend_on_how_many_are_computed() {
        for (k, m) in [(784, 64), (64, 64), (64, 1), (784, 256), (300, 7)] {
            let x: Vec<f32> = (0..100 * k)
                .map(|i| (i * 7919 % 1000) as f32 / 500.0 - 1.0)
                .collect();
            let w: Vec<f32> = (0..m * k)
                .map(|i| (i * 104_729 % 997) as f32 / 498.0 - 1.0)
                .collect();
            let mut all = vec![0.0; 100 * m];
            x_wt(DenseShape::new(100, k, m), 1.0, &x, &w, 0.0, &mut all);
            for (start, n) in [(0, 1), (3, 1), (5, 16), (37, 11), (60, 40)] {
                let mut part = vec![0.0; n * m];
                x_wt(
                    DenseShape::new(n, k, m),
                    1.0,
                    &x[start * k..],
                    &w,
                    0.0,
                    &mut part,
                );
                assert!(
                    part == all[start * m..(start + n) * m],
                    "k={k} m={m} rows {start}..+{n}"
                );
            }
        }
    }

    #[test]
    fn products_match_naive_loops() {
        let (n, k, m) = (5, 7, 3);
        let x: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut z = vec![1.0; n * m];
        x_wt(DenseShape::new(n, k, m), 2.0, &x, &w, 0.5, &mut z);
        let want: Vec<f32> = naive(n, k, m, |i, l| x[i * k + l], |l, j| w[j * k + l])
            .iter()
            .map(|v| 2.0 * v + 0.5)
            .collect();
        close(&z, &want);

        let dz: Vec<f32> = (0..n * m).map(|i| (i as f32 * 0.7).sin()).collect();
        let mut dx = vec![0.0; n * k];
        dz_w(DenseShape::new(n, k, m), 1.0, &dz, &w, 0.0, &mut dx);
        close(
            &dx,
            &naive(n, m, k, |i, j| dz[i * m + j], |j, l| w[j * k + l]),
        );

        let mut g = vec![0.0; m * k];
        dzt_x(DenseShape::new(n, k, m), 1.0, &dz, &x, 0.0, &mut g);
        close(
            &g,
            &naive(m, n, k, |j, i| dz[i * m + j], |i, l| x[i * k + l]),
        );
    }
}
