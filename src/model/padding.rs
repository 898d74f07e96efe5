//! Zero padding of a batch of HWC images, shared by the hand-written convolution kernels
//! (`direct_conv/`, `depthwise/`): once an image sits inside a border of zeros, every output
//! pixel reads a whole window and the kernels need no border cases.

/// Copy `n` images of `h × w × c` from `x` into `out`, as `n` images of `hp × wp × c` with
/// image pixel `(y, x)` at `(y + top, x + left)` and zeros elsewhere.
#[allow(clippy::too_many_arguments)]
pub fn zero_pad(
    x: &[f32],
    n: usize,
    (h, w): (usize, usize),
    c: usize,
    (hp, wp): (usize, usize),
    (top, left): (usize, usize),
    out: &mut Vec<f32>,
) {
    out.clear();
    out.resize(n * hp * wp * c, 0.0);
    copy_inside(x, n, (h, w), c, (hp, wp), (top, left), out);
}

/// [`zero_pad`] into a buffer whose border is zero already: only the images are copied.
#[allow(clippy::too_many_arguments)]
pub fn copy_inside(
    x: &[f32],
    n: usize,
    (h, w): (usize, usize),
    c: usize,
    (hp, wp): (usize, usize),
    (top, left): (usize, usize),
    out: &mut [f32],
) {
    assert!(top + h <= hp && left + w <= wp && x.len() >= n * h * w * c);
    assert!(out.len() >= n * hp * wp * c);
    for img in 0..n {
        for y in 0..h {
            let src = &x[(img * h + y) * w * c..][..w * c];
            let dst = ((img * hp + y + top) * wp + left) * c;
            out[dst..dst + w * c].copy_from_slice(src);
        }
    }
}

/// A scratch buffer whose slice starts on a 64-byte boundary, so that no 32-byte load of a
/// kernel that steps in whole registers straddles two cache lines (a `Vec<f32>` is only
/// 16-byte aligned by the allocator, and a straddling load costs two).
#[derive(Default)]
pub struct Aligned(Vec<f32>);

impl Aligned {
    /// `len` zeros, 64-byte aligned.
    pub fn zeros(&mut self, len: usize) -> &mut [f32] {
        const LINE: usize = 16;
        self.0.clear();
        self.0.resize(len + LINE, 0.0);
        let skip = self.0.as_ptr().align_offset(64).min(LINE);
        &mut self.0[skip..skip + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_sit_at_their_offset_inside_zeros() {
        // Two 1x2 images of 2 channels into 3x4, one row and two columns before.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let mut out = vec![9.0; 3];
        zero_pad(&x, 2, (1, 2), 2, (3, 4), (1, 2), &mut out);
        assert_eq!(out.len(), 2 * 3 * 4 * 2);
        let at = |img: usize, y: usize, x: usize| &out[((img * 3 + y) * 4 + x) * 2..][..2];
        assert_eq!(at(0, 1, 2), [1.0, 2.0]);
        assert_eq!(at(0, 1, 3), [3.0, 4.0]);
        assert_eq!(at(1, 1, 2), [5.0, 6.0]);
        assert_eq!(at(1, 1, 3), [7.0, 8.0]);
        let nonzero = out.iter().filter(|v| **v != 0.0).count();
        assert_eq!(nonzero, 8);
    }

    #[test]
    fn aligned_scratch_is_zero_and_on_a_cache_line() {
        let mut a = Aligned::default();
        for len in [1, 7, 100, 4099] {
            let s = a.zeros(len);
            assert_eq!(s.len(), len);
            assert_eq!(s.as_ptr() as usize % 64, 0);
            assert!(s.iter().all(|v| *v == 0.0));
            s.fill(3.0);
        }
    }
}
