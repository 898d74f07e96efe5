//! Direct k x k convolution (odd k, stride 1 or 2, 'same' padding) for layers with 8, 16 or 32
//! output channels: simple-cnn's `conv1`/`conv2` and mnas's stem at h = 8 (issue #11; mnas's
//! 1x1 convolutions keep the im2col-free product of `conv.rs`). Through im2col
//! such a layer is a tall, narrow product (thousands of pixels against 8 or 16 columns) whose
//! operands `matrixmultiply` copies twice (im2col, then packing) to multiply each float by only
//! 8 or 16 weights: the copies cost as much as the product. Here the input is zero-padded once
//! and every output pixel sums its taps straight from it, with the weights transposed so that
//! one AVX2 register holds 8 output channels. No crate offers this for NHWC f32 on the CPU,
//! hence the hand-written kernels.
//!
//! One kernel does the forward pass and (stride 1) the input gradient: the input gradient of a
//! 'same' stride-1 convolution is the same correlation of the zero-padded output gradient with the
//! flipped kernel, its channels swapped. A second kernel sums the weight gradient over pixels.
//! Every output is one sum in a fixed order (taps in (ky, kx, c_in) order; pixels in batch
//! order for the weight gradient), so an image's output does not depend on the images around
//! it and a run is a pure function of its config on a given CPU. The kernels use fused
//! multiply-adds, as `matrixmultiply` does where the CPU has them; without AVX2 and FMA the
//! im2col path of `conv.rs` runs instead (the two agree to rounding, tested).

use super::conv::ConvShape;
use super::padding::zero_pad;
use std::cell::RefCell;

thread_local! {
    /// Zero-padded input (or output gradient) of the current call.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// Weights rearranged to `[ky][kx][c_in][c_out]` (or flipped for the input gradient).
    static TAPS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// Weight gradient in `[ky][kx][c_in][c_out]` order before it is added to the weights.
    static GRAD: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn kernel_fits(s: &ConvShape) -> bool {
    s.k % 2 == 1 && s.k > 1 && super::simd::use_avx2_fma()
}

/// Whether [`forward`] and [`backward_weights`] run for `s` on this CPU and thread.
pub fn applies(s: &ConvShape) -> bool {
    kernel_fits(s) && matches!(s.stride, 1 | 2) && matches!(s.c_out, 8 | 16 | 32)
}

/// Whether [`backward_input`] runs for `s` (stride 1; its outputs are the `c_in` channels).
pub fn applies_to_input(s: &ConvShape) -> bool {
    kernel_fits(s) && s.stride == 1 && matches!(s.c_in, 8 | 16 | 32)
}

/// Where a kernel reads and writes: `n` images zero-padded to `hp × wp × c_in`, outputs
/// `oh × ow` at `stride`; output `(y, x)` reads rows `y·stride + ky`, columns `x·stride + kx`.
#[derive(Clone, Copy, Debug)]
struct Grid {
    n: usize,
    oh: usize,
    ow: usize,
    hp: usize,
    wp: usize,
    c_in: usize,
    k: usize,
    stride: usize,
}

impl Grid {
    /// The forward pass of `s`: its input with the 'same' padding of `conv.rs`.
    fn forward(s: &ConvShape, n: usize) -> Grid {
        let (oh, ow) = (s.out_h(), s.out_w());
        Grid {
            n,
            oh,
            ow,
            hp: (oh - 1) * s.stride + s.k,
            wp: (ow - 1) * s.stride + s.k,
            c_in: s.c_in,
            k: s.k,
            stride: s.stride,
        }
    }

    fn padded_len(&self) -> usize {
        self.n * self.hp * self.wp * self.c_in
    }

    fn out_len(&self, c_out: usize) -> usize {
        self.n * self.oh * self.ow * c_out
    }

    /// Copy `n` images of `h × w × c_in` into `out` at offset `(top, left)`, zeros around.
    fn pad(&self, x: &[f32], hw: (usize, usize), at: (usize, usize), out: &mut Vec<f32>) {
        zero_pad(x, self.n, hw, self.c_in, (self.hp, self.wp), at, out);
    }
}

/// `z = scale · conv(x, W)` for `n` images (`W` is `c_out × (k·k·c_in)`, rows in (ky, kx, c_in)
/// order, as in `conv.rs`). Call only where [`applies`].
pub fn forward(x: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, z: &mut [f32]) {
    assert!(applies(s), "direct convolution called for {s:?}");
    let g = Grid::forward(s, n);
    let (patch, c_out) = (s.patch(), s.c_out);
    assert!(w.len() >= s.weights());
    PADDED.with_borrow_mut(|padded| {
        TAPS.with_borrow_mut(|taps| {
            g.pad(x, (s.h, s.w), s.padding(), padded);
            taps.clear();
            taps.resize(s.weights(), 0.0);
            for co in 0..c_out {
                for tap in 0..patch {
                    taps[tap * c_out + co] = w[co * patch + tap];
                }
            }
            correlate(&g, padded, taps, c_out, z);
        })
    });
    scale_in_place(&mut z[..g.out_len(c_out)], scale);
}

/// Gradient to the input of [`forward`] (stride 1): `dx = scale · (dz ⋆ flipped W)`, the
/// output gradient padded by `k - 1 - pad` before. Call only where [`applies_to_input`].
pub fn backward_input(dz: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, dx: &mut [f32]) {
    assert!(
        applies_to_input(s),
        "direct input gradient called for {s:?}"
    );
    let k = s.k;
    let (c_in, c_out, patch) = (s.c_in, s.c_out, s.patch());
    let (top, left) = s.padding();
    let g = Grid {
        n,
        oh: s.h,
        ow: s.w,
        hp: s.h + k - 1,
        wp: s.w + k - 1,
        c_in: c_out,
        k,
        stride: 1,
    };
    assert!(w.len() >= s.weights());
    PADDED.with_borrow_mut(|padded| {
        TAPS.with_borrow_mut(|taps| {
            g.pad(dz, (s.h, s.w), (k - 1 - top, k - 1 - left), padded);
            // Tap (a, b, co) of the flipped kernel, for output channel ci.
            taps.clear();
            taps.resize(s.weights(), 0.0);
            for a in 0..k {
                for b in 0..k {
                    for co in 0..c_out {
                        let from = co * patch + ((k - 1 - a) * k + (k - 1 - b)) * c_in;
                        let to = ((a * k + b) * c_out + co) * c_in;
                        taps[to..to + c_in].copy_from_slice(&w[from..from + c_in]);
                    }
                }
            }
            correlate(&g, padded, taps, c_in, dx);
        })
    });
    scale_in_place(&mut dx[..g.out_len(c_in)], scale);
}

/// Weight gradient of [`forward`], added as `w_target += coeff · scale · gradient` (as
/// `conv::conv_backward_weights`). Call only where [`applies`].
pub fn backward_weights(
    dz: &[f32],
    x: &[f32],
    n: usize,
    s: &ConvShape,
    scale: f32,
    coeff: f32,
    w_target: &mut [f32],
) {
    assert!(applies(s), "direct weight gradient called for {s:?}");
    let g = Grid::forward(s, n);
    let (patch, c_out) = (s.patch(), s.c_out);
    assert!(w_target.len() >= s.weights());
    let c = coeff * scale;
    PADDED.with_borrow_mut(|padded| {
        GRAD.with_borrow_mut(|grad| {
            g.pad(x, (s.h, s.w), s.padding(), padded);
            grad.clear();
            grad.resize(s.weights(), 0.0);
            weight_sums(&g, padded, dz, c_out, grad);
            for co in 0..c_out {
                for tap in 0..patch {
                    w_target[co * patch + tap] += c * grad[tap * c_out + co];
                }
            }
        })
    });
}

fn scale_in_place(v: &mut [f32], scale: f32) {
    if scale != 1.0 {
        for x in v {
            *x *= scale;
        }
    }
}

/// `z[img][y][x][o] = Σ_{ky, kx, i} xp[img][y·stride + ky][x·stride + kx][i] · taps[ky][kx][i][o]`.
fn correlate(g: &Grid, xp: &[f32], taps: &[f32], c_out: usize, z: &mut [f32]) {
    assert!(xp.len() >= g.padded_len() && taps.len() >= g.k * g.k * g.c_in * c_out);
    assert!(z.len() >= g.out_len(c_out));
    assert!((g.oh - 1) * g.stride + g.k <= g.hp && (g.ow - 1) * g.stride + g.k <= g.wp);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has AVX2 and FMA (`applies`), and the lengths checked above bound every
    // index the kernels form (rows `img·hp + y·stride + ky < n·hp`, columns
    // `x·stride + kx < wp`, outputs `< n·oh·ow·c_out`).
    unsafe {
        match c_out {
            8 => x86::correlate::<1, 8>(g, xp, taps, z),
            16 => x86::correlate::<2, 4>(g, xp, taps, z),
            32 => x86::correlate::<4, 2>(g, xp, taps, z),
            _ => unreachable!("c_out is 8, 16 or 32 (`applies`)"),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("direct convolution needs x86-64 AVX2 (`applies`)");
}

/// `grad[ky][kx][i][o] += Σ_{img, y, x} xp[img][y·stride + ky][x·stride + kx][i] · dz[img][y][x][o]`,
/// image by image: one image's padded input and output gradient stay in cache while every
/// tap's sum passes over them, where the whole batch's (512 KiB for mnas's stem at B = 16) came
/// from the last-level cache again for each group of taps. Each sum goes on from one image to
/// the next through `grad`, so it is the same chain of fused multiply-adds as over the batch at
/// once: the same bits.
fn weight_sums(g: &Grid, xp: &[f32], dz: &[f32], c_out: usize, grad: &mut [f32]) {
    assert!(xp.len() >= g.padded_len() && dz.len() >= g.out_len(c_out));
    assert!(grad.len() >= g.k * g.k * g.c_in * c_out);
    assert!((g.oh - 1) * g.stride + g.k <= g.hp && (g.ow - 1) * g.stride + g.k <= g.wp);
    let one = Grid { n: 1, ..*g };
    let (xp_image, dz_image) = (one.padded_len(), one.out_len(c_out));
    for img in 0..g.n {
        let xp = &xp[img * xp_image..][..xp_image];
        let dz = &dz[img * dz_image..][..dz_image];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as in `correlate`, for one image.
        unsafe {
            match c_out {
                8 => x86::weight_sums::<1>(&one, xp, dz, grad),
                16 => x86::weight_sums::<2>(&one, xp, dz, grad),
                32 => x86::weight_sums::<4>(&one, xp, dz, grad),
                _ => unreachable!("c_out is 8, 16 or 32 (`applies`)"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("direct convolution needs x86-64 AVX2 (`applies`)");
    }
}

#[cfg(target_arch = "x86_64")]
mod x86;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conv::{
        ForwardInput, conv_backward_input, conv_backward_weights, conv_forward,
    };
    use crate::model::gradcheck::gaussian as pseudo;
    use crate::model::simd::portable_only;

    fn close(what: &str, a: &[f32], b: &[f32]) {
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 2e-6 * scale * 10.0,
                "{what}[{i}]: direct {x} vs im2col {y}"
            );
        }
    }

    /// The direct kernels against the im2col path (itself tested against the definition and
    /// finite differences in `conv.rs`), on shapes with row remainders and every tap grouping.
    #[test]
    fn direct_convolution_matches_the_im2col_path() {
        if !super::super::simd::use_avx2_fma() {
            eprintln!("no AVX2+FMA here: the direct convolution never runs");
            return;
        }
        // Stride 2 on odd and even sizes pads unevenly (1 before and 2 after for 28 -> 14).
        for (h, w, c_in, c_out, k, stride) in [
            (7, 11, 1, 8, 5, 1),
            (6, 9, 3, 8, 5, 1),
            (5, 13, 8, 16, 5, 1),
            (4, 6, 16, 8, 3, 1),
            (9, 5, 8, 8, 3, 1),
            (5, 7, 8, 32, 3, 1),
            (28, 9, 1, 32, 5, 2),
            (7, 8, 3, 16, 5, 2),
            (9, 10, 2, 8, 3, 2),
        ] {
            let s = ConvShape {
                h,
                w,
                c_in,
                c_out,
                k,
                stride,
            };
            assert!(applies(&s), "{s:?}");
            let n = 3;
            let out = s.out_h() * s.out_w() * c_out;
            let x = pseudo(n * h * w * c_in, 1);
            let wt = pseudo(s.weights(), 2);
            let dz = pseudo(n * out, 3);
            let scale = 0.37;
            let mut z = vec![0.0; n * out];
            forward(&x, n, &s, &wt, scale, &mut z);
            let mut gw = pseudo(s.weights(), 4);
            backward_weights(&dz, &x, n, &s, scale, -0.5, &mut gw);
            let (want_z, want_gw, want_dx) = portable_only(|| {
                assert!(!applies(&s));
                let mut cols = vec![0.0; n * s.cols_per_image()];
                let mut z = vec![0.0; n * out];
                conv_forward(&x, n, &s, &wt, scale, &mut cols, &mut z);
                let mut gw = pseudo(s.weights(), 4);
                let input = ForwardInput { x: &x, cols: &cols };
                conv_backward_weights(&dz, input, n, &s, scale, -0.5, &mut gw);
                let mut dx = vec![0.0; x.len()];
                conv_backward_input(&dz, n, &s, &wt, scale, &mut cols, &mut dx);
                (z, gw, dx)
            });
            close(&format!("{s:?} z"), &z, &want_z);
            close(&format!("{s:?} w"), &gw, &want_gw);
            if applies_to_input(&s) {
                let mut dx = vec![0.0; x.len()];
                backward_input(&dz, n, &s, &wt, scale, &mut dx);
                close(&format!("{s:?} dx"), &dx, &want_dx);
            } else {
                assert!(stride == 2 || !matches!(c_in, 8 | 16 | 32));
            }
            // One image alone gives the same bits as inside the batch.
            let mut alone = vec![0.0; out];
            forward(
                &x[h * w * c_in..2 * h * w * c_in],
                1,
                &s,
                &wt,
                scale,
                &mut alone,
            );
            assert_eq!(alone, z[out..2 * out]);
        }
    }

    #[test]
    fn only_odd_kernels_of_stride_1_or_2_with_8_to_32_channels_go_direct() {
        let s = |c_in, c_out, k, stride| ConvShape {
            h: 8,
            w: 8,
            c_in,
            c_out,
            k,
            stride,
        };
        let fma = super::super::simd::use_avx2_fma();
        assert_eq!(applies(&s(3, 8, 5, 1)), fma);
        assert_eq!(applies(&s(8, 16, 5, 1)), fma);
        assert_eq!(applies(&s(8, 32, 5, 1)), fma);
        assert_eq!(applies(&s(3, 32, 5, 2)), fma);
        assert!(!applies(&s(8, 64, 5, 1)));
        assert!(!applies(&s(8, 16, 5, 3)));
        assert!(!applies_to_input(&s(16, 16, 5, 2)));
        assert!(!applies(&s(8, 16, 2, 1)));
        assert!(!applies(&s(8, 16, 1, 1)));
        assert!(!applies_to_input(&s(3, 8, 5, 1)));
        assert_eq!(applies_to_input(&s(16, 32, 3, 1)), fma);
        assert!(!portable_only(|| applies(&s(3, 8, 5, 1))));
    }
}
