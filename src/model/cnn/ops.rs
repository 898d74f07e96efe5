//! The ops of a layer-list net (method §2), each a forward/backward pair side by side. An op reads
//! its input `x` (`n` images of `in_len` floats), writes its output `y`, and in the backward pass
//! turns the gradient of its output `dy` into the gradient of its input `dx` (when one is needed)
//! and an update of its parameters (`Update`: a gradient buffer, or an SGD step fused in).
//! `scale` multiplies a layer's output, bias included (method §2's parametrization). The kernels
//! are in `conv`, `depthwise`, `pool` and `layers`; an op only says which ones it calls.

use crate::model::Update;
use crate::model::conv::{
    ConvShape, ForwardInput, conv_backward_input, conv_backward_weights, conv_forward,
};
use crate::model::depthwise::{
    depthwise_backward_input, depthwise_backward_weights, depthwise_forward,
};
use crate::model::gemm::DenseShape;
use crate::model::layers::{
    bias_backward, bias_forward, dense_backward_input, dense_backward_weights, dense_forward,
    residual_backward, residual_forward,
};
use crate::model::pool::{
    maxpool_backward, maxpool_forward, mean_pool_backward, mean_pool_forward,
};
use std::ops::Range;

/// What a forward pass gives an op.
pub struct Forward<'a> {
    pub n: usize,
    pub params: &'a [f32],
    pub x: &'a [f32],
    /// The activation a residual adds (empty for other ops).
    pub skip: &'a [f32],
    /// The op's im2col scratch (empty for ops without one).
    pub cols: &'a mut [f32],
    pub y: &'a mut [f32],
}

/// What a backward pass gives an op.
pub struct Backward<'a, 'u> {
    pub n: usize,
    pub x: &'a [f32],
    pub y: &'a [f32],
    pub cols: &'a [f32],
    /// Gradient of the output (the activation's backward already applied).
    pub dy: &'a [f32],
    /// Gradient of the input, written by the op (`None` for the first op: the input needs none).
    pub dx: Option<&'a mut [f32]>,
    /// A residual's gradient to the activation it added.
    pub dskip: &'a mut [f32],
    /// im2col gradient scratch.
    pub dcols: &'a mut [f32],
    pub params: &'a mut [f32],
    pub update: &'a mut Update<'u>,
}

impl Backward<'_, '_> {
    /// `1` for a gradient, `-lr` for a fused SGD step.
    fn coeff(&self) -> f32 {
        match &*self.update {
            Update::Gradient(_) => 1.0,
            Update::Sgd { lr } => -lr,
        }
    }

    /// Where the update of the parameters `r` goes: the gradient buffer or the weights.
    fn target(&mut self, r: Range<usize>) -> &mut [f32] {
        match self.update {
            Update::Gradient(grad) => &mut grad[r],
            Update::Sgd { .. } => &mut self.params[r],
        }
    }
}

/// `k × k` convolution, 'same' padding, optional bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    pub shape: ConvShape,
    pub weights: Range<usize>,
    pub bias: Option<Range<usize>>,
    pub scale: f32,
}

impl Conv {
    fn forward(&self, f: Forward<'_>) {
        let w = &f.params[self.weights.clone()];
        conv_forward(f.x, f.n, &self.shape, w, self.scale, f.cols, f.y);
        if let Some(b) = &self.bias {
            let pixels = f.n * self.shape.out_h() * self.shape.out_w();
            bias_forward(f.y, &f.params[b.clone()], pixels, self.scale);
        }
    }

    fn backward(&self, mut b: Backward<'_, '_>) {
        let (n, s, coeff) = (b.n, &self.shape, b.coeff());
        if let Some(dx) = b.dx.take() {
            let w = &b.params[self.weights.clone()];
            conv_backward_input(b.dy, n, s, w, self.scale, b.dcols, dx);
        }
        let (dy, input) = (
            b.dy,
            ForwardInput {
                x: b.x,
                cols: b.cols,
            },
        );
        let target = b.target(self.weights.clone());
        conv_backward_weights(dy, input, n, s, self.scale, coeff, target);
        if let Some(r) = &self.bias {
            let pixels = n * s.out_h() * s.out_w();
            bias_backward(dy, b.target(r.clone()), pixels, self.scale, coeff);
        }
    }
}

/// Depthwise `k × k` convolution, 'same' padding, no bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Depthwise {
    pub shape: ConvShape,
    pub weights: Range<usize>,
    pub scale: f32,
}

impl Depthwise {
    fn forward(&self, f: Forward<'_>) {
        let w = &f.params[self.weights.clone()];
        depthwise_forward(f.x, f.n, &self.shape, w, self.scale, f.y);
    }

    fn backward(&self, mut b: Backward<'_, '_>) {
        let (n, s, coeff) = (b.n, &self.shape, b.coeff());
        if let Some(dx) = b.dx.take() {
            let w = &b.params[self.weights.clone()];
            depthwise_backward_input(b.dy, n, s, w, self.scale, dx);
        }
        let (dy, x) = (b.dy, b.x);
        let target = b.target(self.weights.clone());
        depthwise_backward_weights(dy, x, n, s, self.scale, coeff, target);
    }
}

/// 2x2 max-pool, stride 2, 'same' padding, of an `h × w × c` image.
#[derive(Clone, Debug, PartialEq)]
pub struct MaxPool {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl MaxPool {
    fn forward(&self, f: Forward<'_>) {
        maxpool_forward(f.x, f.n, self.h, self.w, self.c, f.y);
    }

    fn backward(&self, b: Backward<'_, '_>) {
        if let Some(dx) = b.dx {
            maxpool_backward(b.dy, b.x, b.y, b.n, [self.h, self.w, self.c], dx);
        }
    }
}

/// Mean over the `pixels` positions of each of `c` channels.
#[derive(Clone, Debug, PartialEq)]
pub struct MeanPool {
    pub pixels: usize,
    pub c: usize,
}

impl MeanPool {
    fn forward(&self, f: Forward<'_>) {
        mean_pool_forward(f.x, f.n, self.pixels, self.c, f.y);
    }

    fn backward(&self, b: Backward<'_, '_>) {
        if let Some(dx) = b.dx {
            mean_pool_backward(b.dy, b.n, self.pixels, self.c, dx);
        }
    }
}

/// Dense layer on the flattened image, optional bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub fan_in: usize,
    pub fan_out: usize,
    pub weights: Range<usize>,
    pub bias: Option<Range<usize>>,
    pub scale: f32,
}

impl Dense {
    fn forward(&self, f: Forward<'_>) {
        let w = &f.params[self.weights.clone()];
        let shape = DenseShape::new(f.n, self.fan_in, self.fan_out);
        dense_forward(f.x, w, f.y, shape, self.scale);
        if let Some(b) = &self.bias {
            bias_forward(f.y, &f.params[b.clone()], f.n, self.scale);
        }
    }

    fn backward(&self, mut b: Backward<'_, '_>) {
        let (n, coeff, scale) = (b.n, b.coeff(), self.scale);
        let shape = DenseShape::new(n, self.fan_in, self.fan_out);
        if let Some(dx) = b.dx.take() {
            let w = &b.params[self.weights.clone()];
            dense_backward_input(b.dy, w, dx, shape, scale);
        }
        let (dy, x) = (b.dy, b.x);
        let target = b.target(self.weights.clone());
        dense_backward_weights(dy, x, target, shape, scale, coeff);
        if let Some(r) = &self.bias {
            bias_backward(dy, b.target(r.clone()), n, scale, coeff);
        }
    }
}

/// `y = (x + buffer[from]) / sqrt(2)`: the end of a residual branch that started at buffer
/// `from` (0 is the input).
#[derive(Clone, Debug, PartialEq)]
pub struct Residual {
    pub from: usize,
}

impl Residual {
    fn forward(&self, f: Forward<'_>) {
        let len = f.y.len();
        f.y.copy_from_slice(&f.x[..len]);
        residual_forward(f.y, &f.skip[..len]);
    }

    fn backward(&self, b: Backward<'_, '_>) {
        if let Some(dx) = b.dx {
            let len = b.dskip.len();
            dx[..len].copy_from_slice(&b.dy[..len]);
            residual_backward(&mut dx[..len], b.dskip);
        }
    }
}

/// One op of a net.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    Conv(Conv),
    Depthwise(Depthwise),
    MaxPool(MaxPool),
    MeanPool(MeanPool),
    Dense(Dense),
    Residual(Residual),
}

impl OpKind {
    pub fn forward(&self, f: Forward<'_>) {
        match self {
            OpKind::Conv(op) => op.forward(f),
            OpKind::Depthwise(op) => op.forward(f),
            OpKind::MaxPool(op) => op.forward(f),
            OpKind::MeanPool(op) => op.forward(f),
            OpKind::Dense(op) => op.forward(f),
            OpKind::Residual(op) => op.forward(f),
        }
    }

    pub fn backward(&self, b: Backward<'_, '_>) {
        match self {
            OpKind::Conv(op) => op.backward(b),
            OpKind::Depthwise(op) => op.backward(b),
            OpKind::MaxPool(op) => op.backward(b),
            OpKind::MeanPool(op) => op.backward(b),
            OpKind::Dense(op) => op.backward(b),
            OpKind::Residual(op) => op.backward(b),
        }
    }

    /// Floats of im2col scratch per image.
    pub fn cols_len(&self) -> usize {
        match self {
            OpKind::Conv(c) => c.shape.cols_per_image(),
            _ => 0,
        }
    }

    /// Whether the forward pass fills the im2col scratch (the direct convolution does not).
    pub fn fills_cols(&self) -> bool {
        matches!(self, OpKind::Conv(c) if !crate::model::direct_conv::applies(&c.shape))
    }

    /// Multiply-adds of the forward pass over one image.
    pub fn macs(&self) -> usize {
        match self {
            OpKind::Conv(c) => c.shape.out_h() * c.shape.out_w() * c.shape.weights(),
            OpKind::Depthwise(d) => {
                let s = &d.shape;
                s.out_h() * s.out_w() * s.k * s.k * s.c_in
            }
            OpKind::Dense(d) => d.fan_in * d.fan_out,
            _ => 0,
        }
    }

    /// The buffer a residual adds (`None` for other ops).
    pub fn skip_from(&self) -> Option<usize> {
        match self {
            OpKind::Residual(r) => Some(r.from),
            _ => None,
        }
    }

    /// The op's name in errors and listings.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::Conv(c) if c.shape.is_pointwise() => "pointwise",
            OpKind::Conv(_) => "conv",
            OpKind::Depthwise(_) => "depthwise",
            OpKind::MaxPool(_) => "maxpool",
            OpKind::MeanPool(_) => "global-mean",
            OpKind::Dense(_) => "dense",
            OpKind::Residual(_) => "residual",
        }
    }
}
