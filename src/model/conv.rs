//! k x k convolution with stride and 'same' padding (method §2, `simple-cnn` and `mnas`; issue #5),
//! as a forward/backward pair on sgemm through im2col (depthwise convolutions: `depthwise.rs`;
//! odd-kernel layers of stride 1 or 2 with 8, 16 or 32 output channels go to `direct_conv/`
//! where the CPU has FMA). Layout HWC: an image is `h × w × c`
//! floats, channel fastest; a batch is `n` images one after another. Weights are
//! `c_out × (k·k·c_in)`, each row ordered (ky, kx, c_in).
//!
//! 'same' padding follows the usual convention: the output is `ceil(n / s)` along each axis and
//! the total padding `max((out - 1)·s + k - n, 0)` is split with the extra pixel at the end.

use super::gemm::DenseShape;
use super::unpacked::pointwise;
use super::{direct_conv, gemm};
use std::ops::Range;

/// Geometry of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub h: usize,
    pub w: usize,
    pub c_in: usize,
    pub c_out: usize,
    pub k: usize,
    pub stride: usize,
}

/// Output size and padding before, along one axis, for 'same' padding.
pub fn same_padding(n: usize, k: usize, s: usize) -> (usize, usize) {
    let out = n.div_ceil(s);
    let total = ((out - 1) * s + k).saturating_sub(n);
    (out, total / 2)
}

impl ConvShape {
    pub fn out_h(&self) -> usize {
        same_padding(self.h, self.k, self.stride).0
    }

    pub fn out_w(&self) -> usize {
        same_padding(self.w, self.k, self.stride).0
    }

    /// Columns of the im2col matrix (= fan-in of one output).
    pub fn patch(&self) -> usize {
        self.k * self.k * self.c_in
    }

    pub fn weights(&self) -> usize {
        self.c_out * self.patch()
    }

    /// A 1x1 stride-1 convolution: its im2col matrix is its input, so none is built.
    pub fn is_pointwise(&self) -> bool {
        self.k == 1 && self.stride == 1
    }

    /// Floats of the im2col matrix per image (0 for a pointwise convolution).
    pub fn cols_per_image(&self) -> usize {
        if self.is_pointwise() {
            0
        } else {
            self.out_h() * self.out_w() * self.patch()
        }
    }

    /// Padding `(top, left)` before the first row and column.
    pub fn padding(&self) -> (usize, usize) {
        (
            same_padding(self.h, self.k, self.stride).1,
            same_padding(self.w, self.k, self.stride).1,
        )
    }

    /// The part of the kernel at output `(oy, ox)` inside the image, for the padding
    /// `(top, left)` of [`Self::padding`] (computed once per pass, not per pixel).
    #[inline]
    pub(crate) fn window(&self, (top, left): (usize, usize), oy: usize, ox: usize) -> Window {
        let (y0, x0) = (oy * self.stride, ox * self.stride);
        Window {
            ky: top.saturating_sub(y0)..self.k.min(self.h + top - y0),
            kx: left.saturating_sub(x0)..self.k.min(self.w + left - x0),
            k: self.k,
            // Input pixel of tap (ky, kx) = (y0 + ky - top) * w + (x0 + kx - left).
            y0_minus_top: y0 as isize - top as isize,
            x0_minus_left: x0 as isize - left as isize,
            w: self.w,
        }
    }
}

/// The taps of a kernel position that fall inside the image (see [`ConvShape::window`]).
pub(crate) struct Window {
    pub ky: Range<usize>,
    pub kx: Range<usize>,
    k: usize,
    y0_minus_top: isize,
    x0_minus_left: isize,
    w: usize,
}

impl Window {
    /// Whether the kernel reaches into the padding.
    #[inline]
    pub fn clipped(&self) -> bool {
        self.ky.len() < self.k || self.kx.len() < self.k
    }

    /// Input pixel index `iy·w + ix` of tap `(ky, kx)` (inside the window).
    #[inline]
    pub fn pixel(&self, ky: usize, kx: usize) -> usize {
        let iy = (self.y0_minus_top + ky as isize) as usize;
        let ix = (self.x0_minus_left + kx as isize) as usize;
        iy * self.w + ix
    }
}

/// `dst.copy_from_slice(src)` for the short runs of im2col (5 floats for a 5x5 kernel on one
/// channel). Runs of 4 to 8 floats are two fixed-size, possibly overlapping 4-float moves, which
/// compile to two vector moves; `copy_from_slice` would call `memmove` for each run (measured:
/// those calls took an eighth of a simple-cnn step on MNIST).
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let len = dst.len();
    if (4..=8).contains(&len) {
        let head: &[f32; 4] = src[..4].try_into().expect("4 floats");
        let tail: &[f32; 4] = src[len - 4..].try_into().expect("4 floats");
        dst[..4].copy_from_slice(head);
        dst[len - 4..].copy_from_slice(tail);
    } else {
        dst.copy_from_slice(src);
    }
}

/// Gather the patches of `n` images into `cols` (`n·out_h·out_w` rows of `patch()`).
pub fn im2col(x: &[f32], n: usize, s: &ConvShape, cols: &mut [f32]) {
    let (oh, ow, c, p) = (s.out_h(), s.out_w(), s.c_in, s.patch());
    let pad = s.padding();
    let image = s.h * s.w * c;
    for b in 0..n {
        let x = &x[b * image..(b + 1) * image];
        for oy in 0..oh {
            for ox in 0..ow {
                let row = &mut cols[((b * oh + oy) * ow + ox) * p..][..p];
                // A patch row (fixed ky) is one contiguous run of input pixels (HWC), so it
                // is copied at once.
                let win = s.window(pad, oy, ox);
                if win.clipped() {
                    row.fill(0.0);
                }
                let len = win.kx.len() * c;
                for ky in win.ky.clone() {
                    let pix = win.pixel(ky, win.kx.start);
                    copy_short(
                        &mut row[(ky * s.k + win.kx.start) * c..][..len],
                        &x[pix * c..][..len],
                    );
                }
            }
        }
    }
}

/// Scatter-add patch gradients `dcols` back onto the input gradient `dx` (which is zeroed first).
pub fn col2im(dcols: &[f32], n: usize, s: &ConvShape, dx: &mut [f32]) {
    let (oh, ow, c, p) = (s.out_h(), s.out_w(), s.c_in, s.patch());
    let pad = s.padding();
    let image = s.h * s.w * c;
    dx[..n * image].fill(0.0);
    for b in 0..n {
        let dx = &mut dx[b * image..(b + 1) * image];
        for oy in 0..oh {
            for ox in 0..ow {
                let row = &dcols[((b * oh + oy) * ow + ox) * p..][..p];
                let win = s.window(pad, oy, ox);
                let len = win.kx.len() * c;
                for ky in win.ky.clone() {
                    let pix = win.pixel(ky, win.kx.start);
                    let src = &row[(ky * s.k + win.kx.start) * c..][..len];
                    for (d, v) in dx[pix * c..][..len].iter_mut().zip(src) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// `z = scale · conv(x, W)`; `cols` receives the im2col matrix (kept for the backward pass;
/// unused by a pointwise convolution, which multiplies `x` itself).
/// The product runs with `alpha = 1` and the scale is applied after it, as in
/// `layers::dense_forward`, so an image's output does not depend on the batch around it.
pub fn conv_forward(
    x: &[f32],
    n: usize,
    s: &ConvShape,
    w: &[f32],
    scale: f32,
    cols: &mut [f32],
    z: &mut [f32],
) {
    if direct_conv::applies(s) {
        return direct_conv::forward(x, n, s, w, scale, z);
    }
    let rows = n * s.out_h() * s.out_w();
    if pointwise::applies(s) {
        return pointwise::forward(x, rows, s, w, scale, z);
    }
    let patches = if s.is_pointwise() {
        x
    } else {
        im2col(x, n, s, cols);
        cols
    };
    gemm::x_wt(
        DenseShape::new(rows, s.patch(), s.c_out),
        1.0,
        patches,
        w,
        0.0,
        z,
    );
    if scale != 1.0 {
        for v in &mut z[..rows * s.c_out] {
            *v *= scale;
        }
    }
}

/// Gradient to the input of [`conv_forward`]: `dx = scale · col2im(dz W)` (`dcols` is scratch of
/// the size of `cols`). In a fused SGD step, call it before the weights change.
pub fn conv_backward_input(
    dz: &[f32],
    n: usize,
    s: &ConvShape,
    w: &[f32],
    scale: f32,
    dcols: &mut [f32],
    dx: &mut [f32],
) {
    if direct_conv::applies_to_input(s) {
        return direct_conv::backward_input(dz, n, s, w, scale, dx);
    }
    let rows = n * s.out_h() * s.out_w();
    if pointwise::applies_to_input(s) {
        pointwise::backward_input(dz, rows, s, w, scale, dx);
    } else if s.is_pointwise() {
        gemm::dz_w(
            DenseShape::new(rows, s.patch(), s.c_out),
            scale,
            dz,
            w,
            0.0,
            dx,
        );
    } else {
        gemm::dz_w(
            DenseShape::new(rows, s.patch(), s.c_out),
            scale,
            dz,
            w,
            0.0,
            dcols,
        );
        col2im(dcols, n, s, dx);
    }
}

/// What the backward pass of the weights reads of [`conv_forward`]'s: the layer's input `x` and
/// the patches `cols` it left (used for a k > 1 kernel that runs as a product).
#[derive(Clone, Copy)]
pub struct ForwardInput<'a> {
    pub x: &'a [f32],
    pub cols: &'a [f32],
}

/// Weight gradient of [`conv_forward`], added as `w_target += coeff · gradient` (`coeff = -lr`
/// fuses the SGD step into the product).
pub fn conv_backward_weights(
    dz: &[f32],
    ForwardInput { x, cols }: ForwardInput<'_>,
    n: usize,
    s: &ConvShape,
    scale: f32,
    coeff: f32,
    w_target: &mut [f32],
) {
    if direct_conv::applies(s) {
        return direct_conv::backward_weights(dz, x, n, s, scale, coeff, w_target);
    }
    let rows = n * s.out_h() * s.out_w();
    if pointwise::applies(s) {
        return pointwise::backward_weights(dz, x, rows, s, coeff * scale, w_target);
    }
    let patches = if s.is_pointwise() { x } else { cols };
    gemm::dzt_x(
        DenseShape::new(rows, s.patch(), s.c_out),
        coeff * scale,
        dz,
        patches,
        1.0,
        w_target,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::depthwise::{
        depthwise_backward_input, depthwise_backward_weights, depthwise_forward,
    };
    use crate::model::gradcheck::layer_gradient_matches;
    use crate::model::layers::{bias_backward, bias_forward};

    fn pseudo(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect()
    }

    #[test]
    fn same_padding_convention() {
        assert_eq!(same_padding(28, 5, 1), (28, 2));
        assert_eq!(same_padding(28, 5, 2), (14, 1)); // total 3: 1 before, 2 after
        assert_eq!(same_padding(7, 5, 2), (4, 2)); // total 4
        assert_eq!(same_padding(8, 5, 2), (4, 1)); // total 3
        assert_eq!(same_padding(14, 2, 2), (7, 0));
        assert_eq!(same_padding(5, 1, 1), (5, 0));
    }

    /// Direct definition in f64.
    fn naive(x: &[f32], n: usize, s: &ConvShape, w: &[f32], b: &[f32]) -> Vec<f64> {
        let (oh, ow) = (s.out_h(), s.out_w());
        let (top, left) = (
            same_padding(s.h, s.k, s.stride).1 as isize,
            same_padding(s.w, s.k, s.stride).1 as isize,
        );
        let mut z = vec![0.0; n * oh * ow * s.c_out];
        for bi in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for co in 0..s.c_out {
                        let mut acc = b[co] as f64;
                        for ky in 0..s.k {
                            for kx in 0..s.k {
                                let iy = (oy * s.stride + ky) as isize - top;
                                let ix = (ox * s.stride + kx) as isize - left;
                                if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                                    continue;
                                }
                                for ci in 0..s.c_in {
                                    let xv = x[((bi * s.h + iy as usize) * s.w + ix as usize)
                                        * s.c_in
                                        + ci] as f64;
                                    acc += w[co * s.patch() + (ky * s.k + kx) * s.c_in + ci] as f64
                                        * xv;
                                }
                            }
                        }
                        z[((bi * oh + oy) * ow + ox) * s.c_out + co] = acc;
                    }
                }
            }
        }
        z
    }

    #[test]
    fn forward_matches_the_definition_and_gradients_match_finite_differences() {
        for s in [
            ConvShape {
                h: 7,
                w: 6,
                c_in: 2,
                c_out: 3,
                k: 5,
                stride: 2,
            },
            ConvShape {
                h: 5,
                w: 5,
                c_in: 3,
                c_out: 2,
                k: 3,
                stride: 1,
            },
            ConvShape {
                h: 4,
                w: 4,
                c_in: 2,
                c_out: 2,
                k: 1,
                stride: 1,
            },
            // `direct_conv/` where the CPU has FMA: weights and input gradient.
            ConvShape {
                h: 5,
                w: 6,
                c_in: 8,
                c_out: 16,
                k: 5,
                stride: 1,
            },
            ConvShape {
                h: 4,
                w: 3,
                c_in: 1,
                c_out: 8,
                k: 3,
                stride: 1,
            },
            ConvShape {
                h: 7,
                w: 8,
                c_in: 2,
                c_out: 32,
                k: 5,
                stride: 2,
            },
        ] {
            let n = 2;
            let x = pseudo(n * s.h * s.w * s.c_in, 1);
            let w = pseudo(s.weights(), 2);
            let b = pseudo(s.c_out, 3);
            let rows = n * s.out_h() * s.out_w();
            let mut cols = vec![0.0; rows * s.patch()];
            let mut z = vec![0.0; rows * s.c_out];
            conv_forward(&x, n, &s, &w, 1.0, &mut cols, &mut z);
            bias_forward(&mut z, &b, rows, 1.0);
            let want = naive(&x, n, &s, &w, &b);
            for (a, e) in z.iter().zip(&want) {
                assert!((*a as f64 - e).abs() < 1e-5, "{s:?}: {a} vs {e}");
            }
            // S = sum c ⊙ z is linear in x, w and b: its gradients are exact, and so is the
            // finite difference (up to rounding), so compare per element.
            let c = pseudo(rows * s.c_out, 4);
            let loss = |x: &[f32], w: &[f32], b: &[f32]| -> f64 {
                naive(x, n, &s, w, b)
                    .iter()
                    .zip(&c)
                    .map(|(z, c)| z * *c as f64)
                    .sum()
            };
            let mut dcols = vec![0.0; rows * s.patch()];
            let mut dx = vec![0.0; x.len()];
            conv_backward_input(&c, n, &s, &w, 1.0, &mut dcols, &mut dx);
            let mut gw = vec![0.0; w.len()];
            let mut gb = vec![0.0; b.len()];
            let input = ForwardInput { x: &x, cols: &cols };
            conv_backward_weights(&c, input, n, &s, 1.0, 1.0, &mut gw);
            bias_backward(&c, &mut gb, rows, 1.0, 1.0);
            let what = format!("{s:?}");
            layer_gradient_matches(&format!("{what} dx"), &x, &dx, |x| loss(x, &w, &b));
            layer_gradient_matches(&format!("{what} dw"), &w, &gw, |w| loss(&x, w, &b));
            layer_gradient_matches(&format!("{what} db"), &b, &gb, |b| loss(&x, &w, b));
        }
    }

    /// Through the portable loops (3 channels) and the AVX2 kernels (8 and 16 channels, where
    /// the CPU has AVX2), stride 1 and 2, k = 5 and 3.
    #[test]
    fn depthwise_pair_matches_finite_differences() {
        for (h, w, c, k, stride) in [(6, 5, 3, 5, 2), (6, 6, 8, 5, 1), (7, 6, 16, 3, 2)] {
            let s = ConvShape {
                h,
                w,
                c_in: c,
                c_out: c,
                k,
                stride,
            };
            depthwise_pair_matches(&s);
        }
    }

    fn depthwise_pair_matches(s: &ConvShape) {
        let n = 2;
        let x = pseudo(n * s.h * s.w * s.c_in, 5);
        let w = pseudo(s.k * s.k * s.c_in, 6);
        let rows = n * s.out_h() * s.out_w();
        let c = pseudo(rows * s.c_in, 7);
        let scale = 1.0 / s.k as f32;
        let loss = |x: &[f32], w: &[f32]| -> f64 {
            let mut y = vec![0.0; rows * s.c_in];
            depthwise_forward(x, n, s, w, scale, &mut y);
            y.iter().zip(&c).map(|(a, b)| *a as f64 * *b as f64).sum()
        };
        // Against a full convolution whose filters are zero off the diagonal.
        let mut full = vec![0.0; s.c_in * s.k * s.k * s.c_in];
        for co in 0..s.c_in {
            for tap in 0..s.k * s.k {
                full[co * s.k * s.k * s.c_in + tap * s.c_in + co] = w[tap * s.c_in + co];
            }
        }
        let want = naive(&x, n, s, &full, &vec![0.0; s.c_in]);
        let mut y = vec![0.0; rows * s.c_in];
        depthwise_forward(&x, n, s, &w, 1.0, &mut y);
        for (a, e) in y.iter().zip(&want) {
            assert!((*a as f64 - e).abs() < 1e-5, "{s:?}: {a} vs {e}");
        }
        let mut dx = vec![0.0; x.len()];
        let mut gw = vec![0.0; w.len()];
        depthwise_backward_input(&c, n, s, &w, scale, &mut dx);
        depthwise_backward_weights(&c, &x, n, s, scale, 1.0, &mut gw);
        layer_gradient_matches(&format!("{s:?} dx"), &x, &dx, |x| loss(x, &w));
        layer_gradient_matches(&format!("{s:?} dw"), &w, &gw, |w| loss(&x, w));
    }
}
