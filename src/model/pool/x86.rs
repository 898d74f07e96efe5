//! AVX2 kernels of the 2x2 max-pool over whole windows, 8 channels per register (issue #11).
//! They give the bits of the portable loops in `mod.rs`: the forward keeps the same running
//! maximum (a select per pixel, NaN wins), and the backward routes the gradient with
//! branch-free selects to the first pixel equal to the output, as `0.0 + dy` (the portable
//! loop adds into a zeroed buffer), and writes `+0.0` to the others.

use std::arch::x86_64::*;

/// The four pixels of output `(oy, ox)`'s whole window, in the order that breaks ties.
#[inline(always)]
fn corners(oy: usize, ox: usize, w: usize) -> [usize; 4] {
    super::TIE_ORDER.map(|(dy, dx)| (2 * oy + dy) * w + 2 * ox + dx)
}

/// Max-pool of the whole windows (`oh_full x ow_full` of them) of `n` images `h x w x c`,
/// `c` a multiple of 8. The caller checks the lengths.
///
/// # Safety
/// The CPU has AVX2. (The lengths are checked here, with an `assert!`.)
#[target_feature(enable = "avx2")]
pub unsafe fn forward(x: &[f32], n: usize, [h, w, c]: [usize; 3], y: &mut [f32]) {
    let (oh, ow) = (super::pooled(h), super::pooled(w));
    assert!(c % 8 == 0 && x.len() >= n * h * w * c && y.len() >= n * oh * ow * c);
    // SAFETY: every index below is a pixel of a whole window of an image in `x`, or an output
    // in `y`, plus a channel offset under `c`; both lengths were checked above.
    unsafe {
        for b in 0..n {
            let xb = x.as_ptr().add(b * h * w * c);
            for oy in 0..h / 2 {
                for ox in 0..w / 2 {
                    let out = y.as_mut_ptr().add(((b * oh + oy) * ow + ox) * c);
                    let pix = corners(oy, ox, w);
                    for ch in (0..c).step_by(8) {
                        let mut best = _mm256_loadu_ps(xb.add(pix[0] * c + ch));
                        for &p in &pix[1..] {
                            let v = _mm256_loadu_ps(xb.add(p * c + ch));
                            let take = _mm256_or_ps(
                                _mm256_cmp_ps::<_CMP_GT_OQ>(v, best),
                                _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v),
                            );
                            best = _mm256_blendv_ps(best, v, take);
                        }
                        _mm256_storeu_ps(out.add(ch), best);
                    }
                }
            }
        }
    }
}

/// Backward of [`forward`] over the same whole windows: writes every pixel of them in `dx`.
///
/// # Safety
/// The CPU has AVX2. (The lengths are checked here, with an `assert!`.)
#[target_feature(enable = "avx2")]
pub unsafe fn backward(
    dy: &[f32],
    x: &[f32],
    y: &[f32],
    n: usize,
    [h, w, c]: [usize; 3],
    dx: &mut [f32],
) {
    let (oh, ow) = (super::pooled(h), super::pooled(w));
    let (image, outputs) = (h * w * c, n * oh * ow * c);
    assert!(c % 8 == 0 && x.len() >= n * image && dx.len() >= n * image);
    assert!(y.len() >= outputs && dy.len() >= outputs);
    // SAFETY: as in `forward`.
    unsafe {
        let zero = _mm256_setzero_ps();
        for b in 0..n {
            let (xb, dxb) = (x.as_ptr().add(b * image), dx.as_mut_ptr().add(b * image));
            for oy in 0..h / 2 {
                for ox in 0..w / 2 {
                    let out = ((b * oh + oy) * ow + ox) * c;
                    let pix = corners(oy, ox, w);
                    for ch in (0..c).step_by(8) {
                        let m = _mm256_loadu_ps(y.as_ptr().add(out + ch));
                        let g = _mm256_add_ps(zero, _mm256_loadu_ps(dy.as_ptr().add(out + ch)));
                        let m_nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(m, m);
                        let mut taken = zero;
                        for &p in &pix {
                            let v = _mm256_loadu_ps(xb.add(p * c + ch));
                            let won = _mm256_or_ps(
                                _mm256_cmp_ps::<_CMP_EQ_OQ>(v, m),
                                _mm256_and_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(v, v), m_nan),
                            );
                            let first = _mm256_andnot_ps(taken, won);
                            taken = _mm256_or_ps(taken, won);
                            _mm256_storeu_ps(dxb.add(p * c + ch), _mm256_and_ps(first, g));
                        }
                    }
                }
            }
        }
    }
}
