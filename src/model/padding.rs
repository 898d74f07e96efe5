//! Zero padding of a batch of HWC images, shared by the hand-written convolution kernels
//! (`direct_conv/`, `depthwise/`): once an image sits inside a border of zeros, every output
//! pixel reads a whole window and the kernels need no border cases.

/// Copy `n` images of `h × w × c` from `x` into `out`, as `n` images of `hp × wp × c` with
/// image pixel `(y, x)` at `(y + top, x + left)` and zeros elsewhere.
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
}
