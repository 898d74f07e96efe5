//! AVX2 kernels of the depthwise convolution (issue #11), for channel counts in whole 8-float
//! registers. They give the bits of the portable loops (`loops.rs`): each output is the same
//! sum in the same order, a multiply then an add per term (no fused multiply-add).
//!
//! Each image (forward, weight gradient) or output gradient (input gradient) is first copied
//! into a border of zeros, so every output pixel reads a whole window and a row of pixels runs
//! through one kernel in tiles of 4 or 8. The scratch is 64-byte aligned ([`Floats`]) and its
//! border zeroed once per call, each image then copied inside it (zeroing per image cost a
//! quarter of the passes' time). A zero term leaves a sum that starts at `+0` as it
//! was, so summing the padded window gives the bits of summing the taps inside the image.
//!
//! - Forward and input gradient are one gather ([`gather`]): for each output row a list of
//!   taps (weight offset, input offset) in the order of the sum, then a tile of pixels sums
//!   every tap with the weights of a tap loaded once for the tile. A stride-`s` input gradient
//!   splits each input row into `s` classes of pixels `r, r + s, ...`, which share their taps
//!   and read consecutive output pixels.
//! - The weight gradient ([`weight_row`]) holds a kernel row's `k` taps of 8 or 16 channels in
//!   registers and reads each output gradient once for all of them, instead of once per tap.
//!
//! `std::arch` intrinsics by hand: no crate offers depthwise convolutions in NHWC f32 for the
//! CPU, and the compiler does not keep the portable loops' tiles in registers.

use super::{blocks, outputs_of_input, outputs_of_tap, taps_in_range};
use crate::model::buffer::Floats;
use crate::model::conv::ConvShape;
use crate::model::padding::copy_inside;
use crate::model::simd;
use std::arch::x86_64::*;
use std::cell::RefCell;
use std::ops::Range;

/// One term of a sum: where its weights and its input start, in floats, relative to the
/// weights' and the tile's first pixel's start.
#[derive(Clone, Copy, Debug)]
struct Tap {
    w: usize,
    x: usize,
}

thread_local! {
    /// Zero-padded images or output gradients of the current call.
    static PADDED: RefCell<Floats> = RefCell::new(Floats::default());
    /// The rows of the current call, the same for every image.
    static PLAN: RefCell<Plan> = const { RefCell::new(Plan { taps: Vec::new(), rows: Vec::new() }) };
    /// Weight gradient summed over the batch before it is added to the weights.
    static GRAD: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// What [`gather_row`] is called with for each row of outputs of an image: the row's taps (a
/// range of `taps`, in the order of the sums), where its first output goes, and its [`Row`].
/// Built once per call: it depends on the layer's shape, not on the image.
struct Plan {
    taps: Vec<Tap>,
    rows: Vec<(Range<usize>, usize, Row)>,
}

impl Plan {
    fn clear(&mut self) {
        self.taps.clear();
        self.rows.clear();
    }

    /// Close a row whose taps were pushed since the last one.
    fn end_row(&mut self, out: usize, row: Row) {
        let start = self.rows.last().map_or(0, |r| r.0.end);
        self.rows.push((start..self.taps.len(), out, row));
    }

    /// Every row over one image: `input` its (padded) input, `out` its output.
    fn gather(&self, w: &[f32], input: &[f32], out: &mut [f32], c: usize, scale: f32) {
        for (taps, at, row) in &self.rows {
            gather_row(
                &self.taps[taps.clone()],
                w,
                input,
                &mut out[*at..],
                *row,
                c,
                scale,
            );
        }
    }
}

/// Whether the kernels run for `s` on this CPU and thread: channels in whole registers and a
/// kernel width [`weight_row`] is compiled for.
pub fn applies(s: &ConvShape) -> bool {
    s.c_in > 0 && s.c_in.is_multiple_of(8) && matches!(s.k, 3 | 5) && simd::use_avx2()
}

/// Size `(hp, wp)` of the forward pass's padded image: every window of every output inside.
fn forward_padded(s: &ConvShape) -> (usize, usize) {
    let (top, left) = s.padding();
    let st = s.stride;
    (
        ((s.out_h() - 1) * st + s.k).max(top + s.h),
        ((s.out_w() - 1) * st + s.k).max(left + s.w),
    )
}

/// `y = scale · dwconv(x, w)`: the forward pass of `loops.rs`, bit for bit.
pub fn forward(x: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, y: &mut [f32]) {
    let (oh, ow, c, k, st) = (s.out_h(), s.out_w(), s.c_in, s.k, s.stride);
    let (hp, wp) = forward_padded(s);
    let rows = taps_in_range(s.h, k, st);
    let out_image = oh * ow * c;
    assert!(w.len() >= k * k * c && y.len() >= n * out_image);
    PADDED.with_borrow_mut(|padded| {
        PLAN.with_borrow_mut(|plan| {
            plan.clear();
            for (oy, ys) in rows.iter().enumerate() {
                // Output (oy, ox), tap (ky, kx) reads padded pixel (oy·s + ky, ox·s + kx).
                for ky in ys.clone() {
                    for kx in 0..k {
                        let x = ((oy * st + ky) * wp + kx) * c;
                        plan.taps.push(Tap {
                            w: (ky * k + kx) * c,
                            x,
                        });
                    }
                }
                let row = Row {
                    count: ow,
                    in_step: st * c,
                    out_step: c,
                };
                plan.end_row(oy * ow * c, row);
            }
            padded.set_zeros(hp * wp * c);
            let xb = &mut padded[..];
            for b in 0..n {
                let image = &x[b * s.h * s.w * c..][..s.h * s.w * c];
                copy_inside(image, 1, (s.h, s.w), c, (hp, wp), s.padding(), xb);
                plan.gather(w, xb, &mut y[b * out_image..][..out_image], c, scale);
            }
        })
    });
}

/// `dx = scale · Σ w·dy` over the outputs each input pixel feeds: the input gradient of
/// `loops.rs`, bit for bit.
pub fn backward_input(dy: &[f32], n: usize, s: &ConvShape, w: &[f32], scale: f32, dx: &mut [f32]) {
    let (oh, ow, c, k, st) = (s.out_h(), s.out_w(), s.c_in, s.k, s.stride);
    let left = s.padding().1;
    // Input pixel ix gets tap kx from output (ix + left - kx)/s where that divides; `before`
    // zero columns keep the index from going below 0, and the padded width holds the last.
    let before = (k - 1).div_ceil(st);
    let column = |ix: usize, kx: usize| (ix + left + st * before - kx) / st;
    let wp = (column(s.w - 1, 0) + 1).max(before + ow);
    let rows = outputs_of_input(s.h, k, st);
    let in_image = s.h * s.w * c;
    assert!(w.len() >= k * k * c && dx.len() >= n * in_image);
    PADDED.with_borrow_mut(|padded| {
        PLAN.with_borrow_mut(|plan| {
            plan.clear();
            for (iy, ys) in rows.iter().enumerate() {
                // The pixels r, r + s, ... of the row share their taps along x.
                for r in 0..st.min(s.w) {
                    for &(ky, oy) in ys {
                        for kx in
                            (0..k).filter(|kx| (r + left + st * before - kx).is_multiple_of(st))
                        {
                            let x = (oy * wp + column(r, kx)) * c;
                            plan.taps.push(Tap {
                                w: (ky * k + kx) * c,
                                x,
                            });
                        }
                    }
                    let row = Row {
                        count: (s.w - r).div_ceil(st),
                        in_step: c,
                        out_step: st * c,
                    };
                    plan.end_row((iy * s.w + r) * c, row);
                }
            }
            padded.set_zeros(oh * wp * c);
            let dyb = &mut padded[..];
            for b in 0..n {
                let image = &dy[b * oh * ow * c..][..oh * ow * c];
                copy_inside(image, 1, (oh, ow), c, (oh, wp), (0, before), dyb);
                plan.gather(w, dyb, &mut dx[b * in_image..][..in_image], c, scale);
            }
        })
    });
}

/// `w_target += coeff · scale · dL/dw`: the weight gradient of `loops.rs`, bit for bit (each
/// tap summed over an image's output pixels in (oy, ox) order, the images' sums added in batch
/// order, then scaled into the weights).
pub fn backward_weights(
    dy: &[f32],
    x: &[f32],
    n: usize,
    s: &ConvShape,
    scale: f32,
    coeff: f32,
    w_target: &mut [f32],
) {
    let (oh, ow, c, k, st) = (s.out_h(), s.out_w(), s.c_in, s.k, s.stride);
    let (hp, wp) = forward_padded(s);
    let out_image = oh * ow * c;
    assert!(w_target.len() >= k * k * c && dy.len() >= n * out_image);
    PADDED.with_borrow_mut(|padded| {
        GRAD.with_borrow_mut(|grad| {
            grad.clear();
            grad.resize(k * k * c, 0.0);
            padded.set_zeros(hp * wp * c);
            let xb = &mut padded[..];
            for b in 0..n {
                let image = &x[b * s.h * s.w * c..][..s.h * s.w * c];
                copy_inside(image, 1, (s.h, s.w), c, (hp, wp), s.padding(), xb);
                let dyb = &dy[b * out_image..][..out_image];
                for ky in 0..k {
                    let oys = outputs_of_tap(s.h, k, st, ky);
                    if oys.is_empty() {
                        continue;
                    }
                    // Output (oy, ox) meets tap (ky, kx) at padded pixel (oy·s + ky, ox·s + kx).
                    let xs = &xb[(oys.start * st + ky) * wp * c..];
                    let dys = &dyb[oys.start * ow * c..];
                    let g = Grid {
                        rows: oys.len(),
                        ow,
                        c,
                        x_row: st * wp * c,
                        x_px: st * c,
                    };
                    weight_sums(&g, k, xs, dys, &mut grad[ky * k * c..][..k * c]);
                }
            }
            let f = coeff * scale;
            for (t, g) in w_target[..k * k * c].iter_mut().zip(grad.iter()) {
                *t += f * g;
            }
        })
    });
}

/// A row of outputs for [`gather_row`]: `count` pixels, `out_step` floats apart in the output
/// and `in_step` floats apart in the input.
#[derive(Clone, Copy)]
struct Row {
    count: usize,
    in_step: usize,
    out_step: usize,
}

/// `out[j·out_step + ch] = scale · Σ_taps input[tap.x + j·in_step + ch] · w[tap.w + ch]` for
/// the row's pixels `j` and channels `ch < c`, each sum in the order of `taps`.
fn gather_row(
    taps: &[Tap],
    w: &[f32],
    input: &[f32],
    out: &mut [f32],
    row: Row,
    c: usize,
    scale: f32,
) {
    if row.count == 0 {
        return;
    }
    let last = row.count - 1;
    let (max_x, max_w) = taps
        .iter()
        .fold((0, 0), |(x, w), t| (x.max(t.x), w.max(t.w)));
    // Every index the kernels form is below these bounds.
    assert!(c.is_multiple_of(8) && max_w + c <= w.len() && last * row.out_step + c <= out.len());
    assert!(taps.is_empty() || max_x + last * row.in_step + c <= input.len());
    assert!(simd::use_avx2());
    let (w, input, out) = (w.as_ptr(), input.as_ptr(), out.as_mut_ptr());
    for (start, width) in blocks(c, &[16, 8]) {
        let mut j = 0;
        // SAFETY: the CPU has AVX2; the kernels read taps of pixels j .. j + PX <= count and
        // channels start .. start + width <= c, inside the bounds checked above.
        unsafe {
            let (w, input, out) = (w.add(start), input.add(start), out.add(start));
            macro_rules! tiles {
                ($nv:literal, $px:literal) => {
                    while row.count - j >= $px {
                        let (x, o) = (input.add(j * row.in_step), out.add(j * row.out_step));
                        gather::<$nv, $px>(taps, w, x, row.in_step, o, row.out_step, scale);
                        j += $px;
                    }
                };
            }
            if width == 16 {
                tiles!(2, 4);
                tiles!(2, 1);
            } else {
                tiles!(1, 8);
                tiles!(1, 4);
                tiles!(1, 1);
            }
        }
    }
}

/// `PX` pixels of `8·NV` channels: `out + j·out_step = scale · Σ_taps (x + tap.x + j·in_step) ·
/// (w + tap.w)`, a multiply and an add per term.
///
/// # Safety
/// The CPU has AVX2. For every tap `t` and pixel `j < PX`, `x + t.x + j·in_step` and
/// `w + t.w` have `8·NV` readable floats, and `out + j·out_step` has `8·NV` writable ones
/// (`gather_row` checks these bounds).
#[target_feature(enable = "avx2")]
unsafe fn gather<const NV: usize, const PX: usize>(
    taps: &[Tap],
    w: *const f32,
    x: *const f32,
    in_step: usize,
    out: *mut f32,
    out_step: usize,
    scale: f32,
) {
    // SAFETY: `gather_row` checked every index formed here.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); NV]; PX];
        for t in taps {
            let mut wv = [_mm256_setzero_ps(); NV];
            for (v, r) in wv.iter_mut().enumerate() {
                *r = _mm256_loadu_ps(w.add(t.w + 8 * v));
            }
            let xt = x.add(t.x);
            for (j, a) in acc.iter_mut().enumerate() {
                for v in 0..NV {
                    let p = _mm256_mul_ps(_mm256_loadu_ps(xt.add(j * in_step + 8 * v)), wv[v]);
                    a[v] = _mm256_add_ps(a[v], p);
                }
            }
        }
        let scale = _mm256_set1_ps(scale);
        for (j, a) in acc.iter().enumerate() {
            for (v, r) in a.iter().enumerate() {
                _mm256_storeu_ps(out.add(j * out_step + 8 * v), _mm256_mul_ps(*r, scale));
            }
        }
    }
}

/// The output pixels of one kernel row's weight gradient: `rows × ow` outputs, `c` channels;
/// output `(i, ox)` meets tap `kx` at padded input `i·x_row + ox·x_px + kx·c`.
#[derive(Clone, Copy)]
struct Grid {
    rows: usize,
    ow: usize,
    c: usize,
    x_row: usize,
    x_px: usize,
}

/// `grad[kx·c + ch] += Σ_{i, ox} x[i·x_row + ox·x_px + kx·c + ch] · dy[(i·ow + ox)·c + ch]` for
/// the `k` taps of a kernel row, each sum over the pixels in order.
fn weight_sums(g: &Grid, k: usize, x: &[f32], dy: &[f32], grad: &mut [f32]) {
    let (last_row, last_px) = (g.rows - 1, g.ow - 1);
    // Every index the kernels form is below these bounds.
    assert!(g.c.is_multiple_of(8) && grad.len() >= k * g.c && dy.len() >= g.rows * g.ow * g.c);
    assert!(last_row * g.x_row + last_px * g.x_px + k * g.c <= x.len());
    assert!(simd::use_avx2() && matches!(k, 3 | 5));
    let (x, dy, grad) = (x.as_ptr(), dy.as_ptr(), grad.as_mut_ptr());
    for (start, width) in blocks(g.c, &[16, 8]) {
        // SAFETY: the CPU has AVX2, k is 3 or 5, and the channels start .. start + width of
        // every pixel and tap read are inside the bounds checked above.
        unsafe {
            let (x, dy, grad) = (x.add(start), dy.add(start), grad.add(start));
            match (width, k) {
                (16, 5) => weight_row::<2, 5>(g, x, dy, grad),
                (16, _) => weight_row::<2, 3>(g, x, dy, grad),
                (_, 5) => weight_row::<1, 5>(g, x, dy, grad),
                _ => weight_row::<1, 3>(g, x, dy, grad),
            }
        }
    }
}

/// [`weight_sums`] for `8·NV` channels and `K` taps: the `K·NV` sums stay in registers and each
/// output gradient is loaded once for the `K` taps.
///
/// # Safety
/// The CPU has AVX2. `x`, `dy` and `grad` point at channel `start` of buffers whose bounds
/// `weight_sums` checked: for every row `i < g.rows`, pixel `ox < g.ow` and tap `< K`, the
/// `8·NV` channels read from `x` and `dy` and written to `grad` are inside them.
#[target_feature(enable = "avx2")]
unsafe fn weight_row<const NV: usize, const K: usize>(
    g: &Grid,
    x: *const f32,
    dy: *const f32,
    grad: *mut f32,
) {
    // SAFETY: `weight_sums` checked every index formed here.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); NV]; K];
        for i in 0..g.rows {
            let (xr, dr) = (x.add(i * g.x_row), dy.add(i * g.ow * g.c));
            for ox in 0..g.ow {
                let mut d = [_mm256_setzero_ps(); NV];
                for (v, r) in d.iter_mut().enumerate() {
                    *r = _mm256_loadu_ps(dr.add(ox * g.c + 8 * v));
                }
                let xp = xr.add(ox * g.x_px);
                for (kx, a) in acc.iter_mut().enumerate() {
                    for v in 0..NV {
                        let p = _mm256_mul_ps(_mm256_loadu_ps(xp.add(kx * g.c + 8 * v)), d[v]);
                        a[v] = _mm256_add_ps(a[v], p);
                    }
                }
            }
        }
        for (kx, a) in acc.iter().enumerate() {
            for (v, r) in a.iter().enumerate() {
                let at = grad.add(kx * g.c + 8 * v);
                _mm256_storeu_ps(at, _mm256_add_ps(_mm256_loadu_ps(at), *r));
            }
        }
    }
}
