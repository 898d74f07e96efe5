//! Dense layers on a training batch through the unpacked products (`layers.rs` calls these for
//! batches of up to [`MAX_ROWS`] points; evaluation of a whole set stays with `matrixmultiply`,
//! which gives the same bits). `matrixmultiply` packs the layer's weights on each product, which
//! for 16 rows costs as much as the product; here the weights are read in place and the few
//! rows transposed instead: `zᵀ = W xᵀ` and `dxᵀ = Wᵀ dzᵀ`, rows padded to a multiple of 8 with
//! zeros (lanes of their own, so no point's output depends on the others).

use super::{CHUNK, Finish, Sizes, product};
use crate::model::gemm::DenseShape;
use std::cell::RefCell;

/// Largest batch that takes these kernels.
pub const MAX_ROWS: usize = 64;

thread_local! {
    /// The batch transposed (`[features][rows]`, rows padded to a multiple of 8).
    static COLUMNS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The product's output, transposed.
    static OUTPUT: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether the forward pass of `n` points runs here on this CPU and thread.
pub fn applies(n: usize) -> bool {
    (1..=MAX_ROWS).contains(&n) && crate::model::simd::use_avx2_fma()
}

/// Whether the input gradient of `n` points to a layer with `fan_out` units runs here (its
/// sum over the units is one chunk).
pub fn applies_to_input(n: usize, fan_out: usize) -> bool {
    applies(n) && fan_out <= CHUNK
}

/// `m` (`n × width`) transposed into `[width][n padded]`, the padding columns zero.
fn transpose_in(m: &[f32], n: usize, width: usize, padded: usize, t: &mut Vec<f32>) {
    t.resize(width * padded, 0.0);
    for (i, row) in m[..n * width].chunks_exact(width).enumerate() {
        for (f, &v) in row.iter().enumerate() {
            t[f * padded + i] = v;
        }
    }
    for column in t.chunks_exact_mut(padded) {
        column[n..].fill(0.0);
    }
}

/// `out` (`n × width`) from its transpose `[width][n padded]`.
fn transpose_out(t: &[f32], n: usize, width: usize, padded: usize, out: &mut [f32]) {
    for (i, row) in out[..n * width].chunks_exact_mut(width).enumerate() {
        for (f, v) in row.iter_mut().enumerate() {
            *v = t[f * padded + i];
        }
    }
}

/// `out = finish(m Aᵀ)` with `A: rows × inner` (`a[r][l]` at `a[r·strides.0 + l·strides.1]`)
/// and `m: n × inner`, where `n = sizes.cols` (the points), `out: n × rows`: `m` goes in
/// transposed (its `n` padded to a multiple of 8) and the product's output comes back
/// transposed.
fn through_transpose(
    m: &[f32],
    a: &[f32],
    strides: (usize, usize),
    sizes: Sizes,
    finish: Finish,
    out: &mut [f32],
) {
    let Sizes {
        rows,
        inner,
        cols: n,
    } = sizes;
    let padded = n.next_multiple_of(8);
    COLUMNS.with_borrow_mut(|mt| {
        OUTPUT.with_borrow_mut(|ot| {
            transpose_in(m, n, inner, padded, mt);
            ot.resize(rows * padded, 0.0);
            let sizes = Sizes {
                cols: padded,
                ..sizes
            };
            product(a, strides, sizes, mt, finish, ot);
            transpose_out(ot, n, rows, padded, out);
        })
    });
}

/// `z = scale · x Wᵀ` (as `layers::dense_forward`).
pub fn forward(x: &[f32], w: &[f32], z: &mut [f32], s: DenseShape, scale: f32) {
    let sizes = Sizes {
        rows: s.fan_out,
        inner: s.fan_in,
        cols: s.n,
    };
    through_transpose(x, w, (s.fan_in, 1), sizes, Finish::ThenScale(scale), z);
}

/// `dx = scale · dz W` (as `layers::dense_backward_input`); needs [`applies_to_input`].
pub fn backward_input(dz: &[f32], w: &[f32], dx: &mut [f32], s: DenseShape, scale: f32) {
    let sizes = Sizes {
        rows: s.fan_in,
        inner: s.fan_out,
        cols: s.n,
    };
    through_transpose(dz, w, (1, s.fan_in), sizes, Finish::Alpha(scale), dx);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gemm;
    use crate::model::unpacked::tests::{bits, pseudo};

    /// Both passes give the bits of the `matrixmultiply` path, over one and several chunks of
    /// the sum, for batch sizes that pad, and for one unit (a readout).
    #[test]
    fn forward_and_input_gradient_give_matrixmultiply_bits() {
        if !crate::model::simd::use_avx2_fma() {
            return;
        }
        for (n, fan_in, fan_out) in [(16, 1024, 256), (5, 784, 64), (64, 300, 7), (13, 64, 1)] {
            let (x, w, dz) = (
                pseudo(n * fan_in, 1),
                pseudo(fan_out * fan_in, 2),
                pseudo(n * fan_out, 3),
            );
            for scale in [1.0, 0.03] {
                let mut want = vec![0.0; n * fan_out];
                gemm::x_wt(
                    DenseShape::new(n, fan_in, fan_out),
                    1.0,
                    &x,
                    &w,
                    0.0,
                    &mut want,
                );
                want.iter_mut().for_each(|v| *v *= scale);
                let mut z = vec![f32::NAN; n * fan_out];
                forward(&x, &w, &mut z, DenseShape::new(n, fan_in, fan_out), scale);
                assert_eq!(bits(&z), bits(&want), "forward {n} {fan_in} {fan_out}");

                let mut want = vec![0.0; n * fan_in];
                gemm::dz_w(
                    DenseShape::new(n, fan_in, fan_out),
                    scale,
                    &dz,
                    &w,
                    0.0,
                    &mut want,
                );
                let mut dx = vec![f32::NAN; n * fan_in];
                backward_input(&dz, &w, &mut dx, DenseShape::new(n, fan_in, fan_out), scale);
                assert_eq!(bits(&dx), bits(&want), "input {n} {fan_in} {fan_out}");
            }
        }
    }
}
