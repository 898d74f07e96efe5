//! Pooling layers (method §2; issue #5) as forward/backward pairs, HWC layout: 2x2 max-pool with
//! stride 2 and 'same' padding (output `ceil(n/2)`; the padding at the end is left out of the
//! window, so it never wins), and the global mean over space. Whole windows of 8k channels go
//! through the AVX2 kernels of `x86.rs` where the CPU has it, with the same bits.

#[cfg(target_arch = "x86_64")]
mod x86;

/// Output size of the 2x2, stride-2, 'same' max-pool along one axis.
pub fn pooled(n: usize) -> usize {
    n.div_ceil(2)
}

/// The offsets `(dy, dx)` of a window's pixels, in the order that breaks ties (first wins);
/// the AVX2 kernels follow it too.
const TIE_ORDER: [(usize, usize); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];

/// The window of output `(oy, ox)`, in [`TIE_ORDER`]; its first pixel is always inside.
#[inline]
fn window(oy: usize, ox: usize, h: usize, w: usize) -> impl Iterator<Item = usize> {
    TIE_ORDER
        .into_iter()
        .map(move |(dy, dx)| (2 * oy + dy, 2 * ox + dx))
        .filter(move |&(iy, ix)| iy < h && ix < w)
        .map(move |(iy, ix)| iy * w + ix)
}

/// Whether the AVX2 kernels take the whole windows of a `c`-channel input.
fn vectorised(c: usize) -> bool {
    cfg!(target_arch = "x86_64") && c.is_multiple_of(8) && super::simd::use_avx2()
}

/// The outputs `(oy, ox)` of an `h x w` input: all of them, or only those whose window is cut
/// by the edge (an odd last row or column) when the AVX2 kernels did the whole ones.
fn outputs(h: usize, w: usize, only_partial: bool) -> impl Iterator<Item = (usize, usize)> {
    let (oh, ow) = (pooled(h), pooled(w));
    // Rows and columns of whole windows that the kernels did: none of them otherwise.
    let (done_h, done_w) = if only_partial { (h / 2, w / 2) } else { (0, 0) };
    // Outputs left: the rows below the whole ones (all columns), then the columns to their
    // right in the whole rows.
    let below = (done_h..oh).flat_map(move |oy| (0..ow).map(move |ox| (oy, ox)));
    let right = (0..done_h).flat_map(move |oy| (done_w..ow).map(move |ox| (oy, ox)));
    below.chain(right)
}

/// 2x2 max-pool of `n` images `h × w × c`. A NaN wins, so divergence shows in the output. The
/// winners are not recorded: the backward pass finds them again from `x` and `y`, only for the
/// images it keeps, and evaluation does not pay for them.
pub fn maxpool_forward(x: &[f32], n: usize, h: usize, w: usize, c: usize, y: &mut [f32]) {
    let (oh, ow) = (pooled(h), pooled(w));
    let fast = vectorised(c);
    #[cfg(target_arch = "x86_64")]
    if fast {
        // SAFETY: `vectorised` checked AVX2 on this CPU; the kernel checks the lengths.
        unsafe { x86::forward(x, n, [h, w, c], y) };
    }
    for b in 0..n {
        let x = &x[b * h * w * c..(b + 1) * h * w * c];
        for (oy, ox) in outputs(h, w, fast) {
            let out = ((b * oh + oy) * ow + ox) * c;
            let best = &mut y[out..out + c];
            let first = 2 * oy * w + 2 * ox;
            best.copy_from_slice(&x[first * c..(first + 1) * c]);
            for pix in window(oy, ox, h, w).skip(1) {
                for (bv, &v) in best.iter_mut().zip(&x[pix * c..(pix + 1) * c]) {
                    // Keeps a NaN, takes a NaN, else the larger: a select, not a branch.
                    *bv = if v > *bv || v.is_nan() { v } else { *bv };
                }
            }
        }
    }
}

/// Backward of [`maxpool_forward`] from its input `x` and output `y`: `dx` (zeroed here) gets
/// each output's gradient at the first input of its window that equals the output (the one
/// the forward pass kept), or is NaN when the output is.
pub fn maxpool_backward(
    dy: &[f32],
    x: &[f32],
    y: &[f32],
    n: usize,
    [h, w, c]: [usize; 3],
    dx: &mut [f32],
) {
    let (oh, ow) = (pooled(h), pooled(w));
    let image = h * w * c;
    let fast = vectorised(c);
    // Where the whole windows tile the input, the kernel writes every pixel.
    if !(fast && h % 2 == 0 && w % 2 == 0) {
        dx[..n * image].fill(0.0);
    }
    #[cfg(target_arch = "x86_64")]
    if fast {
        // SAFETY: `vectorised` checked AVX2 on this CPU; the kernel checks the lengths.
        unsafe { x86::backward(dy, x, y, n, [h, w, c], dx) };
    }
    for b in 0..n {
        let (x, dx) = (&x[b * image..][..image], &mut dx[b * image..][..image]);
        for (oy, ox) in outputs(h, w, fast) {
            let out = ((b * oh + oy) * ow + ox) * c;
            for ch in 0..c {
                let m = y[out + ch];
                let won = |pix: &usize| {
                    let v = x[pix * c + ch];
                    v == m || (m.is_nan() && v.is_nan())
                };
                if let Some(pix) = window(oy, ox, h, w).find(won) {
                    dx[pix * c + ch] += dy[out + ch];
                }
            }
        }
    }
}

/// Mean over the `pixels` positions of each of `n` images with `c` channels: `y` is `n × c`.
pub fn mean_pool_forward(x: &[f32], n: usize, pixels: usize, c: usize, y: &mut [f32]) {
    for b in 0..n {
        let out = &mut y[b * c..(b + 1) * c];
        out.fill(0.0);
        for p in 0..pixels {
            for (o, v) in out.iter_mut().zip(&x[(b * pixels + p) * c..][..c]) {
                *o += v;
            }
        }
        for o in out.iter_mut() {
            *o /= pixels as f32;
        }
    }
}

/// Backward of [`mean_pool_forward`]: every position gets `dy / pixels`.
pub fn mean_pool_backward(dy: &[f32], n: usize, pixels: usize, c: usize, dx: &mut [f32]) {
    for b in 0..n {
        for p in 0..pixels {
            for (d, g) in dx[(b * pixels + p) * c..][..c]
                .iter_mut()
                .zip(&dy[b * c..(b + 1) * c])
            {
                *d = g / pixels as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxpool_same_padding_and_gradient_routing() {
        // One 3x3 image, one channel: outputs 2x2, the last row/column pooled alone.
        let x = [1.0, 5.0, 2.0, 3.0, 4.0, 9.0, 7.0, 0.0, 8.0];
        let mut y = [0.0; 4];
        maxpool_forward(&x, 1, 3, 3, 1, &mut y);
        assert_eq!(y, [5.0, 9.0, 7.0, 8.0]);
        let mut dx = [0.0; 9];
        maxpool_backward(&[1.0, 2.0, 3.0, 4.0], &x, &y, 1, [3, 3, 1], &mut dx);
        assert_eq!(dx, [0.0, 1.0, 0.0, 0.0, 0.0, 2.0, 3.0, 0.0, 4.0]);
        assert_eq!((pooled(28), pooled(7), pooled(1)), (14, 4, 1));
        // A second image of ties: the first of the window wins, in the second image's half.
        let x2: Vec<f32> = x.iter().chain(&[0.0; 9]).copied().collect();
        let mut y2 = [0.0; 8];
        maxpool_forward(&x2, 2, 3, 3, 1, &mut y2);
        let mut dx2 = [0.0; 18];
        let dy2 = [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 5.0];
        maxpool_backward(&dy2, &x2, &y2, 2, [3, 3, 1], &mut dx2);
        assert_eq!(&dx2[9..], &[1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0, 5.0]);
        // Channels pool independently; a NaN wins (wherever it is) and gets the gradient.
        let x = [1.0, f32::NAN, 2.0, 0.0, 3.0, 1.0, 0.0, 5.0];
        let mut y = [0.0; 2];
        maxpool_forward(&x, 1, 2, 2, 2, &mut y);
        assert_eq!(y[0], 3.0);
        assert!(y[1].is_nan());
        let x = [1.0, 0.0, 2.0, 4.0, 3.0, f32::NAN, 0.0, 5.0];
        maxpool_forward(&x, 1, 2, 2, 2, &mut y);
        assert!(y[1].is_nan(), "a NaN after a larger value still wins");
        let mut dx = [0.0; 8];
        maxpool_backward(&[1.0, 1.0], &x, &y, 1, [2, 2, 2], &mut dx);
        assert_eq!(dx.map(|v| v as i32), [0, 0, 0, 0, 1, 1, 0, 0]);
    }

    /// The AVX2 kernels give the portable loops' bits, ties, NaNs and signed zeros included,
    /// on even and odd sizes, and leave channel counts that are not multiples of 8 to them.
    #[test]
    fn vectorised_maxpool_gives_the_portable_bits() {
        for (n, h, w, c) in [(2, 8, 8, 8), (3, 5, 7, 16), (1, 4, 3, 24), (2, 6, 4, 3)] {
            // Few distinct values: many ties; some NaNs and negative zeros.
            let x: Vec<f32> = (0..n * h * w * c)
                .map(|i| match i * 7919 % 31 {
                    0 => f32::NAN,
                    1 => -0.0,
                    r => (r % 5) as f32 - 2.0,
                })
                .collect();
            let out = n * pooled(h) * pooled(w) * c;
            let dy: Vec<f32> = (0..out)
                .map(|i| {
                    if i % 13 == 0 {
                        -0.0
                    } else {
                        (i as f32 * 0.3).sin()
                    }
                })
                .collect();
            let pass = || {
                let mut y = vec![7.0; out];
                maxpool_forward(&x, n, h, w, c, &mut y);
                let mut dx = vec![7.0; x.len()];
                maxpool_backward(&dy, &x, &y, n, [h, w, c], &mut dx);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                (bits(&y), bits(&dx))
            };
            let portable = crate::model::simd::portable_only(pass);
            assert!(pass() == portable, "n={n} h={h} w={w} c={c}");
        }
    }

    #[test]
    fn maxpool_pair_matches_finite_differences() {
        // Odd sizes (a last row and column pooled alone), two images, three channels; distinct
        // values, so no input sits on a tie within the step.
        let (n, h, w, c) = (2, 5, 3, 3);
        let x: Vec<f32> = (0..n * h * w * c)
            .map(|i| ((i * 37 % 101) as f32) * 0.1 - 5.0)
            .collect();
        let out = n * pooled(h) * pooled(w) * c;
        let dy: Vec<f32> = (0..out).map(|i| (i as f32 * 0.3).cos()).collect();
        let s = |x: &[f32]| -> f64 {
            let mut y = vec![0.0; out];
            maxpool_forward(x, n, h, w, c, &mut y);
            y.iter().zip(&dy).map(|(a, b)| *a as f64 * *b as f64).sum()
        };
        let mut y = vec![0.0; out];
        maxpool_forward(&x, n, h, w, c, &mut y);
        let mut dx = vec![0.0; x.len()];
        maxpool_backward(&dy, &x, &y, n, [h, w, c], &mut dx);
        crate::model::gradcheck::layer_gradient_matches("dx", &x, &dx, s);
        assert_eq!(dx.iter().filter(|&&g| g != 0.0).count(), out);
    }

    #[test]
    fn mean_pool_pair_matches_finite_differences() {
        let (n, pixels, c) = (2, 3, 2);
        let x: Vec<f32> = (0..n * pixels * c)
            .map(|i| (i as f32 * 0.7).sin())
            .collect();
        let mut y = vec![0.0; n * c];
        mean_pool_forward(&x, n, pixels, c, &mut y);
        assert!((y[1] - (x[1] + x[3] + x[5]) / 3.0).abs() < 1e-6);
        let dy: Vec<f32> = (0..n * c).map(|i| i as f32 + 1.0).collect();
        let mut dx = vec![0.0; x.len()];
        mean_pool_backward(&dy, n, pixels, c, &mut dx);
        let s = |x: &[f32]| -> f64 {
            let mut y = vec![0.0; n * c];
            mean_pool_forward(x, n, pixels, c, &mut y);
            y.iter()
                .zip(&dy)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum()
        };
        crate::model::gradcheck::layer_gradient_matches("dx", &x, &dx, s);
    }
}
