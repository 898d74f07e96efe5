//! Depthwise k x k convolution (method §2, `mnas`: one filter per channel, 'same' padding, no
//! bias) as a forward/backward pair, HWC layout, weights `(ky, kx, c)`. With one filter per
//! channel there is no matrix product for sgemm, so these are direct loops.
//!
//! Each output is one sum in a fixed order, a multiply and an add per term, from `+0`:
//! forward, over its taps in (ky, kx) order, then scaled; input gradient, over the outputs each
//! input pixel feeds, taps in (ky, kx) order, then scaled; weight gradient, per image over the
//! output pixels in (oy, ox) order, the images' sums added in batch order. Two implementations
//! give these same bits (tested): portable loops (`loops.rs`) and, where the CPU has AVX2 and
//! the channels fill whole registers, kernels over zero-padded images (`x86.rs`, issue #11;
//! the zeros a padded window adds leave a sum that starts at `+0` unchanged).

use super::conv::{ConvShape, same_padding};
#[cfg(test)]
use super::simd;

mod loops;
#[cfg(target_arch = "x86_64")]
mod x86;

/// Depthwise k x k convolution (one filter per channel, `c_in = c_out`), 'same' padding,
/// no bias: `y = scale · dwconv(x, w)` with `w` laid out `(ky, kx, c)`.
pub fn depthwise_forward(x: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if x86::applies(s) {
        return x86::forward(x, n, s, w, scale, y);
    }
    loops::forward(x, n, s, w, scale, y)
}

/// Gradient to the input of [`depthwise_forward`]: `dx = scale · Σ w·dy` over the outputs each
/// input pixel feeds, from `w` as given (in a fused SGD step, call it before the weights change).
pub fn depthwise_backward_input(
    dy: &[f32],
    n: usize,
    s: &ConvShape,
    w: &[f32],
    scale: f32,
    dx: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if x86::applies(s) {
        return x86::backward_input(dy, n, s, w, scale, dx);
    }
    loops::backward_input(dy, n, s, w, scale, dx)
}

/// Weight gradient of [`depthwise_forward`], added as `w_target += coeff · scale · dL/dw`.
pub fn depthwise_backward_weights(
    dy: &[f32],
    x: &[f32],
    n: usize,
    s: &ConvShape,
    scale: f32,
    coeff: f32,
    w_target: &mut [f32],
) {
    #[cfg(target_arch = "x86_64")]
    if x86::applies(s) {
        return x86::backward_weights(dy, x, n, s, scale, coeff, w_target);
    }
    loops::backward_weights(dy, x, n, s, scale, coeff, w_target)
}

/// Channel blocks `(start, width)` covering `0..c`: greedily the widest of `widths` that fits
/// (each a multiple of 8), then single channels.
fn blocks(c: usize, widths: &'static [usize]) -> impl Iterator<Item = (usize, usize)> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = c - start;
        let width = widths
            .iter()
            .copied()
            .find(|&w| w <= left)
            .or((left > 0).then_some(1))?;
        start += width;
        Some((start - width, width))
    })
}

/// For each output coordinate along one axis of length `n_in` (stride `s`, 'same' padding
/// `pad`), the kernel taps that reach inside: input `o·s + t - pad`.
fn taps_in_range(n_in: usize, k: usize, s: usize) -> Vec<std::ops::Range<usize>> {
    let (n_out, pad) = same_padding(n_in, k, s);
    (0..n_out)
        .map(|o| pad.saturating_sub(o * s)..k.min(n_in + pad - o * s))
        .collect()
}

/// For kernel tap `t` along one axis of length `n_in` (stride `s`, 'same' padding `pad`), the
/// outputs whose window holds it inside the input: `o·s + t - pad` in `0..n_in`.
fn outputs_of_tap(n_in: usize, k: usize, s: usize, t: usize) -> std::ops::Range<usize> {
    let (n_out, pad) = same_padding(n_in, k, s);
    let first = pad.saturating_sub(t).div_ceil(s);
    let end = (n_in + pad).saturating_sub(t).div_ceil(s).min(n_out);
    first..end.max(first)
}

/// A kernel tap and the output coordinate it connects to an input coordinate.
type TapOutput = (usize, usize);

/// For each input coordinate along one axis, the pairs `(tap, output)` with `output·s + tap -
/// pad = input`, taps in increasing order.
fn outputs_of_input(n_in: usize, k: usize, s: usize) -> Vec<Vec<TapOutput>> {
    let (n_out, pad) = same_padding(n_in, k, s);
    (0..n_in)
        .map(|i| {
            (0..k)
                .filter_map(|t| {
                    let num = (i + pad).checked_sub(t)?;
                    (num % s == 0 && num / s < n_out).then_some((t, num / s))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gradcheck::gaussian;

    /// `(h, w, c, k, stride)`: every depthwise layer of mnas h = 8 on CIFAR (16x16x32,
    /// 16x16x48 / 2, 8x8x24, 8x8x24 / 2, 4x4x72) and on MNIST (14x14, 14x14 / 2, 7x7, 7x7 / 2,
    /// 4x4), odd sizes, k = 3, and channel counts the kernels leave to the loops (45, 12, 3).
    const SHAPES: [(usize, usize, usize, usize, usize); 15] = [
        (16, 16, 32, 5, 1),
        (16, 16, 48, 5, 2),
        (8, 8, 24, 5, 1),
        (8, 8, 24, 5, 2),
        (4, 4, 72, 5, 1),
        (14, 14, 32, 5, 1),
        (14, 14, 48, 5, 2),
        (7, 7, 24, 5, 2),
        (9, 7, 8, 5, 2),
        (5, 6, 16, 5, 1),
        (8, 8, 16, 3, 1),
        (7, 9, 40, 3, 2),
        (9, 7, 45, 5, 1),
        (6, 6, 12, 5, 2),
        (5, 5, 3, 5, 1),
    ];

    fn shape((h, w, c, k, stride): (usize, usize, usize, usize, usize)) -> ConvShape {
        ConvShape {
            h,
            w,
            c_in: c,
            c_out: c,
            k,
            stride,
        }
    }

    /// The three passes of one shape: `y`, `dx` and the updated weights, as bits.
    fn passes(s: &ConvShape) -> [Vec<u32>; 3] {
        let (n, c, k) = (2, s.c_in, s.k);
        let x = gaussian(n * s.h * s.w * c, 1);
        let w = gaussian(k * k * c, 2);
        let dy = gaussian(n * s.out_h() * s.out_w() * c, 3);
        let mut y = vec![0.0; dy.len()];
        let mut dx = vec![0.0; x.len()];
        let mut gw = w.clone();
        depthwise_forward(&x, n, s, &w, 0.2, &mut y);
        depthwise_backward_input(&dy, n, s, &w, 0.2, &mut dx);
        depthwise_backward_weights(&dy, &x, n, s, 0.2, -0.1, &mut gw);
        [y, dx, gw].map(|v| v.iter().map(|f| f.to_bits()).collect())
    }

    /// The same, by scalar loops that spell out each sum's order (module doc).
    fn scalar_passes(s: &ConvShape) -> [Vec<u32>; 3] {
        let (n, c, k, st) = (2, s.c_in, s.k, s.stride);
        let (oh, ow, (top, left)) = (s.out_h(), s.out_w(), s.padding());
        let x = gaussian(n * s.h * s.w * c, 1);
        let w = gaussian(k * k * c, 2);
        let dy = gaussian(n * oh * ow * c, 3);
        // Input coordinate of output o and tap t along an axis, if inside.
        let input = |o: usize, t: usize, pad: usize, len: usize| {
            (o * st + t).checked_sub(pad).filter(|&i| i < len)
        };
        let xi = |b: usize, iy: usize, ix: usize, ch: usize| ((b * s.h + iy) * s.w + ix) * c + ch;
        let oi = |b: usize, oy: usize, ox: usize, ch: usize| ((b * oh + oy) * ow + ox) * c + ch;
        let (mut y, mut dx, mut grad) =
            (vec![0.0; dy.len()], vec![0.0; x.len()], vec![0.0; w.len()]);
        for b in 0..n {
            for ch in 0..c {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0f32;
                        for ky in 0..k {
                            for kx in 0..k {
                                if let (Some(iy), Some(ix)) =
                                    (input(oy, ky, top, s.h), input(ox, kx, left, s.w))
                                {
                                    acc += x[xi(b, iy, ix, ch)] * w[(ky * k + kx) * c + ch];
                                }
                            }
                        }
                        y[oi(b, oy, ox, ch)] = acc * 0.2;
                    }
                }
                for iy in 0..s.h {
                    for ix in 0..s.w {
                        let mut acc = 0.0f32;
                        for ky in 0..k {
                            for kx in 0..k {
                                for (oy, ox) in
                                    (0..oh).flat_map(|oy| (0..ow).map(move |ox| (oy, ox)))
                                {
                                    if input(oy, ky, top, s.h) == Some(iy)
                                        && input(ox, kx, left, s.w) == Some(ix)
                                    {
                                        acc += dy[oi(b, oy, ox, ch)] * w[(ky * k + kx) * c + ch];
                                    }
                                }
                            }
                        }
                        dx[xi(b, iy, ix, ch)] = acc * 0.2;
                    }
                }
                for ky in 0..k {
                    for kx in 0..k {
                        let mut acc = 0.0f32;
                        for oy in 0..oh {
                            for ox in 0..ow {
                                if let (Some(iy), Some(ix)) =
                                    (input(oy, ky, top, s.h), input(ox, kx, left, s.w))
                                {
                                    acc += x[xi(b, iy, ix, ch)] * dy[oi(b, oy, ox, ch)];
                                }
                            }
                        }
                        grad[(ky * k + kx) * c + ch] += acc;
                    }
                }
            }
        }
        let gw: Vec<f32> = w
            .iter()
            .zip(&grad)
            .map(|(w, g)| w + -0.1f32 * 0.2 * g)
            .collect();
        [y, dx, gw].map(|v| v.iter().map(|f| f.to_bits()).collect())
    }

    /// Both implementations give the bits of the scalar definition, for every shape; the AVX2
    /// kernels take the shapes whose channels fill whole registers.
    #[test]
    fn kernels_and_loops_give_the_bits_of_the_scalar_definition() {
        for dims in SHAPES {
            let s = shape(dims);
            #[cfg(target_arch = "x86_64")]
            assert_eq!(
                x86::applies(&s),
                s.c_in.is_multiple_of(8) && simd::use_avx2(),
                "{dims:?}"
            );
            let want = scalar_passes(&s);
            let names = ["forward", "input gradient", "weight update"];
            for (got, path) in [
                (passes(&s), "kernels"),
                (simd::portable_only(|| passes(&s)), "loops"),
            ] {
                for ((g, w), name) in got.iter().zip(&want).zip(names) {
                    assert!(g == w, "{name} of {dims:?} by the {path}");
                }
            }
        }
    }
}
