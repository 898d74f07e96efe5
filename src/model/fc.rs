//! `fc` (method §2): `depth` hidden layers of `width` units without biases,
//! `x <- phi(W x / sqrt(fan_in))` with the normalized activation `phi` (relu, gelu or silu), and the readout
//! `f = v . x / width`. Parameters: `hidden.1` (`width × d`), `hidden.2..depth`
//! (`width × width`), `readout` (`width`), each matrix row-major `fan_out × fan_in`.

use super::activation::Activation;
use super::cnn::Cnn;
use super::layer_list;
use crate::config::net::{LayerSpec, Size};

/// The layer list of `fc` (method §2.5): `depth` times `{ dense = "h" }, "phi"`, then the
/// readout, with the parameter names above.
pub fn recipe(depth: usize) -> Vec<LayerSpec> {
    let mut layers = Vec::with_capacity(2 * depth + 1);
    for l in 1..=depth {
        layers.push(LayerSpec::Dense {
            out: Size::Width(1),
            bias: false,
            name: Some(format!("hidden.{l}")),
        });
        layers.push(LayerSpec::Phi);
    }
    layers.push(LayerSpec::Dense {
        out: Size::Fixed(1),
        bias: false,
        name: Some("readout".into()),
    });
    layers
}

/// The net for inputs of `input_dim` features, with a training tape for `batch` rows.
pub fn fc(input_dim: usize, depth: usize, width: usize, batch: usize, act: Activation) -> Cnn {
    layer_list::build(&recipe(depth), width, [1, 1, input_dim], batch, act)
        .expect("the fc recipe builds at any size")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Network, gradcheck};

    fn inputs(n: usize, d: usize, seed: u64) -> Vec<f32> {
        gradcheck::gaussian(n * d, seed)
    }

    #[test]
    fn layout_counts_parameters() {
        let net = fc(784, 5, 64, 16, Activation::Relu);
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
        let mut net = fc(d, depth, h, n, Activation::Relu);
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
            let mut net = fc(d, depth, h, n, act);
            let w = net.init_params(11);
            let x = inputs(n, d, 12);
            let c = inputs(n, 1, 13);
            gradcheck::check(&mut net, &w, &x, n, &c, usize::MAX);
        }
    }

    #[test]
    fn gradient_of_a_deep_wide_net_matches_finite_differences() {
        let (d, depth, h, n) = (20, 5, 16, 3);
        let mut net = fc(d, depth, h, n, Activation::Relu);
        let w = net.init_params(21);
        let x = inputs(n, d, 22);
        let c = inputs(n, 1, 23);
        gradcheck::check(&mut net, &w, &x, n, &c, 400);
    }

    #[test]
    fn predict_is_bit_identical_to_batch_forward() {
        for act in Activation::ALL {
            let (d, n) = (784, 300); // more rows than one evaluation chunk
            let mut net = fc(d, 5, 64, 16, act);
            let w = net.init_params(5);
            gradcheck::predict_matches_forward(&mut net, &w, &inputs(n, d, 6), 16);
        }
    }

    #[test]
    fn sgd_update_equals_gradient_step_and_retain_rows_drops_rows() {
        for act in Activation::ALL {
            let (d, depth, h, n) = (9, 2, 8, 5);
            let mut net = fc(d, depth, h, n, act);
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
