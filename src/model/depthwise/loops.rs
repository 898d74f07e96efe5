//! The portable loops of the depthwise convolution: gathers with the sums in registers
//! (issue #11). The channels are cut into blocks of [`WIDTHS`] floats (up to 48) held in a
//! fixed-size accumulator, and each output value is summed there over its taps (forward), its
//! output pixels (input gradient), or an image's pixels (weight gradient) before it is stored
//! once. Compiled twice, for the baseline x86-64 and for AVX2 (chosen at run time, see
//! [`simd`]); neither fuses a multiply and an add, so both give the same bits, and these bits
//! define the layer: the AVX2 kernels of `x86.rs` reproduce them.

use super::{TapOutput, blocks, outputs_of_input, outputs_of_tap, taps_in_range};
use crate::model::conv::ConvShape;
use crate::model::simd;
use std::ops::Range;

/// Channel block widths summed together in registers (up to 6 AVX2 registers), widest first.
/// Each channel's sum runs in the same order whatever block it falls in; wider blocks give
/// a pass over the taps several independent sums (a block of 8 waits on each add's latency).
const WIDTHS: [usize; 6] = [48, 40, 32, 24, 16, 8];

/// Output pixels along a row computed together where their windows are whole, so that
/// several independent sums are in flight (a single sum waits on each add's latency).
const TILE: usize = 4;

/// Widest channel block of a tile (`TILE` x 2 AVX2 registers).
const TILE_BLOCK: usize = 16;

/// Call `f::<W>(start, ...)` for each channel block of [`WIDTHS`].
macro_rules! for_blocks {
    ($c:expr, $f:ident, $($arg:expr),*) => {
        for (start, width) in blocks($c, &WIDTHS) {
            match width {
                48 => $f::<48>(start, $($arg),*),
                40 => $f::<40>(start, $($arg),*),
                32 => $f::<32>(start, $($arg),*),
                24 => $f::<24>(start, $($arg),*),
                16 => $f::<16>(start, $($arg),*),
                8 => $f::<8>(start, $($arg),*),
                _ => $f::<1>(start, $($arg),*),
            }
        }
    };
}

/// Call `f::<W, TILE>(start, ...)` for each channel block of at most [`TILE_BLOCK`].
macro_rules! for_tile_blocks {
    ($c:expr, $f:ident, $($arg:expr),*) => {
        for (start, width) in blocks($c, &[TILE_BLOCK, 8]) {
            match width {
                TILE_BLOCK => $f::<TILE_BLOCK, TILE>(start, $($arg),*),
                8 => $f::<8, TILE>(start, $($arg),*),
                _ => $f::<1, TILE>(start, $($arg),*),
            }
        }
    };
}

/// `acc += a ⊙ b` over the first `W` floats of each.
#[inline(always)]
fn mac<const W: usize>(acc: &mut [f32; W], a: &[f32], b: &[f32]) {
    let (a, b): (&[f32; W], &[f32; W]) = (a[..W].try_into().unwrap(), b[..W].try_into().unwrap());
    for j in 0..W {
        acc[j] += a[j] * b[j];
    }
}

simd::multiversion! {
/// Depthwise k x k convolution (one filter per channel, `c_in = c_out`), 'same' padding,
/// no bias: `y = scale · dwconv(x, w)` with `w` laid out `(ky, kx, c)`; each output is summed
/// over its taps in (ky, kx) order, then scaled.
    pub(super) fn forward(x: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, y: &mut [f32]) {
        let (oh, ow, c) = (s.out_h(), s.out_w(), s.c_in);
        let (rows, cols) = (taps_in_range(s.h, s.k, s.stride), taps_in_range(s.w, s.k, s.stride));
        let pad = s.padding();
        let image = s.h * s.w * c;
        /// `TX` output pixels along a row (`TX > 1` only where every window is whole along x),
        /// channels `start .. start + W`; `out` starts at the first pixel.
        #[inline(always)]
        fn block<const W: usize, const TX: usize>(
            start: usize,
            x: &[f32],
            w: &[f32],
            out: &mut [f32],
            taps: (&Range<usize>, &Range<usize>),
            at: (usize, usize),
            (width, c, k, stride, scale): (usize, usize, usize, usize, f32),
        ) {
            let mut acc = [[0.0f32; W]; TX];
            for ky in taps.0.clone() {
                for kx in taps.1.clone() {
                    // Input pixel of tap (ky, kx): (oy·s + ky - top, ox·s + kx - left), where
                    // `at` = (oy·s - top, ox·s - left) wraps below zero and adding a tap in
                    // range brings it back.
                    let pix = at.0.wrapping_add(ky) * width + at.1.wrapping_add(kx);
                    let wv = &w[(ky * k + kx) * c + start..];
                    for (i, acc) in acc.iter_mut().enumerate() {
                        mac(acc, &x[(pix + i * stride) * c + start..], wv);
                    }
                }
            }
            for (i, acc) in acc.iter().enumerate() {
                for (o, a) in out[i * c + start..][..W].iter_mut().zip(acc) {
                    *o = a * scale;
                }
            }
        }
        /// A single pixel: `block::<W, 1>`.
        #[inline(always)]
        fn single<const W: usize>(
            start: usize,
            x: &[f32],
            w: &[f32],
            out: &mut [f32],
            taps: (&Range<usize>, &Range<usize>),
            at: (usize, usize),
            dims: (usize, usize, usize, usize, f32),
        ) {
            block::<W, 1>(start, x, w, out, taps, at, dims)
        }
        let whole = |ox: usize| cols[ox].len() == s.k;
        let dims = (s.w, c, s.k, s.stride, scale);
        for b in 0..n {
            let x = &x[b * image..][..image];
            for oy in 0..oh {
                let mut ox = 0;
                while ox < ow {
                    let taps = (&rows[oy], &cols[ox]);
                    let at = (
                        (oy * s.stride).wrapping_sub(pad.0),
                        (ox * s.stride).wrapping_sub(pad.1),
                    );
                    let out = &mut y[((b * oh + oy) * ow + ox) * c..];
                    if ox + TILE <= ow && whole(ox) && whole(ox + TILE - 1) {
                        for_tile_blocks!(c, block, x, w, out, taps, at, dims);
                        ox += TILE;
                    } else {
                        for_blocks!(c, single, x, w, out, taps, at, dims);
                        ox += 1;
                    }
                }
            }
        }
    }
}

simd::multiversion! {
/// Gradient to the input of [`forward`]: `dx = scale · Σ w·dy` over the outputs each
/// input pixel feeds, from `w` as given (in a fused SGD step, call it before the weights change).
pub(super) fn backward_input(
    dy: &[f32],
    n: usize,
    s: &ConvShape,
    w: &[f32],
    scale: f32,
    dx: &mut [f32],
) {
    let (oh, ow, c) = (s.out_h(), s.out_w(), s.c_in);
    let rows = outputs_of_input(s.h, s.k, s.stride);
    let cols = outputs_of_input(s.w, s.k, s.stride);
    #[inline(always)]
    fn block<const W: usize>(
        start: usize,
        dy: &[f32],
        w: &[f32],
        out: &mut [f32],
        taps: (&[TapOutput], &[TapOutput]),
        (ow, c, k, scale): (usize, usize, usize, f32),
    ) {
        let mut acc = [0.0f32; W];
        for &(ky, oy) in taps.0 {
            for &(kx, ox) in taps.1 {
                let o = (oy * ow + ox) * c + start;
                mac(&mut acc, &dy[o..], &w[(ky * k + kx) * c + start..]);
            }
        }
        for (d, a) in out[start..start + W].iter_mut().zip(acc) {
            *d = a * scale;
        }
    }
    for b in 0..n {
        let dy = &dy[b * oh * ow * c..][..oh * ow * c];
        for iy in 0..s.h {
            for ix in 0..s.w {
                let out = &mut dx[((b * s.h + iy) * s.w + ix) * c..][..c];
                let taps = (&rows[iy][..], &cols[ix][..]);
                for_blocks!(c, block, dy, w, out, taps, (ow, c, s.k, scale));
            }
        }
    }
}
}

simd::multiversion! {
/// Weight gradient of [`forward`], added as `w_target += coeff · dL/dw`: each tap's
/// sum over an image's pixels is formed in registers, the images' sums in a local buffer.
pub(super) fn backward_weights(
    dy: &[f32],
    x: &[f32],
    n: usize,
    s: &ConvShape,
    scale: f32,
    coeff: f32,
    w_target: &mut [f32],
) {
    let (oh, ow, c, k) = (s.out_h(), s.out_w(), s.c_in, s.k);
    let (top, left) = s.padding();
    let image = s.h * s.w * c;
    #[inline(always)]
    /// One tap's gradient (`grad` starts at the tap's `c` floats) over the outputs `outs` it
    /// feeds; `at` is the tap's input pixel for output (0, 0), wrapped below zero (an output
    /// in `outs` brings it back in range).
    fn block<const W: usize>(
        start: usize,
        dy: &[f32],
        x: &[f32],
        grad: &mut [f32],
        outs: (&std::ops::Range<usize>, &std::ops::Range<usize>),
        at: (usize, usize),
        (ow, width, c, stride): (usize, usize, usize, usize),
    ) {
        let mut acc = [0.0f32; W];
        for oy in outs.0.clone() {
            let iy = (oy * stride).wrapping_add(at.0);
            for ox in outs.1.clone() {
                let ix = (ox * stride).wrapping_add(at.1);
                mac(&mut acc, &x[(iy * width + ix) * c + start..], &dy[(oy * ow + ox) * c + start..]);
            }
        }
        for (g, a) in grad[start..][..W].iter_mut().zip(acc) {
            *g += a;
        }
    }
    let mut grad = vec![0.0f32; k * k * c];
    for b in 0..n {
        let (x, dy) = (&x[b * image..][..image], &dy[b * oh * ow * c..][..oh * ow * c]);
        for ky in 0..k {
            let ys = outputs_of_tap(s.h, k, s.stride, ky);
            for kx in 0..k {
                let xs = outputs_of_tap(s.w, k, s.stride, kx);
                let dims = (ow, s.w, c, s.stride);
                let at = (ky.wrapping_sub(top), kx.wrapping_sub(left));
                let grad = &mut grad[(ky * k + kx) * c..];
                for_blocks!(c, block, dy, x, grad, (&ys, &xs), at, dims);
            }
        }
    }
    let f = coeff * scale;
    for (t, g) in w_target[..k * k * c].iter_mut().zip(&grad) {
        *t += f * g;
    }
}
}
