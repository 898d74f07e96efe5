//! [`CnnBuilder`]: appends an op together with its parameter segments, tracking the image
//! shape, so that `simple_cnn.rs` and `mnas.rs` read like the recipes of method §2.

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

    fn push(&mut self, kind: OpKind, out: [usize; 3]) {
        let in_len = self.features();
        self.shape = out;
        let out_len = self.features();
        self.ops.push(Op {
            kind,
            in_len,
            out_len,
        });
    }

    /// `k × k` convolution to `c_out` channels with stride `stride`; parameters `name`
    /// (`c_out × k·k·c_in`, rows ordered (ky, kx, c_in)) and `name.bias`.
    pub fn conv(
        &mut self,
        name: &str,
        c_out: usize,
        k: usize,
        stride: usize,
        scale: f32,
        bias: Bias,
        act: Act,
    ) {
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
        let kind = OpKind::Conv {
            shape,
            weights,
            bias,
            scale,
            phi: act == Act::Phi,
        };
        self.push(kind, out);
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
        let kind = OpKind::Depthwise {
            shape,
            weights,
            scale,
            phi: act == Act::Phi,
        };
        self.push(kind, out);
    }

    pub fn maxpool(&mut self) {
        let [h, w, c] = self.shape;
        self.push(OpKind::MaxPool { h, w, c }, [pooled(h), pooled(w), c]);
    }

    pub fn mean_pool(&mut self) {
        let [h, w, c] = self.shape;
        self.push(OpKind::MeanPool { pixels: h * w, c }, [1, 1, c]);
    }

    /// Dense layer on the flattened image to `fan_out` units; parameters `name` and `name.bias`.
    pub fn dense(&mut self, name: &str, fan_out: usize, scale: f32, bias: Bias, act: Act) {
        let fan_in = self.features();
        let weights = self.layout.push(name, fan_out * fan_in);
        let bias = (bias == Bias::Yes).then(|| self.layout.push(format!("{name}.bias"), fan_out));
        let kind = OpKind::Dense {
            fan_in,
            fan_out,
            weights,
            bias,
            scale,
            phi: act == Act::Phi,
        };
        self.push(kind, [1, 1, fan_out]);
    }

    /// `x <- (x + r)/sqrt(2)` with `r` the activation at `mark` (it must have the current shape,
    /// and must not be the input: the input gets no gradient).
    pub fn residual(&mut self, mark: usize) {
        let len = |b: usize| {
            if b == 0 {
                self.input.iter().product()
            } else {
                self.ops[b - 1].out_len
            }
        };
        assert!(
            mark > 0 && mark <= self.ops.len() && len(mark) == self.features(),
            "a residual joins two activations of the same shape"
        );
        self.push(OpKind::Residual { from: mark }, self.shape);
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
            stash: vec![0.0; batch * widest],
            dcols: vec![0.0; batch * dcols],
            ops,
        }
    }
}
