//! Layers as forward/backward pairs (method §2). Activations are row-major `n × features`, one row
//! per point. Scalings live in the forward pass (weights are drawn N(0,1)). A backward pass
//! never allocates: the caller owns every buffer.

use super::gemm::{self, DenseShape};
use super::unpacked::dense;
use std::f32::consts::SQRT_2;

/// Dense layer without bias: `z = scale · x Wᵀ` with `x: n×fan_in`, `W: fan_out×fan_in`.
/// `scale` is `1/sqrt(fan_in)` for hidden layers and `1/h` for the readout (method §2, `fc`).
///
/// The product runs with `alpha = 1` and the scale is applied after it: with another `alpha`,
/// matrixmultiply rounds rows of partial tiles differently from rows of full tiles, and a
/// point's output would depend on how many rows were evaluated with it. A training batch goes
/// through `unpacked::dense` instead (same bits, no packing of the weights).
pub fn dense_forward(x: &[f32], w: &[f32], z: &mut [f32], s: DenseShape, scale: f32) {
    if dense::applies(s.n) {
        return dense::forward(x, w, z, s, scale);
    }
    gemm::x_wt(s, 1.0, x, w, 0.0, z);
    if scale != 1.0 {
        for v in &mut z[..s.n * s.fan_out] {
            *v *= scale;
        }
    }
}

/// Gradient to the input of [`dense_forward`]: `dx = scale · dz W`.
pub fn dense_backward_input(dz: &[f32], w: &[f32], dx: &mut [f32], s: DenseShape, scale: f32) {
    if dense::applies_to_input(s.n, s.fan_out) {
        return dense::backward_input(dz, w, dx, s, scale);
    }
    gemm::dz_w(s, scale, dz, w, 0.0, dx);
}

/// Gradient to the weights of [`dense_forward`], added in place: `target += coeff · scale · dzᵀ x`.
/// `target` is a gradient buffer (`coeff = 1`) or the weights themselves (`coeff = -lr`: an SGD
/// step fused into the product, so no gradient buffer is written and read again).
pub fn dense_backward_weights(
    dz: &[f32],
    x: &[f32],
    target: &mut [f32],
    s: DenseShape,
    scale: f32,
    coeff: f32,
) {
    gemm::dzt_x(s, coeff * scale, dz, x, 1.0, target);
}

/// Normalized ReLU `phi(z) = relu(z) / sqrt(E[relu(g)^2]) = sqrt(2) relu(z)`, in place.
/// A NaN input stays NaN (so a diverging run shows in its outputs).
pub fn relu_forward(z: &mut [f32]) {
    for v in z {
        *v = if *v < 0.0 { 0.0 } else { *v * SQRT_2 };
    }
}

/// Backward of [`relu_forward`] from its output `a = phi(z)`: `da *= phi'(z) = sqrt(2) [a > 0]`.
pub fn relu_backward(a: &[f32], da: &mut [f32]) {
    for (d, &v) in da.iter_mut().zip(a) {
        *d = if v > 0.0 { *d * SQRT_2 } else { 0.0 };
    }
}

/// Add `scale · b` to every row of `z` (`n × b.len()`): the bias of a dense or conv layer.
pub fn bias_forward(z: &mut [f32], b: &[f32], n: usize, scale: f32) {
    for row in z[..n * b.len()].chunks_exact_mut(b.len()) {
        for (v, bv) in row.iter_mut().zip(b) {
            *v += scale * bv;
        }
    }
}

/// Gradient of [`bias_forward`] added in place: `target += coeff · scale · sum_rows dz`.
pub fn bias_backward(dz: &[f32], target: &mut [f32], n: usize, scale: f32, coeff: f32) {
    let f = coeff * scale;
    for row in dz[..n * target.len()].chunks_exact(target.len()) {
        for (t, g) in target.iter_mut().zip(row) {
            *t += f * g;
        }
    }
}

/// Residual average `x <- (x + r) / sqrt(2)` (method §2, `mnas` blocks), in place.
pub fn residual_forward(x: &mut [f32], r: &[f32]) {
    for (v, rv) in x.iter_mut().zip(r) {
        *v = (*v + rv) * std::f32::consts::FRAC_1_SQRT_2;
    }
}

/// Backward of [`residual_forward`]: both branches get `dy / sqrt(2)`; `dy` becomes the
/// gradient to `x` and `dr` (same length) receives the gradient to `r`.
pub fn residual_backward(dy: &mut [f32], dr: &mut [f32]) {
    for (g, d) in dy.iter_mut().zip(dr.iter_mut()) {
        *g *= std::f32::consts::FRAC_1_SQRT_2;
        *d = *g;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Stream};
    use rand_distr::{Distribution, StandardNormal};

    fn normal(n: usize, seed: u64) -> Vec<f32> {
        let mut r = rng::stream(seed, Stream::MonteCarlo);
        (0..n).map(|_| StandardNormal.sample(&mut r)).collect()
    }

    /// Scalar loss `sum(c ⊙ dense(x, w))` and its gradients, checked by central differences in f64
    /// on the naive definition.
    #[test]
    fn dense_pair_matches_finite_differences() {
        let (n, fan_in, fan_out) = (3, 5, 4);
        let scale = 1.0 / (fan_in as f32).sqrt();
        let x = normal(n * fan_in, 1);
        let w = normal(fan_out * fan_in, 2);
        let c = normal(n * fan_out, 3);
        let loss = |x: &[f64], w: &[f64]| -> f64 {
            let mut s = 0.0;
            for i in 0..n {
                for j in 0..fan_out {
                    let z: f64 = (0..fan_in)
                        .map(|k| x[i * fan_in + k] * w[j * fan_in + k])
                        .sum::<f64>()
                        * scale as f64;
                    s += c[i * fan_out + j] as f64 * z;
                }
            }
            s
        };
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();

        let mut z = vec![0.0; n * fan_out];
        let shape = DenseShape::new(n, fan_in, fan_out);
        dense_forward(&x, &w, &mut z, shape, scale);
        let fwd: f64 = z
            .iter()
            .zip(&c)
            .map(|(a, b)| (*a as f64) * (*b as f64))
            .sum();
        assert!((fwd - loss(&x64, &w64)).abs() < 1e-5);

        let mut dx = vec![0.0; n * fan_in];
        dense_backward_input(&c, &w, &mut dx, shape, scale);
        let mut gw = vec![0.5; fan_out * fan_in]; // accumulates onto what is there
        dense_backward_weights(&c, &x, &mut gw, shape, scale, 2.0);
        let h = 1e-6;
        for k in 0..x64.len() {
            let (mut p, mut m) = (x64.clone(), x64.clone());
            p[k] += h;
            m[k] -= h;
            let fd = (loss(&p, &w64) - loss(&m, &w64)) / (2.0 * h);
            assert!(
                (fd - dx[k] as f64).abs() < 1e-4,
                "dx[{k}]: {fd} vs {}",
                dx[k]
            );
        }
        for k in 0..w64.len() {
            let (mut p, mut m) = (w64.clone(), w64.clone());
            p[k] += h;
            m[k] -= h;
            let fd = (loss(&x64, &p) - loss(&x64, &m)) / (2.0 * h);
            assert!(
                (0.5 + 2.0 * fd - gw[k] as f64).abs() < 1e-4,
                "dw[{k}]: {fd} vs {}",
                gw[k]
            );
        }
    }

    #[test]
    fn bias_and_residual_pairs_match_their_derivatives() {
        // Both are linear: the gradient of sum(c ⊙ y) is exact, compare to the definition.
        let (n, m) = (3, 2);
        let mut z = vec![1.0; n * m];
        bias_forward(&mut z, &[2.0, -1.0], n, 0.5);
        assert_eq!(z, [2.0, 0.5, 2.0, 0.5, 2.0, 0.5]);
        let dz = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut gb = [10.0, 0.0];
        bias_backward(&dz, &mut gb, n, 0.5, -2.0);
        assert_eq!(gb, [10.0 - 9.0, -12.0]);
        let mut x = vec![1.0, 3.0];
        residual_forward(&mut x, &[1.0, -1.0]);
        assert!((x[0] - 2.0f32.sqrt()).abs() < 1e-6 && (x[1] - 2.0f32.sqrt()).abs() < 1e-6);
        let (mut dy, mut dr) = (vec![2.0, -4.0], vec![9.0, 9.0]);
        residual_backward(&mut dy, &mut dr);
        let s = 2.0f32.sqrt();
        assert!(
            (dy[0] - s).abs() < 1e-6 && (dy[1] + 2.0 * s).abs() < 1e-6,
            "{dy:?}"
        );
        assert_eq!(dr, dy);
    }

    #[test]
    fn relu_pair_is_normalized_and_matches_derivative() {
        let mut a = vec![-1.0, 0.0, 2.0, f32::NAN];
        relu_forward(&mut a);
        assert_eq!(&a[..3], &[0.0, 0.0, 2.0 * SQRT_2]);
        assert!(a[3].is_nan(), "NaN must propagate");
        let mut d = vec![1.0, 1.0, 3.0, 1.0];
        relu_backward(&a, &mut d);
        assert_eq!(&d[..3], &[0.0, 0.0, 3.0 * SQRT_2]);
        // E[phi(g)^2] = 1 for g ~ N(0,1).
        let mut g = normal(200_000, 4);
        relu_forward(&mut g);
        let m2 = g.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / g.len() as f64;
        assert!((m2 - 1.0).abs() < 0.01, "{m2}");
    }
}
