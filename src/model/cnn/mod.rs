//! The engine shared by the convolutional nets of method §2 (`simple-cnn`, `mnas`): a net is a list
//! of [`Op`]s applied in order to a batch of HWC images, each op a forward/backward pair from
//! `conv`, `pool` and `layers`. All parameters live in one flat buffer cut by a [`ParamLayout`];
//! the [`CnnBuilder`] appends an op and its parameter segments together, so the architecture
//! files read like the recipes of method §2.
//!
//! Buffers are numbered: buffer 0 is the input, buffer `i + 1` the output of op `i`. A training
//! [`Tape`] keeps all of them for one mini-batch (plus the im2col matrices);
//! `predict` runs the same forward pass on a second tape, chunk by chunk, so a point's output is
//! bit-identical whichever batch it is evaluated in.

use super::activation::Activation;
use super::{Network, ParamLayout, Update, compact_rows, standard_normal_params};

mod builder;
pub mod ops;
pub use builder::{Act, Bias, CnnBuilder, Kernel};
pub use ops::OpKind;

/// An op with the per-image sizes of its input and output, and whether the activation `phi`
/// follows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub kind: OpKind,
    pub phi: bool,
    pub in_len: usize,
    pub out_len: usize,
}

/// Floats held by the evaluation tape (about 2 MiB, so that a chunk's buffers stay in cache),
/// and the most images per chunk.
const EVAL_FLOATS: usize = 1 << 19;
const EVAL_CHUNK_MAX: usize = 256;

/// What the forward pass keeps for `cap` images: every buffer and the im2col matrix of each conv.
struct Tape {
    cap: usize,
    rows: usize,
    input: Vec<f32>,
    /// `acts[i]` is the output of op `i` (buffer `i + 1`).
    acts: Vec<Vec<f32>>,
    cols: Vec<Vec<f32>>,
    /// Pre-activations of the ops followed by a smooth `phi` (empty otherwise).
    pre: Vec<Vec<f32>>,
}

impl Tape {
    fn cols_len(op: &Op) -> usize {
        op.kind.cols_len()
    }

    fn pre_len(op: &Op, act: Activation) -> usize {
        if op.phi && act.needs_pre() {
            op.out_len
        } else {
            0
        }
    }

    fn floats_per_image(ops: &[Op], input_dim: usize, act: Activation) -> usize {
        input_dim
            + ops
                .iter()
                .map(|o| o.out_len + Self::cols_len(o) + Self::pre_len(o, act))
                .sum::<usize>()
    }

    fn new(ops: &[Op], input_dim: usize, cap: usize, act: Activation) -> Self {
        Tape {
            cap,
            rows: 0,
            input: vec![0.0; cap * input_dim],
            acts: ops.iter().map(|o| vec![0.0; cap * o.out_len]).collect(),
            cols: ops
                .iter()
                .map(|o| vec![0.0; cap * Self::cols_len(o)])
                .collect(),
            pre: ops
                .iter()
                .map(|o| vec![0.0; cap * Self::pre_len(o, act)])
                .collect(),
        }
    }
}

/// A convolutional net built by [`CnnBuilder`].
pub struct Cnn {
    input_dim: usize,
    layout: ParamLayout,
    ops: Vec<Op>,
    act: Activation,
    train: Tape,
    eval: Tape,
    /// Ping-pong gradient buffers, each residual's gradient to the activation it added (empty
    /// for other ops), im2col gradient scratch.
    grad: [Vec<f32>; 2],
    skips: Vec<Vec<f32>>,
    dcols: Vec<f32>,
}

impl Cnn {
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Multiply-adds of a forward pass over one image, and of the part of them whose input is the
    /// raw image (the backward pass needs no gradient to it).
    pub fn forward_macs(&self) -> (usize, usize) {
        let total = self.ops.iter().map(|o| o.kind.macs()).sum();
        (total, self.ops.first().map_or(0, |o| o.kind.macs()))
    }
}

/// Forward pass of `ops` over the `n` images of `input`, filling `tape` (not its input): the
/// list walked in order, each op's forward then its activation.
fn forward(ops: &[Op], act: Activation, params: &[f32], input: &[f32], tape: &mut Tape, n: usize) {
    for (i, op) in ops.iter().enumerate() {
        let (before, after) = tape.acts.split_at_mut(i);
        let buffer = |b: usize| -> &[f32] { if b == 0 { input } else { &before[b - 1] } };
        let y = &mut after[0][..n * op.out_len];
        op.kind.forward(ops::Forward {
            n,
            params,
            x: buffer(i),
            skip: op.kind.skip_from().map_or(&[], buffer),
            cols: &mut tape.cols[i],
            y,
        });
        if op.phi {
            let pre = &mut tape.pre[i];
            let keep = pre.len().min(n * op.out_len);
            act.forward(&mut after[0][..n * op.out_len], &mut pre[..keep]);
        }
    }
    tape.rows = n;
}

impl Network for Cnn {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    fn input_dim(&self) -> usize {
        self.input_dim
    }

    fn init_params(&self, seed_init: u64) -> Vec<f32> {
        standard_normal_params(self.layout.len(), seed_init)
    }

    fn predict(&mut self, params: &[f32], x: &[f32], out: &mut [f32]) {
        let d = self.input_dim;
        let n_total = x.len() / d;
        let chunk = self.eval.cap;
        for start in (0..n_total).step_by(chunk) {
            let n = chunk.min(n_total - start);
            forward(
                &self.ops,
                self.act,
                params,
                &x[start * d..(start + n) * d],
                &mut self.eval,
                n,
            );
            let last = self.eval.acts.last().expect("a net has ops");
            out[start..start + n].copy_from_slice(&last[..n]);
        }
    }

    fn batch_input(&mut self, n: usize) -> &mut [f32] {
        assert!(n <= self.train.cap, "batch larger than the training tape");
        self.train.rows = n;
        &mut self.train.input[..n * self.input_dim]
    }

    fn forward(&mut self, params: &[f32]) -> &[f32] {
        let n = self.train.rows;
        let input = std::mem::take(&mut self.train.input);
        forward(&self.ops, self.act, params, &input, &mut self.train, n);
        self.train.input = input;
        &self.train.acts.last().expect("a net has ops")[..n]
    }

    fn retain_rows(&mut self, rows: &[usize]) {
        let t = &mut self.train;
        compact_rows(&mut t.input, self.input_dim, rows);
        for (i, op) in self.ops.iter().enumerate() {
            compact_rows(&mut t.acts[i], op.out_len, rows);
            if op.kind.fills_cols() {
                compact_rows(&mut t.cols[i], Tape::cols_len(op), rows);
            }
            compact_rows(&mut t.pre[i], Tape::pre_len(op, self.act), rows);
        }
        t.rows = rows.len();
    }

    /// The list walked in reverse: at each op, the gradients residual branches sent to its
    /// output are added, the activation's backward applied, then the op's backward.
    fn backward(&mut self, params: &mut [f32], dout: &[f32], mut update: Update<'_>) {
        let n = self.train.rows;
        assert_eq!(dout.len(), n);
        let [mut g, mut g_next] = std::mem::take(&mut self.grad);
        let mut skips = std::mem::take(&mut self.skips);
        let t = &self.train;
        g[..n].copy_from_slice(dout);
        for (i, op) in self.ops.iter().enumerate().rev() {
            let len_out = n * op.out_len;
            // Residuals later in the list that added buffer i + 1 (this op's output).
            for (j, later) in self.ops.iter().enumerate().skip(i + 1) {
                if later.kind.skip_from() == Some(i + 1) {
                    for (a, b) in g[..len_out].iter_mut().zip(&skips[j][..len_out]) {
                        *a += b;
                    }
                }
            }
            if op.phi {
                let pre = &t.pre[i][..t.pre[i].len().min(len_out)];
                self.act
                    .backward(&t.acts[i][..len_out], pre, &mut g[..len_out]);
            }
            let dskip_len = if op.kind.skip_from().is_some() {
                n * op.in_len
            } else {
                0
            };
            op.kind.backward(ops::Backward {
                n,
                x: if i == 0 { &t.input } else { &t.acts[i - 1] },
                y: &t.acts[i],
                cols: &t.cols[i],
                dy: &g,
                dx: (i > 0).then_some(&mut g_next[..]),
                dskip: &mut skips[i][..dskip_len],
                dcols: &mut self.dcols,
                params,
                update: &mut update,
            });
            std::mem::swap(&mut g, &mut g_next);
        }
        self.grad = [g, g_next];
        self.skips = skips;
    }
}
