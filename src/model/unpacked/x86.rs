//! The AVX2 + FMA kernels of the pointwise products (the callers in `mod.rs` check the CPU and
//! every length).

use super::{CHUNK, Finish, Sizes};
use std::arch::x86_64::*;

/// `out[r][j] = finish(Σ_l a[r][l] · b[l][j])` with `a[r][l]` at `a[r·a_rows + l·a_cols]`:
/// `b`'s columns in blocks of up to 3 registers, rows in tiles of 8-10 sums (with the row of
/// `b` and the broadcast, 13 of the 16 registers: 12 sums made the compiler spill them to the
/// stack). The sum runs in chunks of [`CHUNK`] terms, each a chain from `+0`, added in order.
///
/// # Safety
/// The CPU has AVX2 and FMA. `cols` is a multiple of 8, `rows` and `inner` are at least 1,
/// `a` holds index `(rows - 1)·a_rows + (inner - 1)·a_cols`, `b` holds `inner·cols` floats
/// and `out` `rows·cols`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn product(
    a: &[f32],
    (a_rows, a_cols): (usize, usize),
    Sizes { rows, inner, cols }: Sizes,
    b: &[f32],
    finish: Finish,
    out: &mut [f32],
) {
    debug_assert!(cols.is_multiple_of(8) && rows > 0 && inner > 0);
    debug_assert!((rows - 1) * a_rows + (inner - 1) * a_cols < a.len());
    debug_assert!(inner * cols <= b.len() && rows * cols <= out.len());
    // SAFETY: `super::product` checked that `a` holds every `r·a_rows + l·a_cols`, `b: inner ×
    // cols`, `out: rows × cols`; every index formed below stays inside them.
    unsafe {
        let (a, b, out) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
        let vectors = cols / 8;
        let mut v = 0;
        while v < vectors {
            let nv = (vectors - v).min(3);
            let m = Product {
                a,
                a_rows,
                a_cols,
                inner,
                b: b.add(8 * v),
                cols,
                finish,
                out: out.add(8 * v),
            };
            match nv {
                3 => m.rows::<3, 3>(rows),
                2 => m.rows::<5, 2>(rows),
                _ => m.rows::<8, 1>(rows),
            }
            v += nv;
        }
    }
}

/// One block of columns of a product.
struct Product {
    a: *const f32,
    a_rows: usize,
    a_cols: usize,
    inner: usize,
    b: *const f32,
    cols: usize,
    finish: Finish,
    out: *mut f32,
}

impl Product {
    /// Tiles of `R` rows, then single rows, each with `NV` registers of columns.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `self` describes a block of `NV·8` columns inside buffers as
    /// [`product`] requires, for rows `0 .. rows`.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows<const R: usize, const NV: usize>(&self, rows: usize) {
        // SAFETY: rows `< rows`, as the caller checked.
        unsafe {
            let mut r = 0;
            while r + R <= rows {
                self.tile::<R, NV>(r);
                r += R;
            }
            while r < rows {
                self.tile::<1, NV>(r);
                r += 1;
            }
        }
    }

    /// # Safety
    /// As [`Product::rows`], for rows `first .. first + R`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile<const R: usize, const NV: usize>(&self, first: usize) {
        // SAFETY: rows `first .. first + R` and `NV` registers of columns exist (callers).
        unsafe {
            let a = self.a.add(first * self.a_rows);
            let zero = _mm256_setzero_ps();
            let mut start = 0;
            while start < self.inner {
                let end = self.inner.min(start + CHUNK);
                let mut acc = [[zero; NV]; R];
                for l in start..end {
                    let mut bv = [zero; NV];
                    for (v, reg) in bv.iter_mut().enumerate() {
                        *reg = _mm256_loadu_ps(self.b.add(l * self.cols + 8 * v));
                    }
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let av = _mm256_set1_ps(*a.add(r * self.a_rows + l * self.a_cols));
                        for (sum, &bv) in acc.iter_mut().zip(&bv) {
                            *sum = _mm256_fmadd_ps(av, bv, *sum);
                        }
                    }
                }
                for (r, acc) in acc.iter().enumerate() {
                    let out = self.out.add((first + r) * self.cols);
                    for (v, &sum) in acc.iter().enumerate() {
                        let o = out.add(8 * v);
                        // The running total lives in `out` between chunks.
                        let y = if start == 0 {
                            _mm256_add_ps(sum, zero)
                        } else {
                            _mm256_add_ps(_mm256_loadu_ps(o), sum)
                        };
                        let y = match self.finish {
                            Finish::ThenScale(scale) if end == self.inner && scale != 1.0 => {
                                _mm256_mul_ps(y, _mm256_set1_ps(scale))
                            }
                            Finish::ThenScale(_) => y,
                            Finish::Alpha(alpha) => {
                                _mm256_fmadd_ps(_mm256_set1_ps(alpha), sum, zero)
                            }
                        };
                        _mm256_storeu_ps(o, y);
                    }
                }
                start = end;
            }
        }
    }
}

/// `g[o][k] = fma(alpha, Σ_{r in chunk} dz[r][o] · x[r][k], g[o][k])` for each chunk of
/// [`CHUNK`] pixels in order: `RO` outputs `o` broadcast against `NV` registers of `k`.
///
/// # Safety
/// The CPU has AVX2 and FMA. `c_in` is a multiple of 8, `dz` holds `rows·c_out` floats, `x`
/// `rows·c_in` and `g` `c_out·c_in`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn weight_sums(
    dz: &[f32],
    x: &[f32],
    rows: usize,
    c_out: usize,
    c_in: usize,
    alpha: f32,
    g: &mut [f32],
) {
    debug_assert!(c_in.is_multiple_of(8));
    debug_assert!(rows * c_out <= dz.len() && rows * c_in <= x.len() && c_out * c_in <= g.len());
    // SAFETY: `super::backward_weights` checked `dz: rows × c_out`, `x: rows × c_in`,
    // `g: c_out × c_in`; every index formed below stays inside them.
    unsafe {
        let vectors = c_in / 8;
        let mut start = 0;
        while start < rows {
            let n = CHUNK.min(rows - start);
            let mut v = 0;
            while v < vectors {
                let nv = (vectors - v).min(3);
                let s = Sums {
                    dz: dz.as_ptr().add(start * c_out),
                    c_out,
                    x: x.as_ptr().add(start * c_in + 8 * v),
                    c_in,
                    n,
                    alpha,
                    g: g.as_mut_ptr().add(8 * v),
                };
                match nv {
                    3 => s.outputs::<3, 3>(),
                    2 => s.outputs::<5, 2>(),
                    _ => s.outputs::<8, 1>(),
                }
                v += nv;
            }
            start += n;
        }
    }
}

/// One chunk of pixels and one block of input channels of a weight gradient.
struct Sums {
    dz: *const f32,
    c_out: usize,
    x: *const f32,
    c_in: usize,
    n: usize,
    alpha: f32,
    g: *mut f32,
}

impl Sums {
    /// # Safety
    /// The CPU has AVX2 and FMA; `self` describes a chunk of `n` pixels and a block of `8·NV`
    /// input channels inside buffers as [`weight_sums`] requires.
    #[target_feature(enable = "avx2,fma")]
    unsafe fn outputs<const RO: usize, const NV: usize>(&self) {
        // SAFETY: outputs `< c_out` (callers).
        unsafe {
            let mut o = 0;
            while o + RO <= self.c_out {
                self.tile::<RO, NV>(o);
                o += RO;
            }
            while o < self.c_out {
                self.tile::<1, NV>(o);
                o += 1;
            }
        }
    }

    /// # Safety
    /// As [`Sums::outputs`], for outputs `first .. first + RO`.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile<const RO: usize, const NV: usize>(&self, first: usize) {
        // SAFETY: outputs `first .. first + RO` and `NV` registers of channels exist (callers).
        unsafe {
            let mut acc = [[_mm256_setzero_ps(); NV]; RO];
            for r in 0..self.n {
                let mut xv = [_mm256_setzero_ps(); NV];
                for (v, reg) in xv.iter_mut().enumerate() {
                    *reg = _mm256_loadu_ps(self.x.add(r * self.c_in + 8 * v));
                }
                for (i, acc) in acc.iter_mut().enumerate() {
                    let d = _mm256_set1_ps(*self.dz.add(r * self.c_out + first + i));
                    for (sum, &xv) in acc.iter_mut().zip(&xv) {
                        *sum = _mm256_fmadd_ps(d, xv, *sum);
                    }
                }
            }
            let alpha = _mm256_set1_ps(self.alpha);
            for (i, acc) in acc.iter().enumerate() {
                let g = self.g.add((first + i) * self.c_in);
                for (v, &sum) in acc.iter().enumerate() {
                    let gv = g.add(8 * v);
                    _mm256_storeu_ps(gv, _mm256_fmadd_ps(alpha, sum, _mm256_loadu_ps(gv)));
                }
            }
        }
    }
}
