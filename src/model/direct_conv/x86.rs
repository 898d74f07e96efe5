//! The AVX2 + FMA kernels of the direct convolution (the callers in `mod.rs` check the
//! CPU and every length).

use super::Grid;
use std::arch::x86_64::*;

/// `NV` registers of 8 output channels; `PX` output pixels along a row at a time.
///
/// # Safety
/// The CPU has AVX2 and FMA. `xp` holds the padded input, `g.n·g.hp·g.wp·g.c_in` floats;
/// `taps` holds `g.k²·g.c_in·8·NV`; `z` holds `g.n·g.oh·g.ow·8·NV`; and the output grid fits
/// the padded input: `(g.oh - 1)·g.stride + g.k <= g.hp`, likewise `ow` in `wp`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn correlate<const NV: usize, const PX: usize>(
    g: &Grid,
    xp: &[f32],
    taps: &[f32],
    z: &mut [f32],
) {
    debug_assert!(g.n * g.hp * g.wp * g.c_in <= xp.len());
    debug_assert!(g.k * g.k * g.c_in * 8 * NV <= taps.len());
    debug_assert!(g.n * g.oh * g.ow * 8 * NV <= z.len());
    debug_assert!((g.oh - 1) * g.stride + g.k <= g.hp && (g.ow - 1) * g.stride + g.k <= g.wp);
    // SAFETY: `super::correlate` checked the lengths against every index formed here.
    unsafe {
        let (ow, c_in, step) = (g.ow, g.c_in, g.stride * g.c_in);
        let c_out = 8 * NV;
        let (xp, taps, z) = (xp.as_ptr(), taps.as_ptr(), z.as_mut_ptr());
        for img in 0..g.n {
            for y in 0..g.oh {
                let row = xp.add((img * g.hp + y * g.stride) * g.wp * c_in);
                let out = z.add((img * g.oh + y) * ow * c_out);
                let mut x = 0;
                while x + PX <= ow {
                    tile::<NV, PX>(g, row.add(x * step), taps, out.add(x * c_out));
                    x += PX;
                }
                while x < ow {
                    tile::<NV, 1>(g, row.add(x * step), taps, out.add(x * c_out));
                    x += 1;
                }
            }
        }
    }
}

/// `PX` neighbouring outputs: for each kernel row, the `k·c_in` taps are contiguous in the
/// padded input, so the sum runs over one flat index per row.
///
/// # Safety
/// The CPU has AVX2 and FMA. `x` points at the first input of the first of `PX` neighbouring
/// outputs in a padded input laid out as `g` says, with `g.k` rows of
/// `((PX - 1)·g.stride + g.k)·g.c_in` floats readable from it, `g.wp·g.c_in` apart; `taps`
/// holds `g.k²·g.c_in·8·NV` floats; `out` has `PX·8·NV` writable floats.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile<const NV: usize, const PX: usize>(
    g: &Grid,
    x: *const f32,
    taps: *const f32,
    out: *mut f32,
) {
    // SAFETY: as in `correlate`.
    unsafe {
        let mut acc = [[_mm256_setzero_ps(); NV]; PX];
        let per_row = g.k * g.c_in;
        let step = g.stride * g.c_in;
        for ky in 0..g.k {
            let xr = x.add(ky * g.wp * g.c_in);
            let wr = taps.add(ky * per_row * 8 * NV);
            for t in 0..per_row {
                let mut wv = [_mm256_setzero_ps(); NV];
                for (v, r) in wv.iter_mut().enumerate() {
                    *r = _mm256_loadu_ps(wr.add((t * NV + v) * 8));
                }
                for (j, a) in acc.iter_mut().enumerate() {
                    let xb = _mm256_broadcast_ss(&*xr.add(j * step + t));
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

/// Taps in groups of `8 / NV` (at least 2, then 1), each group's sums over every pixel
/// held in registers.
///
/// # Safety
/// The CPU has AVX2 and FMA. `xp` holds the padded input (`g.n·g.hp·g.wp·g.c_in` floats),
/// `dz` the output gradient (`g.n·g.oh·g.ow·8·NV`), `grad` the `g.k²·g.c_in·8·NV` sums, and
/// the output grid fits the padded input as for [`correlate`].
#[target_feature(enable = "avx2,fma")]
pub unsafe fn weight_sums<const NV: usize>(g: &Grid, xp: &[f32], dz: &[f32], grad: &mut [f32]) {
    debug_assert!(g.n * g.hp * g.wp * g.c_in <= xp.len());
    debug_assert!(g.n * g.oh * g.ow * 8 * NV <= dz.len());
    debug_assert!(g.k * g.k * g.c_in * 8 * NV <= grad.len());
    debug_assert!((g.oh - 1) * g.stride + g.k <= g.hp && (g.ow - 1) * g.stride + g.k <= g.wp);
    // SAFETY: `super::weight_sums` checked the lengths against every index formed here.
    unsafe {
        let per_row = g.k * g.c_in;
        let mut t = 0;
        while t < per_row * g.k {
            let left = per_row - t % per_row;
            let size = if NV == 1 && left >= 8 {
                8
            } else if NV <= 2 && left >= 4 {
                4
            } else if left >= 2 {
                2
            } else {
                1
            };
            match size {
                8 => group::<NV, 8>(g, xp, dz, grad, t),
                4 => group::<NV, 4>(g, xp, dz, grad, t),
                2 => group::<NV, 2>(g, xp, dz, grad, t),
                _ => group::<NV, 1>(g, xp, dz, grad, t),
            }
            t += size;
        }
    }
}

/// Sums of taps `tap .. tap + G` (within one kernel row, `tap = ky·k·c_in + t`) over all
/// pixels, continued from the sums in `grad`.
///
/// # Safety
/// As [`weight_sums`], and taps `tap .. tap + G` lie in one kernel row
/// (`tap % (g.k·g.c_in) + G <= g.k·g.c_in`).
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn group<const NV: usize, const G: usize>(
    g: &Grid,
    xp: &[f32],
    dz: &[f32],
    grad: &mut [f32],
    tap: usize,
) {
    // SAFETY: as in `weight_sums`.
    unsafe {
        let per_row = g.k * g.c_in;
        let (ky, t) = (tap / per_row, tap % per_row);
        let step = g.stride * g.c_in;
        let (xp, dz) = (xp.as_ptr(), dz.as_ptr());
        // Each sum goes on from where `grad` holds it (zero before the first image).
        let out = grad.as_mut_ptr();
        let mut acc = [[_mm256_setzero_ps(); NV]; G];
        for (j, a) in acc.iter_mut().enumerate() {
            for (v, r) in a.iter_mut().enumerate() {
                *r = _mm256_loadu_ps(out.add(((tap + j) * NV + v) * 8));
            }
        }
        for img in 0..g.n {
            for y in 0..g.oh {
                let xr = xp.add((img * g.hp + y * g.stride + ky) * g.wp * g.c_in + t);
                let dr = dz.add((img * g.oh + y) * g.ow * 8 * NV);
                for x in 0..g.ow {
                    let mut d = [_mm256_setzero_ps(); NV];
                    for (v, r) in d.iter_mut().enumerate() {
                        *r = _mm256_loadu_ps(dr.add((x * NV + v) * 8));
                    }
                    for (j, a) in acc.iter_mut().enumerate() {
                        let xb = _mm256_broadcast_ss(&*xr.add(x * step + j));
                        for v in 0..NV {
                            a[v] = _mm256_fmadd_ps(xb, d[v], a[v]);
                        }
                    }
                }
            }
        }
        for (j, a) in acc.iter().enumerate() {
            for (v, r) in a.iter().enumerate() {
                _mm256_storeu_ps(out.add(((tap + j) * NV + v) * 8), *r);
            }
        }
    }
}
