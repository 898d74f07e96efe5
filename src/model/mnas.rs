//! `mnas` (method §2, width `h`): a MnasNet-like net, 'same' padding, no convolution biases.
//! `conv(c, k, s)` divides its output by `k sqrt(C_in)`, `dwconv(k, s)` (depthwise) by `k`.
//!
//! Stem: `phi(conv(4h,5,2))`, `phi(dwconv(5,1))`, `phi(conv(2h,1,1))`. Inverted-residual blocks
//! `IR(out, k, s)` with `mid = round(3 C_in)`: `phi(conv(mid,1,1))`, `phi(dwconv(k,s))`,
//! `conv(out,1,1)`, and `(x + r)/sqrt(2)` when the block keeps the shape: `IR(h,5,2)`,
//! `IR(h,5,1)`, `IR(3h,5,2)`, `IR(3h,5,1)`. Head: `phi(conv(20h,1,1))`, global mean, and the
//! readout `(x . v + b) / fan_in`.
//!
//! Parameters: `stem.conv`, `stem.dw`, `stem.project`, `ir{i}.expand`, `ir{i}.dw`,
//! `ir{i}.project` for i = 1..4, `head.conv`, `readout`, `readout.bias`.

use super::activation::Activation;
use super::cnn::Cnn;
use super::layer_list;
use crate::config::net::{LayerSpec, Size};

/// The layer list of `mnas` (method §2.5), with the parameter names above.
pub fn recipe() -> Vec<LayerSpec> {
    let name = |n: &str| Some(n.to_string());
    let block = |i: usize, m: usize, stride: usize| LayerSpec::InvertedResidual {
        out: Size::Width(m),
        k: 5,
        stride,
        expand: 3,
        name: Some(format!("ir{i}")),
    };
    vec![
        LayerSpec::Conv {
            out: Size::Width(4),
            k: 5,
            stride: 2,
            bias: false,
            name: name("stem.conv"),
        },
        LayerSpec::Phi,
        LayerSpec::Depthwise {
            k: 5,
            stride: 1,
            name: name("stem.dw"),
        },
        LayerSpec::Phi,
        LayerSpec::Pointwise {
            out: Size::Width(2),
            bias: false,
            name: name("stem.project"),
        },
        LayerSpec::Phi,
        block(1, 1, 2),
        block(2, 1, 1),
        block(3, 3, 2),
        block(4, 3, 1),
        LayerSpec::Pointwise {
            out: Size::Width(20),
            bias: false,
            name: name("head.conv"),
        },
        LayerSpec::Phi,
        LayerSpec::GlobalMean,
        LayerSpec::Dense {
            out: Size::Fixed(1),
            bias: true,
            name: name("readout"),
        },
    ]
}

/// The net for `[height, width, channels]` images, with a training tape for `batch` images.
pub fn mnas(input: [usize; 3], h: usize, batch: usize, act: Activation) -> Cnn {
    layer_list::build(&recipe(), h, input, batch, act)
        .expect("the mnas recipe builds for any image")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::reference::{self, Img};
    use crate::model::{Network, Update, gradcheck};
    use gradcheck::gaussian as inputs;

    #[test]
    fn parameter_counts_match_the_spec() {
        assert_eq!(
            mnas([32, 32, 3], 8, 16, Activation::Relu).layout().len(),
            17_673
        );
        assert_eq!(
            mnas([28, 28, 1], 8, 16, Activation::Relu).layout().len(),
            16_073
        );
        let net = mnas([32, 32, 3], 8, 16, Activation::Relu);
        let names: Vec<&str> = net
            .layout()
            .segments
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            names[..4],
            ["stem.conv", "stem.dw", "stem.project", "ir1.expand"]
        );
        assert_eq!(
            names[names.len() - 3..],
            ["head.conv", "readout", "readout.bias"]
        );
        // Residuals: IR(h,5,1) and IR(3h,5,1) keep the shape, the stride-2 blocks do not.
        let residuals = net
            .ops()
            .iter()
            .filter(|o| matches!(o.kind, crate::model::cnn::OpKind::Residual(_)))
            .count();
        assert_eq!(residuals, 2);
    }

    #[test]
    fn forward_matches_the_spec_recipe() {
        // 28x28 (MNIST-shaped): 14 -> 7 -> 4 with the even/odd 'same' paddings of stride 2.
        let (shape, h, n) = ([28, 28, 1], 2, 2);
        let mut net = mnas(shape, h, n, Activation::Relu);
        let w = net.init_params(1);
        let x = inputs(n * 784, 2);
        gradcheck::forward_matches(&mut net, &w, &x, |row| {
            reference::mnas(Img::new(shape, row), h, &w)
        });
    }

    /// h = 8: channel counts that take the direct stem, the pointwise kernels and the
    /// depthwise blocks of 32 where the CPU has AVX2 and FMA. The forward pass matches the
    /// recipe, and the gradient the portable path's (im2col and `matrixmultiply`, checked
    /// against finite differences at h = 1 and 2; at h = 8 an f32 central difference is
    /// too coarse for the smallest gradients) to rounding.
    #[test]
    fn width_8_kernels_match_the_recipe_and_the_portable_gradient() {
        let (shape, h, n) = ([9, 8, 3], 8, 3);
        let mut net = mnas(shape, h, n, Activation::Relu);
        let w = net.init_params(11);
        let x = inputs(n * 216, 12);
        gradcheck::forward_matches(&mut net, &w, &x, |row| {
            reference::mnas(Img::new(shape, row), h, &w)
        });
        let c = inputs(n, 13);
        let mut gradient = || {
            net.batch_input(n).copy_from_slice(&x);
            net.forward(&w);
            let mut grad = vec![0.0f32; w.len()];
            net.backward(&mut w.clone(), &c, Update::Gradient(&mut grad));
            grad
        };
        let fast = gradient();
        let portable = crate::model::simd::portable_only(&mut gradient);
        let gmax = portable.iter().fold(0.0f32, |m, g| m.max(g.abs()));
        for (k, (a, b)) in fast.iter().zip(&portable).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * gmax + 1e-3 * b.abs(),
                "parameter {k}: {a} vs {b}"
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for act in Activation::ALL {
            let (shape, h, n) = ([9, 8, 3], 1, 3);
            let mut net = mnas(shape, h, n, act);
            let w = net.init_params(3);
            let x = inputs(n * 216, 4);
            let c = inputs(n, 5);
            gradcheck::check(&mut net, &w, &x, n, &c, usize::MAX);
        }
    }

    #[test]
    fn predict_fused_sgd_and_retained_rows_agree_with_forward_and_gradient() {
        for act in Activation::ALL {
            let (shape, h) = ([8, 8, 3], 2);
            let mut net = mnas(shape, h, 4, act);
            let w = net.init_params(6);
            gradcheck::predict_matches_forward(&mut net, &w, &inputs(300 * 192, 7), 4);
            let mut c = inputs(4, 8);
            c[0] = 0.0;
            gradcheck::fused_sgd_matches_gradient_step(
                &mut net,
                &w,
                &inputs(4 * 192, 9),
                &c,
                &[1, 2, 3],
            );
        }
    }
}
