//! `perceptron` (method §2): `F(w, x) = w . x / sqrt(d)` with `w0 = 0` (so `f0 = 0`). Linear in
//! `w`, hence always lazy. One segment, `w`; for `depleted-sign` data `w[0]` is the informative
//! weight `w_1` and `w[1..]` are the uninformative ones, `w_perp`.

use super::vector::{axpy, dot};
use super::{Network, ParamLayout, Update, compact_rows};

pub struct Perceptron {
    dim: usize,
    scale: f32,
    layout: ParamLayout,
    rows: usize,
    input: Vec<f32>,
    out: Vec<f32>,
}

impl Perceptron {
    pub fn new(dim: usize, batch: usize) -> Self {
        let mut layout = ParamLayout::default();
        layout.push("w", dim);
        Perceptron {
            dim,
            scale: 1.0 / (dim as f32).sqrt(),
            layout,
            rows: 0,
            input: vec![0.0; batch * dim],
            out: vec![0.0; batch],
        }
    }
}

impl Network for Perceptron {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    fn input_dim(&self) -> usize {
        self.dim
    }

    fn init_params(&self, _seed_init: u64) -> Vec<f32> {
        vec![0.0; self.dim]
    }

    fn predict(&mut self, params: &[f32], x: &[f32], out: &mut [f32]) {
        for (o, row) in out.iter_mut().zip(x.chunks_exact(self.dim)) {
            *o = dot(params, row) * self.scale;
        }
    }

    fn batch_input(&mut self, n: usize) -> &mut [f32] {
        self.rows = n;
        &mut self.input[..n * self.dim]
    }

    fn forward(&mut self, params: &[f32]) -> &[f32] {
        let n = self.rows;
        for (o, row) in self.out[..n]
            .iter_mut()
            .zip(self.input.chunks_exact(self.dim))
        {
            *o = dot(params, row) * self.scale;
        }
        &self.out[..n]
    }

    fn retain_rows(&mut self, rows: &[usize]) {
        compact_rows(&mut self.input, self.dim, rows);
        self.rows = rows.len();
    }

    fn backward(&mut self, params: &mut [f32], dout: &[f32], update: Update<'_>) {
        assert_eq!(dout.len(), self.rows);
        let (target, coeff) = match update {
            Update::Gradient(g) => (g, 1.0),
            Update::Sgd { lr } => (params, -lr),
        };
        // The gradient does not depend on w, so applying the rows one after another is exact.
        for (&c, row) in dout.iter().zip(self.input.chunks_exact(self.dim)) {
            axpy(coeff * c * self.scale, row, target);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gradcheck;

    #[test]
    fn output_and_gradient() {
        let mut net = Perceptron::new(4, 3);
        let w = vec![1.0, -2.0, 0.5, 3.0];
        let x: Vec<f32> = (0..12).map(|i| i as f32 * 0.25 - 1.0).collect();
        let mut out = vec![0.0; 3];
        net.predict(&w, &x, &mut out);
        let want0 = (-1.0 + -2.0 * -0.75 + 0.5 * -0.5 + 3.0 * -0.25) / 2.0;
        assert_eq!(out[0], want0);
        gradcheck::check(&mut net, &w, &x, 3, &[0.3, -1.0, 2.0], usize::MAX);
        assert_eq!(net.init_params(9), vec![0.0; 4]);
    }
}
