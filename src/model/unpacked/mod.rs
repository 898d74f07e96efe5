//! Products that skip `matrixmultiply`'s packing (issue #11), for two shapes where the packing
//! costs as much as the multiply-adds: 1x1 convolutions with 8k channels (mnas's expansions and
//! projections, [`pointwise`]) and dense layers on a training batch ([`dense`]: simple-cnn's
//! 1024 -> 256 layer packs its 262,144 weights on each product). Each output row is read in
//! place, one term broadcast at a time against a register row of the other operand, with 8-10
//! sums in registers (`x86.rs`, AVX2 + FMA). No crate offers a product without packing for
//! these shapes, hence the hand-written kernels.
//!
//! Every output is `matrixmultiply`'s own sum on a CPU with FMA (its kernel then fuses too), so
//! the bits are those of the path they replace, tested: a product is a fused multiply-add chain
//! from `+0` per chunk of [`CHUNK`] terms (`matrixmultiply`'s `KC`), the chunks added in order
//! and finished as `matrixmultiply` finishes them ([`Finish`]); a weight gradient adds each
//! chunk's sum to the target as `fma(alpha, chunk, target)`. Each output row is its own chain, so
//! a pixel's or a point's output does not depend on the batch around it.

#[cfg(target_arch = "x86_64")]
mod x86;

pub mod dense;
pub mod pointwise;

/// Terms per chunk of a sum (`matrixmultiply`'s `KC` for `f32`).
pub const CHUNK: usize = 256;

/// How a product's sum becomes its output.
#[derive(Clone, Copy, Debug)]
pub enum Finish {
    /// `(sum + 0) · scale` (the forward pass: a product with `alpha = 1`, then the scale).
    ThenScale(f32),
    /// `fma(alpha, sum, +0)` (the input gradient: a product with `alpha = scale`); only for
    /// sums of one chunk (over more, `matrixmultiply`'s rounding depends on its tiles).
    Alpha(f32),
}

/// The sizes of a product `out = a b`: `rows × inner` times `inner × cols`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    pub rows: usize,
    pub inner: usize,
    pub cols: usize,
}

/// `out[r][j] = finish(Σ_l a[r][l] · b[l][j])` for `r < rows`, `l < inner`, `j < cols` (a
/// multiple of 8), with `a[r][l]` at `a[r·strides.0 + l·strides.1]` and `b: inner × cols`.
pub fn product(
    a: &[f32],
    strides: (usize, usize),
    sizes: Sizes,
    b: &[f32],
    finish: Finish,
    out: &mut [f32],
) {
    let Sizes { rows, inner, cols } = sizes;
    assert!(cols.is_multiple_of(8) && inner > 0 && super::simd::use_avx2_fma());
    if rows == 0 {
        return;
    }
    assert!(matches!(finish, Finish::ThenScale(_)) || inner <= CHUNK);
    assert!(a.len() > (rows - 1) * strides.0 + (inner - 1) * strides.1);
    assert!(b.len() >= inner * cols && out.len() >= rows * cols);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the CPU has AVX2 and FMA, and the lengths checked above bound every index.
    unsafe {
        x86::product(a, strides, sizes, b, finish, out)
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("unpacked kernels need x86-64 AVX2 and FMA");
}

/// `g += alpha · aᵀ x` over `rows` rows, `a: rows × m`, `x: rows × k` (`k` a multiple of 8),
/// `g: m × k`: the weight gradient of a pointwise convolution or a dense layer.
pub fn weight_sums(
    a: &[f32],
    x: &[f32],
    rows: usize,
    m: usize,
    k: usize,
    alpha: f32,
    g: &mut [f32],
) {
    assert!(k.is_multiple_of(8) && super::simd::use_avx2_fma());
    assert!(a.len() >= rows * m && x.len() >= rows * k && g.len() >= m * k);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `product`.
    unsafe {
        x86::weight_sums(a, x, rows, m, k, alpha, g)
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("unpacked kernels need x86-64 AVX2 and FMA");
}

#[cfg(test)]
pub(crate) mod tests {
    /// Reproducible test operands in [-1, 1).
    pub fn pseudo(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.0 - 1.0)
            .collect()
    }

    pub fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|f| f.to_bits()).collect()
    }
}
