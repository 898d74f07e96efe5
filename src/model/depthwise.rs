//! Depthwise k x k convolution (SPEC §2, `mnas`: one filter per channel, 'same' padding, no
//! bias) as a forward/backward pair, HWC layout, weights `(ky, kx, c)`. Direct loops over
//! contiguous channels: with one filter per channel there is no matrix product for sgemm.
//! (Compiling these loops for AVX2 with run-time dispatch was tried and measured slower here.)

use super::conv::ConvShape;

/// Depthwise k x k convolution (one filter per channel, `c_in = c_out`), 'same' padding,
/// no bias: `y = scale · dwconv(x, w)` with `w` laid out `(ky, kx, c)`. Direct loops over
/// contiguous channels: with one filter per channel there is no matrix product for sgemm.
pub fn depthwise_forward(x: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, y: &mut [f32]) {
    let (oh, ow, c) = (s.out_h(), s.out_w(), s.c_in);
    let pad = s.padding();
    let image = s.h * s.w * c;
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let out = &mut y[((b * oh + oy) * ow + ox) * c..][..c];
                out.fill(0.0);
                s.window(pad, oy, ox).for_each_tap(|tap, pix| {
                    let xs = &x[b * image + pix * c..][..c];
                    let ws = &w[tap * c..][..c];
                    for ((o, xv), wv) in out.iter_mut().zip(xs).zip(ws) {
                        *o += xv * wv;
                    }
                });
                for o in out.iter_mut() {
                    *o *= scale;
                }
            }
        }
    }
}

/// Gradient to the input of [`depthwise_forward`]: `dx` (zeroed here) from `w` as given (in a
/// fused SGD step, call it before the weights change).
pub fn depthwise_backward_input(
    dy: &[f32],
    n: usize,
    s: &ConvShape,
    w: &[f32],
    scale: f32,
    dx: &mut [f32],
) {
    let (oh, ow, c) = (s.out_h(), s.out_w(), s.c_in);
    let pad = s.padding();
    let image = s.h * s.w * c;
    dx[..n * image].fill(0.0);
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let g = &dy[((b * oh + oy) * ow + ox) * c..][..c];
                s.window(pad, oy, ox).for_each_tap(|tap, pix| {
                    let d = &mut dx[b * image + pix * c..][..c];
                    for ((d, wv), gv) in d.iter_mut().zip(&w[tap * c..][..c]).zip(g) {
                        *d += scale * wv * gv;
                    }
                });
            }
        }
    }
}

/// Weight gradient of [`depthwise_forward`], added as `w_target += coeff · dL/dw`.
pub fn depthwise_backward_weights(
    dy: &[f32],
    x: &[f32],
    n: usize,
    s: &ConvShape,
    scale: f32,
    coeff: f32,
    w_target: &mut [f32],
) {
    let (oh, ow, c) = (s.out_h(), s.out_w(), s.c_in);
    let pad = s.padding();
    let image = s.h * s.w * c;
    let f = coeff * scale;
    for b in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let g = &dy[((b * oh + oy) * ow + ox) * c..][..c];
                s.window(pad, oy, ox).for_each_tap(|tap, pix| {
                    let xs = &x[b * image + pix * c..][..c];
                    for ((t, xv), gv) in w_target[tap * c..][..c].iter_mut().zip(xs).zip(g) {
                        *t += f * xv * gv;
                    }
                });
            }
        }
    }
}
