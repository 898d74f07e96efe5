//! Direct k x k convolution (stride 1, odd k, 'same' padding) for layers with 8 or 16 output
//! channels: simple-cnn's `conv1`/`conv2` at h = 8 (issue #11; mnas's convolutions are 1x1 or
//! of stride 2 and keep the im2col path). Through im2col
//! such a layer is a tall, narrow product (thousands of pixels against 8 or 16 columns) whose
//! operands `matrixmultiply` copies twice (im2col, then packing) to multiply each float by only
//! 8 or 16 weights: the copies cost as much as the product. Here the input is zero-padded once
//! and every output pixel sums its taps straight from it, with the weights transposed so that
//! one AVX2 register holds 8 output channels. No crate offers this for NHWC f32 on the CPU,
//! hence the hand-written kernels.
//!
//! One kernel does the forward pass and the input gradient: the input gradient of a 'same'
//! stride-1 convolution is the same correlation of the zero-padded output gradient with the
//! flipped kernel, its channels swapped. A second kernel sums the weight gradient over pixels.
//! Every output is one sum in a fixed order (taps in (ky, kx, c_in) order; pixels in batch
//! order for the weight gradient), so an image's output does not depend on the images around
//! it and a run is a pure function of its config on a given CPU. The kernels use fused
//! multiply-adds, as `matrixmultiply` does where the CPU has them; without AVX2 and FMA the
//! im2col path of `conv.rs` runs instead (the two agree to rounding, tested).

use super::conv::ConvShape;
use std::cell::RefCell;

thread_local! {
    /// Zero-padded input (or output gradient) of the current call.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// Weights rearranged to `[ky][kx][c_in][c_out]` (or flipped for the input gradient).
    static TAPS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// Weight gradient in `[ky][kx][c_in][c_out]` order before it is added to the weights.
    static GRAD: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn geometry_fits(s: &ConvShape) -> bool {
    s.stride == 1 && s.k % 2 == 1 && s.k > 1
}

/// Whether [`forward`] and [`backward_weights`] run for `s` on this CPU and thread.
pub fn applies(s: &ConvShape) -> bool {
    geometry_fits(s) && matches!(s.c_out, 8 | 16) && super::simd::use_avx2_fma()
}

/// Whether [`backward_input`] runs for `s` (its outputs are the `c_in` channels).
pub fn applies_to_input(s: &ConvShape) -> bool {
    geometry_fits(s) && matches!(s.c_in, 8 | 16) && super::simd::use_avx2_fma()
}

/// Copy `n` images of `h × w × c` into `out` with `p` zero rows and columns on every side.
fn pad(x: &[f32], n: usize, h: usize, w: usize, c: usize, p: usize, out: &mut Vec<f32>) {
    let (hp, wp) = (h + 2 * p, w + 2 * p);
    out.clear();
    out.resize(n * hp * wp * c, 0.0);
    for img in 0..n {
        for y in 0..h {
            let src = &x[(img * h + y) * w * c..][..w * c];
            let dst = ((img * hp + y + p) * wp + p) * c;
            out[dst..dst + w * c].copy_from_slice(src);
        }
    }
}

/// `z = scale · conv(x, W)` for `n` images (`W` is `c_out × (k·k·c_in)`, rows in (ky, kx, c_in)
/// order, as in `conv.rs`). Call only where [`applies`].
pub fn forward(x: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, z: &mut [f32]) {
    assert!(applies(s), "direct convolution called for {s:?}");
    let p = s.k / 2;
    let (patch, c_out) = (s.patch(), s.c_out);
    assert!(x.len() >= n * s.h * s.w * s.c_in && w.len() >= s.weights());
    assert!(z.len() >= n * s.h * s.w * c_out);
    PADDED.with_borrow_mut(|padded| {
        TAPS.with_borrow_mut(|taps| {
            pad(x, n, s.h, s.w, s.c_in, p, padded);
            taps.clear();
            taps.resize(s.weights(), 0.0);
            for co in 0..c_out {
                for tap in 0..patch {
                    taps[tap * c_out + co] = w[co * patch + tap];
                }
            }
            correlate(padded, n, s.h, s.w, s.c_in, s.k, taps, c_out, z);
        })
    });
    scale_in_place(&mut z[..n * s.h * s.w * c_out], scale);
}

/// Gradient to the input of [`forward`]: `dx = scale · (dz ⋆ flipped W)`. Call only where
/// [`applies_to_input`].
pub fn backward_input(dz: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, dx: &mut [f32]) {
    assert!(
        applies_to_input(s),
        "direct input gradient called for {s:?}"
    );
    let (k, p) = (s.k, s.k / 2);
    let (c_in, c_out, patch) = (s.c_in, s.c_out, s.patch());
    assert!(dz.len() >= n * s.h * s.w * c_out && w.len() >= s.weights());
    assert!(dx.len() >= n * s.h * s.w * c_in);
    PADDED.with_borrow_mut(|padded| {
        TAPS.with_borrow_mut(|taps| {
            pad(dz, n, s.h, s.w, c_out, p, padded);
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
            correlate(padded, n, s.h, s.w, c_out, k, taps, c_in, dx);
        })
    });
    scale_in_place(&mut dx[..n * s.h * s.w * c_in], scale);
}

/// Weight gradient of [`forward`], added as `w_target += coeff · scale · gradient` (as
/// `conv::conv_backward_weights`). Call only where [`applies`].
#[allow(clippy::too_many_arguments)]
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
    let (patch, c_out) = (s.patch(), s.c_out);
    assert!(x.len() >= n * s.h * s.w * s.c_in && dz.len() >= n * s.h * s.w * c_out);
    assert!(w_target.len() >= s.weights());
    let c = coeff * scale;
    PADDED.with_borrow_mut(|padded| {
        GRAD.with_borrow_mut(|grad| {
            pad(x, n, s.h, s.w, s.c_in, s.k / 2, padded);
            grad.clear();
            grad.resize(s.weights(), 0.0);
            weight_sums(padded, n, s.h, s.w, s.c_in, s.k, dz, c_out, grad);
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

/// `z[img][y][x][o] = Σ_{ky, kx, i} xp[img][y + ky][x + kx][i] · taps[ky][kx][i][o]` for
/// `h × w` outputs per image, `xp` padded to `(h + k - 1) × (w + k - 1) × c_in`.
#[allow(clippy::too_many_arguments)]
fn correlate(
    xp: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c_in: usize,
    k: usize,
    taps: &[f32],
    c_out: usize,
    z: &mut [f32],
) {
    let (hp, wp) = (h + k - 1, w + k - 1);
    assert!(xp.len() >= n * hp * wp * c_in && taps.len() >= k * k * c_in * c_out);
    assert!(z.len() >= n * h * w * c_out);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has AVX2 and FMA (`applies`), and the lengths checked above bound every
    // index the kernels form (rows `img·hp + y + ky < n·hp`, columns `x + kx < wp`).
    unsafe {
        match c_out {
            8 => x86::correlate::<1, 8>(xp, n, h, w, c_in, k, taps, z),
            16 => x86::correlate::<2, 4>(xp, n, h, w, c_in, k, taps, z),
            _ => unreachable!("c_out is 8 or 16 (`applies`)"),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("direct convolution needs x86-64 AVX2 (`applies`)");
}

/// `grad[ky][kx][i][o] = Σ_{img, y, x} xp[img][y + ky][x + kx][i] · dz[img][y][x][o]`.
#[allow(clippy::too_many_arguments)]
fn weight_sums(
    xp: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c_in: usize,
    k: usize,
    dz: &[f32],
    c_out: usize,
    grad: &mut [f32],
) {
    let (hp, wp) = (h + k - 1, w + k - 1);
    assert!(xp.len() >= n * hp * wp * c_in && dz.len() >= n * h * w * c_out);
    assert!(grad.len() >= k * k * c_in * c_out);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `correlate`.
    unsafe {
        match c_out {
            8 => x86::weight_sums::<1>(xp, n, h, w, c_in, k, dz, grad),
            16 => x86::weight_sums::<2>(xp, n, h, w, c_in, k, dz, grad),
            _ => unreachable!("c_out is 8 or 16 (`applies`)"),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("direct convolution needs x86-64 AVX2 (`applies`)");
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// `NV` registers of 8 output channels; `PX` output pixels along a row at a time.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn correlate<const NV: usize, const PX: usize>(
        xp: &[f32],
        n: usize,
        h: usize,
        w: usize,
        c_in: usize,
        k: usize,
        taps: &[f32],
        z: &mut [f32],
    ) {
        // SAFETY: the callers (`super::correlate`, `super::weight_sums`) checked the slice
        // lengths against every index formed here, and the CPU features.
        unsafe {
            let (hp, wp) = (h + k - 1, w + k - 1);
            let c_out = 8 * NV;
            let (xp, taps, z) = (xp.as_ptr(), taps.as_ptr(), z.as_mut_ptr());
            for img in 0..n {
                for y in 0..h {
                    let row = xp.add((img * hp + y) * wp * c_in);
                    let out = z.add((img * h + y) * w * c_out);
                    let mut x = 0;
                    while x + PX <= w {
                        tile::<NV, PX>(
                            row.add(x * c_in),
                            wp * c_in,
                            c_in,
                            k,
                            taps,
                            out.add(x * c_out),
                        );
                        x += PX;
                    }
                    while x < w {
                        tile::<NV, 1>(
                            row.add(x * c_in),
                            wp * c_in,
                            c_in,
                            k,
                            taps,
                            out.add(x * c_out),
                        );
                        x += 1;
                    }
                }
            }
        }
    }

    /// `PX` neighbouring outputs: for each kernel row, the `k·c_in` taps are contiguous in the
    /// padded input, so the sum runs over one flat index per row.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile<const NV: usize, const PX: usize>(
        x: *const f32,
        row_stride: usize,
        c_in: usize,
        k: usize,
        taps: *const f32,
        out: *mut f32,
    ) {
        // SAFETY: the callers (`super::correlate`, `super::weight_sums`) checked the slice
        // lengths against every index formed here, and the CPU features.
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); NV]; PX];
            let per_row = k * c_in;
            for ky in 0..k {
                let xr = x.add(ky * row_stride);
                let wr = taps.add(ky * per_row * 8 * NV);
                for t in 0..per_row {
                    let mut wv = [_mm256_setzero_ps(); NV];
                    for (v, r) in wv.iter_mut().enumerate() {
                        *r = _mm256_loadu_ps(wr.add((t * NV + v) * 8));
                    }
                    for (j, a) in acc.iter_mut().enumerate() {
                        let xb = _mm256_broadcast_ss(&*xr.add(j * c_in + t));
                        for v in 0..NV {
                            a[v] = _mm256_fmadd_ps(xb, wv[v], a[v]);
                        }
                    }
                }
            }
            for (j, a) in acc.iter().enumerate() {
                for (v, r) in a.iter().enumerate() {
                    _mm256_storeu_ps(out.add((j * NV + v) * 8), *r);
                }
            }
        }
    }

    /// Taps in groups of `8 / NV` (then 2, then 1), each group's sums over every pixel held in
    /// registers.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn weight_sums<const NV: usize>(
        xp: &[f32],
        n: usize,
        h: usize,
        w: usize,
        c_in: usize,
        k: usize,
        dz: &[f32],
        grad: &mut [f32],
    ) {
        // SAFETY: the callers (`super::correlate`, `super::weight_sums`) checked the slice
        // lengths against every index formed here, and the CPU features.
        unsafe {
            let per_row = k * c_in;
            let mut t = 0;
            let groups = per_row * k;
            while t < groups {
                let left = per_row - t % per_row;
                let g = if NV == 1 && left >= 8 {
                    8
                } else if left >= 4 {
                    4
                } else if left >= 2 {
                    2
                } else {
                    1
                };
                match g {
                    8 => group::<NV, 8>(xp, n, h, w, c_in, k, dz, grad, t),
                    4 => group::<NV, 4>(xp, n, h, w, c_in, k, dz, grad, t),
                    2 => group::<NV, 2>(xp, n, h, w, c_in, k, dz, grad, t),
                    _ => group::<NV, 1>(xp, n, h, w, c_in, k, dz, grad, t),
                }
                t += g;
            }
        }
    }

    /// Sums of taps `tap .. tap + G` (one kernel row, `tap = ky·k·c_in + t`) over all pixels.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn group<const NV: usize, const G: usize>(
        xp: &[f32],
        n: usize,
        h: usize,
        w: usize,
        c_in: usize,
        k: usize,
        dz: &[f32],
        grad: &mut [f32],
        tap: usize,
    ) {
        // SAFETY: the callers (`super::correlate`, `super::weight_sums`) checked the slice
        // lengths against every index formed here, and the CPU features.
        unsafe {
            let (hp, wp) = (h + k - 1, w + k - 1);
            let per_row = k * c_in;
            let (ky, t) = (tap / per_row, tap % per_row);
            let (xp, dz) = (xp.as_ptr(), dz.as_ptr());
            let mut acc = [[_mm256_setzero_ps(); NV]; G];
            for img in 0..n {
                for y in 0..h {
                    let xr = xp.add(((img * hp + y + ky) * wp) * c_in + t);
                    let dr = dz.add((img * h + y) * w * 8 * NV);
                    for x in 0..w {
                        let mut d = [_mm256_setzero_ps(); NV];
                        for (v, r) in d.iter_mut().enumerate() {
                            *r = _mm256_loadu_ps(dr.add((x * NV + v) * 8));
                        }
                        for (g, a) in acc.iter_mut().enumerate() {
                            let xb = _mm256_broadcast_ss(&*xr.add(x * c_in + g));
                            for v in 0..NV {
                                a[v] = _mm256_fmadd_ps(xb, d[v], a[v]);
                            }
                        }
                    }
                }
            }
            let out = grad.as_mut_ptr();
            for (g, a) in acc.iter().enumerate() {
                for (v, r) in a.iter().enumerate() {
                    _mm256_storeu_ps(out.add(((tap + g) * NV + v) * 8), *r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conv::{conv_backward_input, conv_backward_weights, conv_forward};
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
        for (h, w, c_in, c_out, k) in [
            (7, 11, 1, 8, 5),
            (6, 9, 3, 8, 5),
            (5, 13, 8, 16, 5),
            (4, 6, 16, 8, 3),
            (9, 5, 8, 8, 3),
        ] {
            let s = ConvShape {
                h,
                w,
                c_in,
                c_out,
                k,
                stride: 1,
            };
            assert!(applies(&s), "{s:?}");
            let n = 3;
            let x = pseudo(n * h * w * c_in, 1);
            let wt = pseudo(s.weights(), 2);
            let dz = pseudo(n * h * w * c_out, 3);
            let scale = 0.37;
            let mut z = vec![0.0; n * h * w * c_out];
            forward(&x, n, &s, &wt, scale, &mut z);
            let mut gw = pseudo(s.weights(), 4);
            backward_weights(&dz, &x, n, &s, scale, -0.5, &mut gw);
            let (want_z, want_gw, want_dx) = portable_only(|| {
                assert!(!applies(&s));
                let mut cols = vec![0.0; n * s.cols_per_image()];
                let mut z = vec![0.0; n * h * w * c_out];
                conv_forward(&x, n, &s, &wt, scale, &mut cols, &mut z);
                let mut gw = pseudo(s.weights(), 4);
                conv_backward_weights(&dz, &x, &cols, n, &s, scale, -0.5, &mut gw);
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
                assert!(!matches!(c_in, 8 | 16));
            }
            // One image alone gives the same bits as inside the batch.
            let mut alone = vec![0.0; h * w * c_out];
            forward(
                &x[h * w * c_in..2 * h * w * c_in],
                1,
                &s,
                &wt,
                scale,
                &mut alone,
            );
            assert_eq!(alone, z[h * w * c_out..2 * h * w * c_out]);
        }
    }

    #[test]
    fn only_stride_one_odd_kernels_with_8_or_16_channels_go_direct() {
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
        assert!(!applies(&s(8, 32, 5, 1)));
        assert!(!applies(&s(8, 16, 5, 2)));
        assert!(!applies(&s(8, 16, 2, 1)));
        assert!(!applies(&s(8, 16, 1, 1)));
        assert!(!applies_to_input(&s(3, 8, 5, 1)));
        assert_eq!(applies_to_input(&s(16, 32, 3, 1)), fma);
        assert!(!portable_only(|| applies(&s(3, 8, 5, 1))));
    }
}
