//! 1x1 stride-1 convolutions with 8k input and output channels (mnas's expansions and
//! projections at h = 8) through the unpacked products: as `conv.rs`'s path, same bits.

use super::{CHUNK, Finish, Sizes, product, weight_sums};
use crate::model::conv::ConvShape;
use std::cell::RefCell;

thread_local! {
    /// The weights transposed to `[c_in][c_out]` for the forward pass.
    static TRANSPOSED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether the kernels here run for `s` on this CPU and thread (the input gradient also
/// needs [`applies_to_input`]).
pub fn applies(s: &ConvShape) -> bool {
    s.is_pointwise()
        && s.c_in.is_multiple_of(8)
        && s.c_out.is_multiple_of(8)
        && super::super::simd::use_avx2_fma()
}

/// Whether [`backward_input`] runs for `s`: its sum over `c_out` is one chunk.
pub fn applies_to_input(s: &ConvShape) -> bool {
    applies(s) && s.c_out <= CHUNK
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
        let sizes = Sizes {
            rows,
            inner: c_in,
            cols: c_out,
        };
        product(x, (c_in, 1), sizes, wt, Finish::ThenScale(scale), z);
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
    let sizes = Sizes {
        rows,
        inner: s.c_out,
        cols: s.c_in,
    };
    product(dz, (s.c_out, 1), sizes, w, Finish::Alpha(scale), dx);
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
    weight_sums(dz, x, rows, s.c_out, s.c_in, alpha, w_target);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gemm::{self, DenseShape};
    use crate::model::unpacked::tests::{bits, pseudo};

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
        for (rows, c_in, c_out) in [
            (1027, 16, 48),
            (300, 48, 8),
            (77, 24, 160),
            (256, 72, 24),
            (0, 16, 8),
        ] {
            let s = shape(c_in, c_out);
            let (x, w, dz) = (
                pseudo(rows * c_in, 1),
                pseudo(c_out * c_in, 2),
                pseudo(rows * c_out, 3),
            );
            for scale in [1.0, 0.3] {
                let mut want = vec![0.0; rows * c_out];
                gemm::x_wt(
                    DenseShape::new(rows, c_in, c_out),
                    1.0,
                    &x,
                    &w,
                    0.0,
                    &mut want,
                );
                want.iter_mut().for_each(|v| *v *= scale);
                let mut z = vec![f32::NAN; rows * c_out];
                forward(&x, rows, &s, &w, scale, &mut z);
                assert_eq!(bits(&z), bits(&want), "forward {rows} {c_in} {c_out}");

                let mut want = vec![0.0; rows * c_in];
                gemm::dz_w(
                    DenseShape::new(rows, c_in, c_out),
                    scale,
                    &dz,
                    &w,
                    0.0,
                    &mut want,
                );
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
                gemm::dzt_x(
                    DenseShape::new(rows, c_in, c_out),
                    alpha,
                    &dz,
                    &x,
                    1.0,
                    &mut mm,
                );
                assert_eq!(bits(&g), bits(&mm), "matrixmultiply {rows} {c_in} {c_out}");
            }
        }
    }
}
