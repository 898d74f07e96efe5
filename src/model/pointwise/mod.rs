//! 1x1 stride-1 convolutions with 8k input and output channels (mnas's expansions and
//! projections at h = 8) as products that skip `matrixmultiply`'s packing (issue #11). Such a
//! layer is a product of thousands of pixels against 8-160 channels: `matrixmultiply` copies the
//! pixels into its panel layout for 8x8 tiles whose sums run over only 8-72 terms, so the
//! copies, and the tiles' loads, stores and shuffles, cost as much as the multiply-adds. Here
//! each pixel's row is read in place, one input channel broadcast at a time against a register
//! row of weights, with 8-10 sums in registers. No crate offers a product for this shape without
//! packing, hence the hand-written kernels (`x86.rs`, AVX2 + FMA).
//!
//! Every output is `matrixmultiply`'s own sum on a CPU with FMA (its kernel then fuses too), so
//! the bits are those of the `conv.rs` path they replace, tested: the forward pass and the input
//! gradient are one fused multiply-add chain in channel order from `+0`, finished as
//! `matrixmultiply` finishes it (`fma(alpha, sum, +0)`, then `conv.rs`'s scale); the weight
//! gradient sums the pixels in chunks of 256 (`matrixmultiply`'s `KC`), each chunk a chain from
//! `+0` added to the target as `fma(alpha, chunk, target)`. Each pixel's output is its own chain,
//! so it does not depend on the batch around it.

#[cfg(target_arch = "x86_64")]
mod x86;

use super::conv::ConvShape;
use std::cell::RefCell;

thread_local! {
    /// The weights transposed to `[c_in][c_out]` for the forward pass.
    static TRANSPOSED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Pixels per chunk of the weight gradient's sum (`matrixmultiply`'s `KC` for `f32`).
pub const CHUNK: usize = 256;

/// Whether the kernels here run for `s` on this CPU and thread.
pub fn applies(s: &ConvShape) -> bool {
    s.is_pointwise()
        && s.c_in.is_multiple_of(8)
        && s.c_out.is_multiple_of(8)
        && super::simd::use_avx2_fma()
}

/// How a product's sum becomes its output.
#[derive(Clone, Copy, Debug)]
pub enum Finish {
    /// `(sum + 0) · scale` (the forward pass: a product with `alpha = 1`, then the scale).
    ThenScale(f32),
    /// `fma(alpha, sum, +0)` (the input gradient: a product with `alpha = scale`).
    Alpha(f32),
}

/// `z = scale · x Wᵀ` for `rows` pixels, `x: rows × c_in`, `W: c_out × c_in` (as
/// `conv::conv_forward` with a 1x1 kernel).
pub fn forward(x: &[f32], rows: usize, s: &ConvShape, w: &[f32], scale: f32, z: &mut [f32]) {
    let (c_in, c_out) = (s.c_in, s.c_out);
    TRANSPOSED.with_borrow_mut(|wt| {
        wt.resize(c_in * c_out, 0.0);
        for (o, row) in w[..c_out * c_in].chunks_exact(c_in).enumerate() {
            for (i, &v) in row.iter().enumerate() {
                wt[i * c_out + o] = v;
            }
        }
        product(x, rows, c_in, wt, c_out, Finish::ThenScale(scale), z);
    });
}

/// `dx = scale · dz W` (as `conv::conv_backward_input` with a 1x1 kernel).
pub fn backward_input(
    dz: &[f32],
    rows: usize,
    s: &ConvShape,
    w: &[f32],
    scale: f32,
    dx: &mut [f32],
) {
    product(dz, rows, s.c_out, w, s.c_in, Finish::Alpha(scale), dx);
}

/// `out[r][j] = finish(Σ_l a[r][l] · b[l][j])` with `a: rows × inner`, `b: inner × cols`
/// (`cols` a multiple of 8).
pub fn product(
    a: &[f32],
    rows: usize,
    inner: usize,
    b: &[f32],
    cols: usize,
    finish: Finish,
    out: &mut [f32],
) {
    assert!(cols.is_multiple_of(8) && inner > 0 && super::simd::use_avx2_fma());
    assert!(a.len() >= rows * inner && b.len() >= inner * cols && out.len() >= rows * cols);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has AVX2 and FMA, and the lengths checked above bound every index.
    unsafe {
        x86::product(a, rows, inner, b, cols, finish, out)
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("pointwise kernels need x86-64 AVX2 and FMA (`applies`)");
}

/// `w_target += alpha · dzᵀ x` over `rows` pixels, `alpha = coeff · scale` (as
/// `conv::conv_backward_weights` with a 1x1 kernel).
pub fn backward_weights(
    dz: &[f32],
    x: &[f32],
    rows: usize,
    s: &ConvShape,
    alpha: f32,
    w_target: &mut [f32],
) {
    let (c_in, c_out) = (s.c_in, s.c_out);
    assert!(c_in % 8 == 0 && super::simd::use_avx2_fma());
    assert!(dz.len() >= rows * c_out && x.len() >= rows * c_in && w_target.len() >= c_out * c_in);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `product`.
    unsafe {
        x86::weight_sums(dz, x, rows, c_out, c_in, alpha, w_target)
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("pointwise kernels need x86-64 AVX2 and FMA (`applies`)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gemm;

    fn pseudo(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.0 - 1.0)
            .collect()
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|f| f.to_bits()).collect()
    }

    fn shape(c_in: usize, c_out: usize) -> ConvShape {
        ConvShape {
            h: 1,
            w: 1,
            c_in,
            c_out,
            k: 1,
            stride: 1,
        }
    }

    /// The forward pass and the input gradient give the bits of the `matrixmultiply` path they
    /// replace, on row counts that leave partial tiles and on every block width.
    #[test]
    fn forward_and_input_gradient_give_matrixmultiply_bits() {
        if !crate::model::simd::use_avx2_fma() {
            return;
        }
        for (rows, c_in, c_out) in [(1027, 16, 48), (300, 48, 8), (77, 24, 160), (256, 72, 24)] {
            let s = shape(c_in, c_out);
            let (x, w, dz) = (
                pseudo(rows * c_in, 1),
                pseudo(c_out * c_in, 2),
                pseudo(rows * c_out, 3),
            );
            for scale in [1.0, 0.3] {
                let mut want = vec![0.0; rows * c_out];
                gemm::x_wt(rows, c_in, c_out, 1.0, &x, &w, 0.0, &mut want);
                want.iter_mut().for_each(|v| *v *= scale);
                let mut z = vec![f32::NAN; rows * c_out];
                forward(&x, rows, &s, &w, scale, &mut z);
                assert_eq!(bits(&z), bits(&want), "forward {rows} {c_in} {c_out}");

                let mut want = vec![0.0; rows * c_in];
                gemm::dz_w(rows, c_out, c_in, scale, &dz, &w, 0.0, &mut want);
                let mut dx = vec![f32::NAN; rows * c_in];
                backward_input(&dz, rows, &s, &w, scale, &mut dx);
                assert_eq!(bits(&dx), bits(&want), "input {rows} {c_in} {c_out}");
            }
        }
    }

    /// The weight gradient is the chunked sum documented above: a scalar loop of fused
    /// multiply-adds in that order gives its bits; and where every tile of `matrixmultiply`
    /// (8x8, or 16x16 with AVX-512) is whole, so are its bits.
    #[test]
    fn weight_gradient_is_the_chunked_sum() {
        if !crate::model::simd::use_avx2_fma() {
            return;
        }
        for (rows, c_in, c_out) in [(1000, 16, 48), (300, 48, 8), (513, 24, 160), (70, 32, 32)] {
            let s = shape(c_in, c_out);
            let (x, dz, g0) = (
                pseudo(rows * c_in, 4),
                pseudo(rows * c_out, 5),
                pseudo(c_out * c_in, 6),
            );
            let alpha = -0.37;
            let mut g = g0.clone();
            backward_weights(&dz, &x, rows, &s, alpha, &mut g);
            let mut want = g0.clone();
            for start in (0..rows).step_by(CHUNK) {
                for o in 0..c_out {
                    for k in 0..c_in {
                        let sum = (start..rows.min(start + CHUNK)).fold(0.0f32, |acc, r| {
                            dz[r * c_out + o].mul_add(x[r * c_in + k], acc)
                        });
                        let t = &mut want[o * c_in + k];
                        *t = alpha.mul_add(sum, *t);
                    }
                }
            }
            assert_eq!(bits(&g), bits(&want), "{rows} {c_in} {c_out}");
            if c_in % 16 == 0 && c_out % 16 == 0 {
                let mut mm = g0.clone();
                gemm::dzt_x(rows, c_out, c_in, alpha, &dz, &x, 1.0, &mut mm);
                assert_eq!(bits(&g), bits(&mm), "matrixmultiply {rows} {c_in} {c_out}");
            }
        }
    }
}
