//! Finite-difference check shared by every network's tests. The scalar checked is
//! `S(w) = sum_i c_i f(w, x_i)`; its gradient comes from `backward(dout = c)`. The check is done
//! in f32 with central differences, per parameter, on all parameters or a sample of them, with
//! a tolerance far below a wrong factor of 2 or a transposed matrix. Parameters within a step of a
//! ReLU kink are detected (the one-sided slopes disagree) and skipped; they must be few.

use super::{Network, Update};

/// The gradient of `S(w) = sum_i c_i f(w, x_i)` over the `n` rows of `x` from `backward`
/// (which must leave the parameters alone).
fn gradient(net: &mut dyn Network, params: &[f32], x: &[f32], n: usize, c: &[f32]) -> Vec<f32> {
    let d = net.input_dim();
    net.batch_input(n).copy_from_slice(&x[..n * d]);
    net.forward(params);
    let mut grad = vec![0.0f32; params.len()];
    let mut w = params.to_vec();
    net.backward(&mut w, c, Update::Gradient(&mut grad));
    assert_eq!(w, params, "a gradient pass must not change the parameters");
    grad
}

/// Check `net`'s gradient at `params` on the `n` rows of `x` against central differences.
/// Returns the largest relative error seen.
pub fn check(
    net: &mut dyn Network,
    params: &[f32],
    x: &[f32],
    n: usize,
    c: &[f32],
    max_params: usize,
) -> f64 {
    let d = net.input_dim();
    let grad = gradient(net, params, x, n, c);

    let mut out = vec![0.0f32; n];
    let mut s = |net: &mut dyn Network, w: &[f32]| -> f64 {
        net.predict(w, &x[..n * d], &mut out);
        out.iter()
            .zip(c)
            .map(|(&o, &ci)| o as f64 * ci as f64)
            .sum()
    };
    let gmax = grad.iter().fold(0.0f64, |m, g| m.max(g.abs() as f64));
    assert!(gmax > 0.0, "gradient is identically zero");
    let step = (params.len() / max_params).max(1);
    let s0 = s(net, params);
    let (mut worst, mut checked, mut kinks) = (0.0f64, 0usize, 0usize);
    for k in (0..params.len()).step_by(step) {
        let h = 1e-3f32 * (1.0 + params[k].abs());
        let mut wp = params.to_vec();
        wp[k] += h;
        let mut wm = params.to_vec();
        wm[k] -= h;
        let (sp, sm) = (s(net, &wp), s(net, &wm));
        let (hp, hm) = (
            wp[k] as f64 - params[k] as f64,
            params[k] as f64 - wm[k] as f64,
        );
        let scale = 1e-2 * gmax;
        // A ReLU that switches inside [w - h, w + h] makes the one-sided slopes disagree:
        // such a parameter says nothing about the backward pass, so it is skipped (and counted).
        let (right, left) = ((sp - s0) / hp, (s0 - sm) / hm);
        if (right - left).abs() > 0.05 * (scale + right.abs().max(left.abs())) {
            kinks += 1;
            continue;
        }
        let fd = (sp - sm) / (hp + hm);
        let err = (fd - grad[k] as f64).abs() / (scale + fd.abs().max(grad[k].abs() as f64));
        worst = worst.max(err);
        checked += 1;
        assert!(
            err < 2e-2,
            "parameter {k}: finite difference {fd} vs backward {}",
            grad[k]
        );
    }
    assert!(
        kinks * 10 <= checked,
        "too many parameters at a ReLU kink ({kinks} of {})",
        kinks + checked
    );
    worst
}

/// `predict` over many rows (more than one evaluation chunk) gives, for every row, exactly the
/// bits that `forward` gives for it inside a training batch of `batch` rows.
pub fn predict_matches_forward(net: &mut dyn Network, params: &[f32], x: &[f32], batch: usize) {
    let d = net.input_dim();
    let n = x.len() / d;
    let mut all = vec![0.0; n];
    net.predict(params, x, &mut all);
    for start in [0, batch, n / 2, n - batch] {
        net.batch_input(batch)
            .copy_from_slice(&x[start * d..(start + batch) * d]);
        assert_eq!(
            net.forward(params),
            &all[start..start + batch],
            "rows {start}.."
        );
    }
}

/// With zero coefficients on some rows, dropping those rows (`retain_rows`) and taking a fused
/// SGD step (`Update::Sgd`) gives `w0 - lr · gradient` of the full batch.
pub fn fused_sgd_matches_gradient_step(
    net: &mut dyn Network,
    w0: &[f32],
    x: &[f32],
    c: &[f32],
    kept: &[usize],
) {
    let n = c.len();
    let d = net.input_dim();
    for (i, &ci) in c.iter().enumerate() {
        assert!(kept.contains(&i) || ci == 0.0, "a dropped row needs c = 0");
    }
    net.batch_input(n).copy_from_slice(&x[..n * d]);
    net.forward(w0);
    let mut grad = vec![0.0; w0.len()];
    let mut w = w0.to_vec();
    net.backward(&mut w, c, Update::Gradient(&mut grad));

    net.batch_input(n).copy_from_slice(&x[..n * d]);
    net.forward(w0);
    net.retain_rows(kept);
    let mut w_sgd = w0.to_vec();
    let lr = 0.1;
    let c_kept: Vec<f32> = kept.iter().map(|&i| c[i]).collect();
    net.backward(&mut w_sgd, &c_kept, Update::Sgd { lr });
    for k in 0..w0.len() {
        let want = w0[k] - lr * grad[k];
        assert!(
            (w_sgd[k] - want).abs() < 1e-5 * (1.0 + want.abs()),
            "param {k}: {} vs {want}",
            w_sgd[k]
        );
    }
    assert!(grad.iter().any(|&g| g != 0.0));
}

/// `n` N(0,1) draws (inputs and coefficients for the tests of every network).
pub fn gaussian(n: usize, seed: u64) -> Vec<f32> {
    use rand_distr::{Distribution, StandardNormal};
    let mut r = crate::rng::stream(seed, crate::rng::Stream::MonteCarlo);
    (0..n).map(|_| StandardNormal.sample(&mut r)).collect()
}

/// The batch forward pass over the rows of `x` agrees (to 1e-5) with `reference`, a naive f64
/// implementation of the same net applied to one row.
pub fn forward_matches(
    net: &mut dyn Network,
    params: &[f32],
    x: &[f32],
    reference: impl Fn(&[f32]) -> f64,
) {
    let d = net.input_dim();
    let n = x.len() / d;
    net.batch_input(n).copy_from_slice(x);
    let out = net.forward(params).to_vec();
    for (i, row) in x.chunks_exact(d).enumerate() {
        let want = reference(row);
        assert!(
            (out[i] as f64 - want).abs() < 1e-5,
            "row {i}: {} vs {want}",
            out[i]
        );
    }
}

/// Layer tests: `grad` is the gradient of the scalar `s` at `v`; each entry is compared with a
/// central difference of step 1e-2 (f32 inputs, f64 sums), to within 1e-3. `what` names the
/// argument in failure messages.
pub fn layer_gradient_matches(what: &str, v: &[f32], grad: &[f32], s: impl Fn(&[f32]) -> f64) {
    let h = 1e-2f32;
    for k in 0..v.len() {
        let (mut p, mut m) = (v.to_vec(), v.to_vec());
        p[k] += h;
        m[k] -= h;
        let fd = (s(&p) - s(&m)) / (2.0 * h as f64);
        assert!(
            (fd - grad[k] as f64).abs() < 1e-3,
            "{what}[{k}]: {fd} vs {}",
            grad[k]
        );
    }
}

/// The gradient of `S(w) = sum_i c_i f(w, x_i)` from `backward` against central differences
/// of `s_ref`, the same `S` computed in f64 by a reference forward pass: free of the f32
/// rounding that limits [`check`] where a parameter's gradient is small next to `S`, so the
/// tolerance is 2e-3 (relative, with a floor of 1e-4 of the largest gradient; f32 sums in the
/// backward pass cost a few 1e-4 where terms cancel). Smooth activations only; a max-pool
/// switch inside the step is detected by its one-sided slopes and skipped.
pub fn check_against_reference(
    net: &mut dyn Network,
    params: &[f32],
    x: &[f32],
    n: usize,
    c: &[f32],
    s_ref: impl Fn(&[f32]) -> f64,
) {
    let grad = gradient(net, params, x, n, c);
    let gmax = grad.iter().fold(0.0f64, |m, g| m.max(g.abs() as f64));
    assert!(gmax > 0.0, "gradient is identically zero");
    let (mut checked, mut kinks) = (0usize, 0usize);
    // The central difference of step `h` (as taken in f32) at parameter `k`.
    let central = |k: usize, h: f32| {
        let (mut wp, mut wm) = (params.to_vec(), params.to_vec());
        wp[k] += h;
        wm[k] -= h;
        (s_ref(&wp) - s_ref(&wm)) / (wp[k] as f64 - wm[k] as f64)
    };
    for k in 0..params.len() {
        let h = 1e-4f32 * (1.0 + params[k].abs());
        let floor = 1e-4 * gmax;
        // For a smooth S the differences of steps h and 2h agree to O(h^2 S'''); a max-pool
        // whose maximum switches inside the step makes them disagree: skipped, and counted.
        let (fd, fd2) = (central(k, h), central(k, 2.0 * h));
        if (fd - fd2).abs() > 1e-3 * (floor + fd.abs().max(fd2.abs())) {
            kinks += 1;
            continue;
        }
        let g = grad[k] as f64;
        let err = (fd - g).abs() / (floor + fd.abs().max(g.abs()));
        assert!(
            err < 2e-3,
            "parameter {k}: finite difference {fd} vs backward {g}"
        );
        checked += 1;
    }
    assert!(
        kinks <= 1 + checked / 5,
        "too many parameters at a max-pool switch ({kinks} of {})",
        kinks + checked
    );
}
