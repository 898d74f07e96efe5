//! `simple-cnn` (method §2, width `h`): two blocks of a 5x5 stride-1 'same' convolution with bias
//! (to `h`, then `2h` channels; output divided by `sqrt(k^2 C_in + 1)`), `phi` and a 2x2 'same'
//! max-pool; then a dense layer to `32h` units with bias, divided by `sqrt(fan_in + 1)`, with no
//! activation; then a dense readout to 1 without bias, divided by `fan_in`.
//!
//! Parameters: `conv1`, `conv1.bias`, `conv2`, `conv2.bias`, `dense`, `dense.bias`, `readout`.

use super::activation::Activation;
use super::cnn::Cnn;
use super::layer_list;
use crate::config::net::{LayerSpec, Size};

/// Kernel size of both convolutions.
const K: usize = 5;

/// The layer list of `simple-cnn` (method §2.5), with the parameter names above.
pub fn recipe() -> Vec<LayerSpec> {
    let conv = |m: usize, name: &str| LayerSpec::Conv {
        out: Size::Width(m),
        k: K,
        stride: 1,
        bias: true,
        name: Some(name.into()),
    };
    vec![
        conv(1, "conv1"),
        LayerSpec::Phi,
        LayerSpec::MaxPool,
        conv(2, "conv2"),
        LayerSpec::Phi,
        LayerSpec::MaxPool,
        LayerSpec::Dense {
            out: Size::Width(32),
            bias: true,
            name: Some("dense".into()),
        },
        LayerSpec::Dense {
            out: Size::Fixed(1),
            bias: false,
            name: Some("readout".into()),
        },
    ]
}

/// The net for `[height, width, channels]` images, with a training tape for `batch` images.
pub fn simple_cnn(input: [usize; 3], width: usize, batch: usize, act: Activation) -> Cnn {
    layer_list::build(&recipe(), width, input, batch, act)
        .expect("the simple-cnn recipe builds for any image")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::reference::{self, Img};
    use crate::model::{Network, gradcheck};
    use gradcheck::gaussian as inputs;

    #[test]
    fn parameter_count_matches_the_spec() {
        let net = simple_cnn([32, 32, 3], 8, 16, Activation::Relu);
        let counts: Vec<(&str, usize)> = net
            .layout()
            .segments
            .iter()
            .map(|s| (s.name.as_str(), s.len))
            .collect();
        assert_eq!(
            counts,
            [
                ("conv1", 600),
                ("conv1.bias", 8),
                ("conv2", 3200),
                ("conv2.bias", 16),
                ("dense", 262_144),
                ("dense.bias", 256),
                ("readout", 256)
            ]
        );
        assert_eq!(net.layout().len(), 266_480);
        assert_eq!(
            simple_cnn([28, 28, 1], 8, 16, Activation::Relu)
                .layout()
                .len(),
            208 + 3216 + 200_960 + 256
        );
    }

    #[test]
    fn forward_matches_the_spec_recipe() {
        // Odd sizes: the 'same' max-pool keeps a last row/column of its own (7 -> 4 -> 2).
        // h = 8 takes the direct convolutions where the CPU has FMA.
        for h in [2, 8] {
            let (shape, n) = ([7, 6, 2], 3);
            let mut net = simple_cnn(shape, h, n, Activation::Relu);
            let w = net.init_params(1);
            let x = inputs(n * 84, 2);
            gradcheck::forward_matches(&mut net, &w, &x, |row| {
                reference::simple_cnn(Img::new(shape, row), h, &w)
            });
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // (h = 8, whose convolutions go direct, is checked layer by layer in `conv.rs`: at this
        // width the f32 finite differences of the whole net are too noisy to compare.)
        for act in Activation::ALL {
            let (shape, h, n) = ([6, 5, 2], 2, 3);
            let mut net = simple_cnn(shape, h, n, act);
            let w = net.init_params(3);
            let x = inputs(n * 60, 4);
            let c = inputs(n, 5);
            gradcheck::check(&mut net, &w, &x, n, &c, 600);
        }
    }

    #[test]
    fn predict_fused_sgd_and_retained_rows_agree_with_forward_and_gradient() {
        for (act, h) in Activation::ALL
            .into_iter()
            .map(|a| (a, 2))
            .chain([(Activation::Relu, 8)])
        {
            let shape = [8, 8, 3];
            let mut net = simple_cnn(shape, h, 4, act);
            let w = net.init_params(6);
            // Enough images for several evaluation chunks of this small net? One chunk holds up to
            // 256 images; 300 crosses a chunk boundary.
            gradcheck::predict_matches_forward(&mut net, &w, &inputs(300 * 192, 7), 4);
            let mut c = inputs(4, 8);
            c[2] = 0.0;
            gradcheck::fused_sgd_matches_gradient_step(
                &mut net,
                &w,
                &inputs(4 * 192, 9),
                &c,
                &[0, 1, 3],
            );
        }
    }
}
