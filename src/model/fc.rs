//! `fc` (method §2): `depth` hidden layers of `width` units without biases,
//! `x <- phi(W x / sqrt(fan_in))` with the normalized activation `phi` (relu, gelu or silu), and the readout
//! `f = v . x / width`. Parameters: `hidden.1` (`width × d`), `hidden.2..depth`
//! (`width × width`), `readout` (`width`), each matrix row-major `fan_out × fan_in`.

use super::activation::Activation;
use super::layers::{dense_backward_input, dense_backward_weights, dense_forward};
use super::{Network, ParamLayout, Update, compact_rows, standard_normal_params};
use std::ops::Range;

/// Rows evaluated at once by [`Network::predict`].
const EVAL_CHUNK: usize = 256;

pub struct Fc {
    input_dim: usize,
    width: usize,
    layout: ParamLayout,
    /// Parameter range of each hidden layer, then of the readout.
    hidden: Vec<Range<usize>>,
    readout: Range<usize>,
    act: Activation,
    /// Training tape: rows in use, the batch input, each hidden layer's output `phi(z)` and,
    /// for a smooth `phi`, its pre-activation `z` (empty for relu).
    rows: usize,
    input: Vec<f32>,
    acts: Vec<Vec<f32>>,
    pre: Vec<Vec<f32>>,
    out: Vec<f32>,
    grad: [Vec<f32>; 2],
    /// Ping-pong buffers of `EVAL_CHUNK × width` for `predict`, and its pre-activation scratch.
    eval: [Vec<f32>; 2],
    eval_pre: Vec<f32>,
}

impl Fc {
    pub fn new(
        input_dim: usize,
        depth: usize,
        width: usize,
        batch: usize,
        act: Activation,
    ) -> Self {
        let pre_rows = |rows: usize| if act.needs_pre() { rows * width } else { 0 };
        let mut layout = ParamLayout::default();
        let hidden: Vec<Range<usize>> = (0..depth)
            .map(|l| {
                let fan_in = if l == 0 { input_dim } else { width };
                layout.push(format!("hidden.{}", l + 1), width * fan_in)
            })
            .collect();
        let readout = layout.push("readout", width);
        Fc {
            input_dim,
            width,
            layout,
            hidden,
            readout,
            act,
            rows: 0,
            input: vec![0.0; batch * input_dim],
            acts: (0..depth).map(|_| vec![0.0; batch * width]).collect(),
            pre: (0..depth).map(|_| vec![0.0; pre_rows(batch)]).collect(),
            out: vec![0.0; batch],
            grad: [vec![0.0; batch * width], vec![0.0; batch * width]],
            eval: [vec![0.0; EVAL_CHUNK * width], vec![0.0; EVAL_CHUNK * width]],
            eval_pre: vec![0.0; pre_rows(EVAL_CHUNK)],
        }
    }

    fn fan_in(&self, layer: usize) -> usize {
        if layer == 0 {
            self.input_dim
        } else {
            self.width
        }
    }

    fn hidden_scale(&self, layer: usize) -> f32 {
        1.0 / (self.fan_in(layer) as f32).sqrt()
    }

    fn readout_scale(&self) -> f32 {
        1.0 / self.width as f32
    }
}

impl Network for Fc {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    fn input_dim(&self) -> usize {
        self.input_dim
    }

    fn init_params(&self, seed_init: u64) -> Vec<f32> {
        standard_normal_params(self.layout.len(), seed_init)
    }

    fn predict(&mut self, params: &[f32], x: &[f32], out: &mut [f32]) {
        let (d, h) = (self.input_dim, self.width);
        let n_total = x.len() / d;
        let [mut a, mut b] = std::mem::take(&mut self.eval);
        for start in (0..n_total).step_by(EVAL_CHUNK) {
            let n = EVAL_CHUNK.min(n_total - start);
            let xs = &x[start * d..(start + n) * d];
            for (l, range) in self.hidden.iter().enumerate() {
                let prev: &[f32] = if l == 0 { xs } else { &b };
                dense_forward(
                    prev,
                    &params[range.clone()],
                    &mut a,
                    n,
                    self.fan_in(l),
                    h,
                    self.hidden_scale(l),
                );
                let keep = self.eval_pre.len().min(n * h);
                self.act
                    .forward(&mut a[..n * h], &mut self.eval_pre[..keep]);
                std::mem::swap(&mut a, &mut b);
            }
            let last: &[f32] = if self.hidden.is_empty() { xs } else { &b };
            dense_forward(
                last,
                &params[self.readout.clone()],
                &mut out[start..start + n],
                n,
                h,
                1,
                self.readout_scale(),
            );
        }
        self.eval = [a, b];
    }

    fn batch_input(&mut self, n: usize) -> &mut [f32] {
        self.rows = n;
        &mut self.input[..n * self.input_dim]
    }

    fn forward(&mut self, params: &[f32]) -> &[f32] {
        let (n, h) = (self.rows, self.width);
        for l in 0..self.hidden.len() {
            let (before, rest) = self.acts.split_at_mut(l);
            let prev: &[f32] = if l == 0 { &self.input } else { &before[l - 1] };
            let fan_in = if l == 0 { self.input_dim } else { h };
            let scale = 1.0 / (fan_in as f32).sqrt();
            dense_forward(
                prev,
                &params[self.hidden[l].clone()],
                &mut rest[0],
                n,
                fan_in,
                h,
                scale,
            );
            let keep = self.pre[l].len().min(n * h);
            self.act
                .forward(&mut rest[0][..n * h], &mut self.pre[l][..keep]);
        }
        let scale = self.readout_scale();
        let last: &[f32] = self.acts.last().map_or(&self.input, |a| a);
        dense_forward(
            last,
            &params[self.readout.clone()],
            &mut self.out,
            n,
            h,
            1,
            scale,
        );
        &self.out[..n]
    }

    fn retain_rows(&mut self, rows: &[usize]) {
        compact_rows(&mut self.input, self.input_dim, rows);
        for a in &mut self.acts {
            compact_rows(a, self.width, rows);
        }
        if self.act.needs_pre() {
            for z in &mut self.pre {
                compact_rows(z, self.width, rows);
            }
        }
        self.rows = rows.len();
    }

    fn backward(&mut self, params: &mut [f32], dout: &[f32], mut update: Update<'_>) {
        let (n, h) = (self.rows, self.width);
        assert_eq!(dout.len(), n);
        let coeff = match update {
            Update::Gradient(_) => 1.0,
            Update::Sgd { lr } => -lr,
        };
        let depth = self.hidden.len();
        let [mut g, mut g_next] = std::mem::take(&mut self.grad);
        let readout_scale = self.readout_scale();

        // Readout: gradient to the last hidden output, then the readout weights.
        dense_backward_input(
            dout,
            &params[self.readout.clone()],
            &mut g,
            n,
            h,
            1,
            readout_scale,
        );
        let last: &[f32] = self.acts.last().map_or(&self.input, |a| a);
        let target = match &mut update {
            Update::Gradient(grad) => &mut grad[self.readout.clone()],
            Update::Sgd { .. } => &mut params[self.readout.clone()],
        };
        dense_backward_weights(dout, last, target, n, h, 1, readout_scale, coeff);

        for l in (0..depth).rev() {
            let pre = &self.pre[l][..self.pre[l].len().min(n * h)];
            self.act
                .backward(&self.acts[l][..n * h], pre, &mut g[..n * h]);
            let (fan_in, scale, range) =
                (self.fan_in(l), self.hidden_scale(l), self.hidden[l].clone());
            if l > 0 {
                dense_backward_input(&g, &params[range.clone()], &mut g_next, n, fan_in, h, scale);
            }
            let prev: &[f32] = if l == 0 {
                &self.input
            } else {
                &self.acts[l - 1]
            };
            let target = match &mut update {
                Update::Gradient(grad) => &mut grad[range],
                Update::Sgd { .. } => &mut params[range],
            };
            dense_backward_weights(&g, prev, target, n, fan_in, h, scale, coeff);
            std::mem::swap(&mut g, &mut g_next);
        }
        self.grad = [g, g_next];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gradcheck;

    fn inputs(n: usize, d: usize, seed: u64) -> Vec<f32> {
        gradcheck::gaussian(n * d, seed)
    }

    #[test]
    fn layout_counts_parameters() {
        let net = Fc::new(784, 5, 64, 16, Activation::Relu);
        assert_eq!(net.layout().len(), 64 * 784 + 4 * 64 * 64 + 64);
        let names: Vec<&str> = net
            .layout()
            .segments
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "hidden.1", "hidden.2", "hidden.3", "hidden.4", "hidden.5", "readout"
            ]
        );
    }

    #[test]
    fn forward_matches_a_naive_implementation() {
        let (d, depth, h, n) = (7, 3, 5, 4);
        let mut net = Fc::new(d, depth, h, n, Activation::Relu);
        let w = net.init_params(3);
        let x = inputs(n, d, 1);
        net.batch_input(n).copy_from_slice(&x);
        let out = net.forward(&w).to_vec();
        for i in 0..n {
            let mut a: Vec<f64> = x[i * d..(i + 1) * d].iter().map(|&v| v as f64).collect();
            let mut off = 0;
            for l in 0..depth {
                let fan_in = a.len();
                a = (0..h)
                    .map(|j| {
                        let z: f64 = (0..fan_in)
                            .map(|k| w[off + j * fan_in + k] as f64 * a[k])
                            .sum::<f64>()
                            / (fan_in as f64).sqrt();
                        2f64.sqrt() * z.max(0.0)
                    })
                    .collect();
                off += h * fan_in;
                let _ = l;
            }
            let f: f64 = (0..h).map(|j| w[off + j] as f64 * a[j]).sum::<f64>() / h as f64;
            assert!(
                (f - out[i] as f64).abs() < 1e-5,
                "row {i}: {f} vs {}",
                out[i]
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for act in Activation::ALL {
            let (d, depth, h, n) = (6, 3, 5, 4);
            let mut net = Fc::new(d, depth, h, n, act);
            let w = net.init_params(11);
            let x = inputs(n, d, 12);
            let c = inputs(n, 1, 13);
            gradcheck::check(&mut net, &w, &x, n, &c, usize::MAX);
        }
    }

    #[test]
    fn gradient_of_a_deep_wide_net_matches_finite_differences() {
        let (d, depth, h, n) = (20, 5, 16, 3);
        let mut net = Fc::new(d, depth, h, n, Activation::Relu);
        let w = net.init_params(21);
        let x = inputs(n, d, 22);
        let c = inputs(n, 1, 23);
        gradcheck::check(&mut net, &w, &x, n, &c, 400);
    }

    #[test]
    fn predict_is_bit_identical_to_batch_forward() {
        for act in Activation::ALL {
            let (d, n) = (784, 300); // more rows than one evaluation chunk
            let mut net = Fc::new(d, 5, 64, 16, act);
            let w = net.init_params(5);
            gradcheck::predict_matches_forward(&mut net, &w, &inputs(n, d, 6), 16);
        }
    }

    #[test]
    fn sgd_update_equals_gradient_step_and_retain_rows_drops_rows() {
        for act in Activation::ALL {
            let (d, depth, h, n) = (9, 2, 8, 5);
            let mut net = Fc::new(d, depth, h, n, act);
            let w0 = net.init_params(31);
            let mut c = inputs(n, 1, 33);
            // Rows 1 and 3 have zero coefficient: dropping them must not change the gradient.
            c[1] = 0.0;
            c[3] = 0.0;
            gradcheck::fused_sgd_matches_gradient_step(
                &mut net,
                &w0,
                &inputs(n, d, 32),
                &c,
                &[0, 2, 4],
            );
        }
    }
}
