//! Pooling layers (SPEC §2; issue #5) as forward/backward pairs, HWC layout: 2x2 max-pool with
//! stride 2 and 'same' padding (output `ceil(n/2)`; the padded pixel at the end never wins),
//! and the global mean over space.

/// Output size of the 2x2, stride-2, 'same' max-pool along one axis.
pub fn pooled(n: usize) -> usize {
    n.div_ceil(2)
}

/// 2x2 max-pool of `n` images `h × w × c`; `argmax` records, per output, the index of the input
/// that won within its image (so that dropping images from a batch keeps it valid).
pub fn maxpool_forward(
    x: &[f32],
    n: usize,
    h: usize,
    w: usize,
    c: usize,
    y: &mut [f32],
    argmax: &mut [usize],
) {
    let (oh, ow) = (pooled(h), pooled(w));
    for b in 0..n {
        let x = &x[b * h * w * c..(b + 1) * h * w * c];
        for oy in 0..oh {
            for ox in 0..ow {
                let out = ((b * oh + oy) * ow + ox) * c;
                let (best, at) = (&mut y[out..out + c], &mut argmax[out..out + c]);
                // The window's first pixel always exists; the others may be padding.
                let first = (2 * oy * w + 2 * ox) * c;
                best.copy_from_slice(&x[first..first + c]);
                for (ch, a) in at.iter_mut().enumerate() {
                    *a = first + ch;
                }
                for (iy, ix) in [(0, 1), (1, 0), (1, 1)] {
                    let (iy, ix) = (2 * oy + iy, 2 * ox + ix);
                    if iy >= h || ix >= w {
                        continue;
                    }
                    let pix = (iy * w + ix) * c;
                    for (ch, (bv, a)) in best.iter_mut().zip(at.iter_mut()).enumerate() {
                        let v = x[pix + ch];
                        // A NaN wins and stays, so divergence shows in the output.
                        if !bv.is_nan() && (v > *bv || v.is_nan()) {
                            *bv = v;
                            *a = pix + ch;
                        }
                    }
                }
            }
        }
    }
}

/// Backward of [`maxpool_forward`] for `n` images of `image` input floats (pooled to `pooled`
/// outputs each): `dx` (zeroed here) receives each output gradient at its argmax.
pub fn maxpool_backward(
    dy: &[f32],
    argmax: &[usize],
    n: usize,
    image: usize,
    pooled: usize,
    dx: &mut [f32],
) {
    dx[..n * image].fill(0.0);
    for b in 0..n {
        let dx = &mut dx[b * image..(b + 1) * image];
        for (g, &i) in dy[b * pooled..(b + 1) * pooled]
            .iter()
            .zip(&argmax[b * pooled..(b + 1) * pooled])
        {
            dx[i] += g;
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
        let mut arg = [0; 4];
        maxpool_forward(&x, 1, 3, 3, 1, &mut y, &mut arg);
        assert_eq!(y, [5.0, 9.0, 7.0, 8.0]);
        assert_eq!(arg, [1, 5, 6, 8]);
        let mut dx = [0.0; 9];
        maxpool_backward(&[1.0, 2.0, 3.0, 4.0], &arg, 1, 9, 4, &mut dx);
        assert_eq!(dx, [0.0, 1.0, 0.0, 0.0, 0.0, 2.0, 3.0, 0.0, 4.0]);
        // A second image: indices are relative to it, the gradient lands in its half.
        let x2: Vec<f32> = x
            .iter()
            .chain(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
            .copied()
            .collect();
        let (mut y2, mut arg2) = ([0.0; 8], [0; 8]);
        maxpool_forward(&x2, 2, 3, 3, 1, &mut y2, &mut arg2);
        assert_eq!(&arg2[4..], &[0, 2, 6, 8]);
        let mut dx2 = [0.0; 18];
        maxpool_backward(
            &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 5.0],
            &arg2,
            2,
            9,
            4,
            &mut dx2,
        );
        assert_eq!((dx2[9], dx2[17], dx2.iter().sum::<f32>()), (1.0, 5.0, 6.0));
        assert_eq!((pooled(28), pooled(7), pooled(1)), (14, 4, 1));
        // Channels pool independently; NaN wins.
        let x = [1.0, f32::NAN, 2.0, 0.0];
        let (mut y, mut arg) = ([0.0; 2], [0; 2]);
        maxpool_forward(&x, 1, 1, 2, 2, &mut y, &mut arg);
        assert_eq!(y[0], 2.0);
        assert!(y[1].is_nan());
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
        for k in 0..x.len() {
            let (mut p, mut m) = (x.clone(), x.clone());
            p[k] += 1e-2;
            m[k] -= 1e-2;
            let fd = (s(&p) - s(&m)) / 2e-2;
            assert!(
                (fd - dx[k] as f64).abs() < 1e-3,
                "dx[{k}]: {fd} vs {}",
                dx[k]
            );
        }
    }
}
