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
use super::conv::{ConvShape, conv_backward_input, conv_backward_weights, conv_forward};
use super::depthwise::{depthwise_backward_input, depthwise_backward_weights, depthwise_forward};
use super::layers::{
    bias_backward, bias_forward, dense_backward_input, dense_backward_weights, dense_forward,
    residual_backward, residual_forward,
};
use super::pool::{maxpool_backward, maxpool_forward, mean_pool_backward, mean_pool_forward};
use super::{Network, ParamLayout, Update, compact_rows, standard_normal_params};

mod builder;
pub use builder::{Act, Bias, CnnBuilder};
use std::ops::Range;

/// One step of a convolutional net. Weights and biases are ranges of the parameter buffer;
/// `scale` multiplies the layer's output (bias included), `phi` applies the activation after it.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// k x k convolution, 'same' padding, optional bias.
    Conv {
        shape: ConvShape,
        weights: Range<usize>,
        bias: Option<Range<usize>>,
        scale: f32,
        phi: bool,
    },
    /// Depthwise k x k convolution, 'same' padding, no bias.
    Depthwise {
        shape: ConvShape,
        weights: Range<usize>,
        scale: f32,
        phi: bool,
    },
    /// 2x2 max-pool, stride 2, 'same' padding, of an `h × w × c` image.
    MaxPool { h: usize, w: usize, c: usize },
    /// Mean over the `pixels` positions of each of `c` channels.
    MeanPool { pixels: usize, c: usize },
    /// Dense layer on the flattened image.
    Dense {
        fan_in: usize,
        fan_out: usize,
        weights: Range<usize>,
        bias: Option<Range<usize>>,
        scale: f32,
        phi: bool,
    },
    /// `x <- (x + buffer[from]) / sqrt(2)`.
    Residual { from: usize },
}

impl OpKind {
    /// Whether `phi` follows the layer.
    pub fn phi(&self) -> bool {
        match self {
            OpKind::Conv { phi, .. }
            | OpKind::Depthwise { phi, .. }
            | OpKind::Dense { phi, .. } => *phi,
            _ => false,
        }
    }
}

/// An op with the per-image sizes of its input and output.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub kind: OpKind,
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
        match &op.kind {
            OpKind::Conv { shape, .. } => shape.cols_per_image(),
            _ => 0,
        }
    }

    fn pre_len(op: &Op, act: Activation) -> usize {
        if op.kind.phi() && act.needs_pre() {
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
    /// Ping-pong gradient buffers, the residual branch's gradient, im2col gradient scratch.
    grad: [Vec<f32>; 2],
    stash: Vec<f32>,
    dcols: Vec<f32>,
}

impl Cnn {
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Multiply-adds of a forward pass over one image, and of the part of them whose input is the
    /// raw image (the backward pass needs no gradient to it).
    pub fn forward_macs(&self) -> (usize, usize) {
        let macs = |op: &Op| match &op.kind {
            OpKind::Conv { shape, .. } => shape.out_h() * shape.out_w() * shape.weights(),
            OpKind::Depthwise { shape, .. } => {
                shape.out_h() * shape.out_w() * shape.k * shape.k * shape.c_in
            }
            OpKind::Dense {
                fan_in, fan_out, ..
            } => fan_in * fan_out,
            _ => 0,
        };
        let total = self.ops.iter().map(macs).sum();
        (total, self.ops.first().map_or(0, macs))
    }
}

/// Forward pass of `ops` over the `n` images of `input`, filling `tape` (not its input).
fn forward(ops: &[Op], act: Activation, params: &[f32], input: &[f32], tape: &mut Tape, n: usize) {
    for (i, op) in ops.iter().enumerate() {
        let (before, after) = tape.acts.split_at_mut(i);
        let x: &[f32] = if i == 0 { input } else { &before[i - 1] };
        let y = &mut after[0][..n * op.out_len];
        match &op.kind {
            OpKind::Conv {
                shape,
                weights,
                bias,
                scale,
                ..
            } => {
                let w = &params[weights.clone()];
                conv_forward(x, n, shape, w, *scale, &mut tape.cols[i], y);
                if let Some(b) = bias {
                    let pixels = n * shape.out_h() * shape.out_w();
                    bias_forward(y, &params[b.clone()], pixels, *scale);
                }
            }
            OpKind::Depthwise {
                shape,
                weights,
                scale,
                ..
            } => depthwise_forward(x, n, shape, &params[weights.clone()], *scale, y),
            OpKind::MaxPool { h, w, c } => maxpool_forward(x, n, *h, *w, *c, y),
            OpKind::MeanPool { pixels, c } => mean_pool_forward(x, n, *pixels, *c, y),
            OpKind::Dense {
                fan_in,
                fan_out,
                weights,
                bias,
                scale,
                ..
            } => {
                dense_forward(x, &params[weights.clone()], y, n, *fan_in, *fan_out, *scale);
                if let Some(b) = bias {
                    bias_forward(y, &params[b.clone()], n, *scale);
                }
            }
            OpKind::Residual { from } => {
                let r: &[f32] = if *from == 0 { input } else { &before[from - 1] };
                y.copy_from_slice(&x[..n * op.in_len]);
                residual_forward(y, &r[..n * op.in_len]);
            }
        }
        if op.kind.phi() {
            let pre = &mut tape.pre[i];
            let keep = pre.len().min(n * op.out_len);
            act.forward(y, &mut pre[..keep]);
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
            // The direct convolution leaves `cols` unused.
            if !matches!(&op.kind, OpKind::Conv { shape, .. } if super::direct_conv::applies(shape))
            {
                compact_rows(&mut t.cols[i], Tape::cols_len(op), rows);
            }
            compact_rows(&mut t.pre[i], Tape::pre_len(op, self.act), rows);
        }
        t.rows = rows.len();
    }

    fn backward(&mut self, params: &mut [f32], dout: &[f32], mut update: Update<'_>) {
        let n = self.train.rows;
        assert_eq!(dout.len(), n);
        let coeff = match update {
            Update::Gradient(_) => 1.0,
            Update::Sgd { lr } => -lr,
        };
        let [mut g, mut g_next] = std::mem::take(&mut self.grad);
        let mut stash = std::mem::take(&mut self.stash);
        // The buffer whose gradient `stash` holds a residual branch's contribution to.
        let mut stash_for: Option<usize> = None;
        let t = &self.train;
        g[..n].copy_from_slice(dout);
        for (i, op) in self.ops.iter().enumerate().rev() {
            let (len_in, len_out) = (n * op.in_len, n * op.out_len);
            if stash_for == Some(i + 1) {
                for (a, b) in g[..len_out].iter_mut().zip(&stash[..len_out]) {
                    *a += b;
                }
                stash_for = None;
            }
            let x: &[f32] = if i == 0 { &t.input } else { &t.acts[i - 1] };
            let need_dx = i > 0;
            if op.kind.phi() {
                let pre = &t.pre[i][..t.pre[i].len().min(len_out)];
                self.act
                    .backward(&t.acts[i][..len_out], pre, &mut g[..len_out]);
            }
            let mut in_place = false;
            match &op.kind {
                OpKind::Conv {
                    shape,
                    weights,
                    bias,
                    scale,
                    ..
                } => {
                    if need_dx {
                        conv_backward_input(
                            &g,
                            n,
                            shape,
                            &params[weights.clone()],
                            *scale,
                            &mut self.dcols,
                            &mut g_next,
                        );
                    }
                    let target = update_target(&mut update, params, weights.clone());
                    conv_backward_weights(&g, x, &t.cols[i], n, shape, *scale, coeff, target);
                    if let Some(b) = bias {
                        let pixels = n * shape.out_h() * shape.out_w();
                        bias_backward(
                            &g,
                            update_target(&mut update, params, b.clone()),
                            pixels,
                            *scale,
                            coeff,
                        );
                    }
                }
                OpKind::Depthwise {
                    shape,
                    weights,
                    scale,
                    ..
                } => {
                    if need_dx {
                        let w = &params[weights.clone()];
                        depthwise_backward_input(&g, n, shape, w, *scale, &mut g_next);
                    }
                    let target = update_target(&mut update, params, weights.clone());
                    depthwise_backward_weights(&g, x, n, shape, *scale, coeff, target);
                }
                OpKind::MaxPool { h, w, c } => {
                    maxpool_backward(&g, x, &t.acts[i], n, [*h, *w, *c], &mut g_next);
                }
                OpKind::MeanPool { pixels, c } => {
                    mean_pool_backward(&g, n, *pixels, *c, &mut g_next);
                }
                OpKind::Dense {
                    fan_in,
                    fan_out,
                    weights,
                    bias,
                    scale,
                    ..
                } => {
                    if need_dx {
                        let w = &params[weights.clone()];
                        dense_backward_input(&g, w, &mut g_next, n, *fan_in, *fan_out, *scale);
                    }
                    let target = update_target(&mut update, params, weights.clone());
                    dense_backward_weights(&g, x, target, n, *fan_in, *fan_out, *scale, coeff);
                    if let Some(b) = bias {
                        bias_backward(
                            &g,
                            update_target(&mut update, params, b.clone()),
                            n,
                            *scale,
                            coeff,
                        );
                    }
                }
                OpKind::Residual { from } => {
                    assert!(stash_for.is_none(), "residual branches do not nest");
                    residual_backward(&mut g[..len_in], &mut stash[..len_in]);
                    stash_for = Some(*from);
                    in_place = true;
                }
            }
            if !in_place {
                std::mem::swap(&mut g, &mut g_next);
            }
        }
        self.grad = [g, g_next];
        self.stash = stash;
    }
}

/// Where a layer's parameter update goes: the gradient buffer or the weights themselves.
fn update_target<'a>(
    update: &'a mut Update<'_>,
    params: &'a mut [f32],
    r: Range<usize>,
) -> &'a mut [f32] {
    match update {
        Update::Gradient(grad) => &mut grad[r],
        Update::Sgd { .. } => &mut params[r],
    }
}
