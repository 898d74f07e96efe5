//! [`CnnBuilder`]: appends an op together with its parameter segments, tracking the image
//! shape, so that `simple_cnn.rs` and `mnas.rs` read like the recipes of method §2.

use super::ops::{Conv, Dense, Depthwise, MaxPool, MeanPool, Residual};
use super::{Cnn, EVAL_CHUNK_MAX, EVAL_FLOATS, Op, OpKind, Tape};
use crate::model::ParamLayout;
use crate::model::activation::Activation;
use crate::model::conv::ConvShape;
use crate::model::pool::pooled;

/// Bias or not, for the builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bias {
    Yes,
    No,
}

/// Activation after a layer, for the builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Phi,
    Linear,
}

/// A convolution's kernel: `k × k` windows with stride `stride`, to `c_out` channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel {
    pub c_out: usize,
    pub k: usize,
    pub stride: usize,
}

/// Appends ops and their parameter segments, tracking the current image shape `[h, w, c]`.
pub struct CnnBuilder {
    input: [usize; 3],
    shape: [usize; 3],
    layout: ParamLayout,
    ops: Vec<Op>,
}

impl CnnBuilder {
    pub fn new(input: [usize; 3]) -> Self {
        CnnBuilder {
            input,
            shape: input,
            layout: ParamLayout::default(),
            ops: Vec::new(),
        }
    }

    /// Channels of the current image.
    pub fn channels(&self) -> usize {
        self.shape[2]
    }

    /// Floats per image at this point.
    pub fn features(&self) -> usize {
        self.shape.iter().product()
    }

    /// Shape `[h, w, c]` at this point.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// The buffer holding the current activation (for a later residual).
    pub fn mark(&self) -> usize {
        self.ops.len()
    }

    /// Multiply-adds of a forward pass over one image.
    pub fn macs(&self) -> usize {
        self.ops.iter().map(|o| o.kind.macs()).sum()
    }

    /// Floats the training tape keeps per image with activation `act` (inputs, outputs,
    /// im2col matrices, pre-activations).
    pub fn floats_per_image(&self, act: Activation) -> usize {
        Tape::floats_per_image(&self.ops, self.input.iter().product(), act)
    }

    /// The ops so far.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The parameter layout so far.
    pub fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    fn push(&mut self, kind: OpKind, out: [usize; 3], act: Act) {
        let in_len = self.features();
        self.shape = out;
        let out_len = self.features();
        self.ops.push(Op {
            kind,
            phi: act == Act::Phi,
            in_len,
            out_len,
        });
    }

    /// Apply `phi` after the last op (it must not be a max-pool, whose backward reads its
    /// output, nor have `phi` already).
    pub fn phi(&mut self) {
        let last = self.ops.last_mut().expect("phi follows an op");
        assert!(
            !last.phi && !matches!(last.kind, OpKind::MaxPool(_)),
            "phi follows an op without one, not a max-pool"
        );
        last.phi = true;
    }

    /// `k × k` convolution to `c_out` channels with stride `stride`; parameters `name`
    /// (`c_out × k·k·c_in`, rows ordered (ky, kx, c_in)) and `name.bias`.
    pub fn conv(&mut self, name: &str, kernel: Kernel, scale: f32, bias: Bias, act: Act) {
        let Kernel { c_out, k, stride } = kernel;
        let [h, w, c_in] = self.shape;
        let shape = ConvShape {
            h,
            w,
            c_in,
            c_out,
            k,
            stride,
        };
        let weights = self.layout.push(name, shape.weights());
        let bias = (bias == Bias::Yes).then(|| self.layout.push(format!("{name}.bias"), c_out));
        let out = [shape.out_h(), shape.out_w(), c_out];
        let kind = OpKind::Conv(Conv {
            shape,
            weights,
            bias,
            scale,
        });
        self.push(kind, out, act);
    }

    /// Depthwise `k × k` convolution with stride `stride` (parameters `k·k·c`, ordered (ky, kx, c)).
    pub fn depthwise(&mut self, name: &str, k: usize, stride: usize, scale: f32, act: Act) {
        let [h, w, c] = self.shape;
        let shape = ConvShape {
            h,
            w,
            c_in: c,
            c_out: c,
            k,
            stride,
        };
        let weights = self.layout.push(name, k * k * c);
        let out = [shape.out_h(), shape.out_w(), c];
        let kind = OpKind::Depthwise(Depthwise {
            shape,
            weights,
            scale,
        });
        self.push(kind, out, act);
    }

    /// 2x2 max-pool, stride 2, 'same' padding.
    pub fn maxpool(&mut self) {
        let [h, w, c] = self.shape;
        let out = [pooled(h), pooled(w), c];
        self.push(OpKind::MaxPool(MaxPool { h, w, c }), out, Act::Linear);
    }

    /// Mean over all positions of each channel.
    pub fn mean_pool(&mut self) {
        let [h, w, c] = self.shape;
        let kind = OpKind::MeanPool(MeanPool { pixels: h * w, c });
        self.push(kind, [1, 1, c], Act::Linear);
    }

    /// Dense layer on the flattened image to `fan_out` units; parameters `name` and `name.bias`.
    pub fn dense(&mut self, name: &str, fan_out: usize, scale: f32, bias: Bias, act: Act) {
        let fan_in = self.features();
        let weights = self.layout.push(name, fan_out * fan_in);
        let bias = (bias == Bias::Yes).then(|| self.layout.push(format!("{name}.bias"), fan_out));
        let kind = OpKind::Dense(Dense {
            fan_in,
            fan_out,
            weights,
            bias,
            scale,
        });
        self.push(kind, [1, 1, fan_out], act);
    }

    /// Per-image length of buffer `b` (0 is the input, `i + 1` the output of op `i`).
    pub fn buffer_len(&self, b: usize) -> usize {
        if b == 0 {
            self.input.iter().product()
        } else {
            self.ops[b - 1].out_len
        }
    }

    /// `x <- (x + r)/sqrt(2)` with `r` the activation at `mark` (buffer `mark`, which must
    /// have the current size and come before the current one).
    pub fn residual(&mut self, mark: usize) {
        assert!(
            mark <= self.ops.len() && self.buffer_len(mark) == self.features(),
            "a residual joins two activations of the same shape"
        );
        let kind = OpKind::Residual(Residual { from: mark });
        self.push(kind, self.shape, Act::Linear);
    }

    /// The net with activation `act` after every `Act::Phi` op, and a training tape for
    /// mini-batches of `batch` images.
    pub fn finish(self, batch: usize, act: Activation) -> Cnn {
        assert_eq!(self.features(), 1, "a net ends with one output");
        let input_dim = self.input.iter().product();
        let ops = self.ops;
        let widest = ops
            .iter()
            .map(|o| o.out_len)
            .max()
            .unwrap_or(1)
            .max(input_dim);
        let dcols = ops.iter().map(Tape::cols_len).max().unwrap_or(0);
        let per_image = Tape::floats_per_image(&ops, input_dim, act);
        let eval_chunk = (EVAL_FLOATS / per_image.max(1)).clamp(1, EVAL_CHUNK_MAX);
        Cnn {
            input_dim,
            layout: self.layout,
            train: Tape::new(&ops, input_dim, batch, act),
            eval: Tape::new(&ops, input_dim, eval_chunk, act),
            act,
            grad: [vec![0.0; batch * widest], vec![0.0; batch * widest]],
            skips: ops
                .iter()
                .map(|o| match o.kind.skip_from() {
                    Some(_) => vec![0.0; batch * o.in_len],
                    None => Vec::new(),
                })
                .collect(),
            dcols: vec![0.0; batch * dcols],
            ops,
        }
    }
}
