//! Networks (method §2). Every network keeps all its parameters in one contiguous `f32` buffer,
//! cut into named segments ([`ParamLayout`]): an SGD update, `|w - w0|` or `|w|` is one pass over
//! the buffer, and per-layer observables are passes over its segments. A network owns the
//! buffers of its forward and backward passes (a tape sized for one mini-batch, and chunked
//! buffers for evaluating whole data sets), so training allocates nothing per step.

pub mod activation;
pub mod buffer;
pub mod cnn;
pub mod conv;
pub mod depthwise;
pub mod direct_conv;
pub mod fc;
pub mod gemm;
pub mod layer_list;
pub mod layers;
pub mod mnas;
pub mod padding;
pub mod perceptron;
pub mod pool;
pub mod simd;
pub mod simple_cnn;
pub mod unpacked;
pub mod vector;

#[cfg(test)]
pub(crate) mod gradcheck;
#[cfg(test)]
pub(crate) mod reference;

use crate::config::NetSpec;
use crate::error::Result;
use crate::rng::{self, Stream};
use rand_distr::{Distribution, StandardNormal};

/// A named slice `offset..offset + len` of the parameter buffer.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub name: String,
    pub offset: usize,
    pub len: usize,
}

impl Segment {
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// How a network's parameter buffer is cut into layers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamLayout {
    pub segments: Vec<Segment>,
}

impl ParamLayout {
    /// Append a segment of `len` parameters and return its range.
    pub fn push(&mut self, name: impl Into<String>, len: usize) -> std::ops::Range<usize> {
        let offset = self.len();
        self.segments.push(Segment {
            name: name.into(),
            offset,
            len,
        });
        offset..offset + len
    }

    /// Total number of parameters.
    pub fn len(&self) -> usize {
        self.segments.last().map_or(0, |s| s.offset + s.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a backward pass does with the gradient of `sum_i dout_i f(w, x_i)`.
pub enum Update<'a> {
    /// Add it to this buffer (same layout as the parameters).
    Gradient(&'a mut [f32]),
    /// Take an SGD step in place: `w -= lr · gradient`. Each layer's gradient to its input is
    /// computed from the old weights before the layer's weights change, so this is exactly one
    /// step of SGD, without a gradient buffer.
    Sgd { lr: f32 },
}

/// A network `f(w, x)` with its forward and backward passes.
pub trait Network: Send {
    /// The parameter segments.
    fn layout(&self) -> &ParamLayout;

    /// Number of input features.
    fn input_dim(&self) -> usize;

    /// Initial parameters `w0` (method §2: N(0,1), or 0 for the perceptron).
    fn init_params(&self, seed_init: u64) -> Vec<f32>;

    /// Outputs `f(w, x_i)` for the rows of `x` (any number, evaluated in chunks). For a given row
    /// the result is bit-identical to what [`Network::forward`] gives for it in a batch.
    fn predict(&mut self, params: &[f32], x: &[f32], out: &mut [f32]);

    /// The input rows of the next training batch: the caller writes `n` rows (`n ≤` capacity).
    fn batch_input(&mut self, n: usize) -> &mut [f32];

    /// Forward pass over the batch input, keeping what the backward pass needs; returns the
    /// outputs, one per row.
    fn forward(&mut self, params: &[f32]) -> &[f32];

    /// Keep only these batch rows (strictly increasing) for the backward pass: the rows whose
    /// loss is zero contribute nothing, so the backward pass skips them.
    fn retain_rows(&mut self, rows: &[usize]);

    /// Backward pass of `sum_i dout_i f(w, x_i)` over the retained rows, applied as `update` says.
    fn backward(&mut self, params: &mut [f32], dout: &[f32], update: Update<'_>);
}

/// Build the network `net` for inputs of shape `[height, width, channels]` (vectors are
/// `[1, 1, d]`; dense layers flatten images), with a training tape for mini-batches of `batch`
/// rows. The built-in nets are recipes of layer lists (`fc::recipe`, ...); a `[net]` list that
/// does not fit the input shape is an error naming its layer.
pub fn build(net: &NetSpec, batch: usize, shape: [usize; 3]) -> Result<Box<dyn Network>> {
    let input_dim = shape.iter().product();
    let (layers, width, act) = match net {
        NetSpec::Perceptron => {
            return Ok(Box::new(perceptron::Perceptron::new(input_dim, batch)));
        }
        NetSpec::Fc {
            depth,
            width,
            activation,
        } => (fc::recipe(*depth), *width, *activation),
        NetSpec::SimpleCnn { width, activation } => (simple_cnn::recipe(), *width, *activation),
        NetSpec::Mnas { width, activation } => (mnas::recipe(), *width, *activation),
        NetSpec::Layers {
            layers,
            width,
            activation,
        } => (layers.0.clone(), *width, *activation),
    };
    // Dense nets see vectors: `fc` flattens its input.
    let shape = match net {
        NetSpec::Fc { .. } => [1, 1, input_dim],
        _ => shape,
    };
    Ok(Box::new(layer_list::build(
        &layers, width, shape, batch, act,
    )?))
}

/// `n` independent N(0,1) draws from the initialization stream of `seed_init`.
pub fn standard_normal_params(n: usize, seed_init: u64) -> Vec<f32> {
    let mut r = rng::stream(seed_init, Stream::Init);
    (0..n).map(|_| StandardNormal.sample(&mut r)).collect()
}

/// Move rows `rows[j]` (strictly increasing) of a row-major `? × width` buffer to rows `j`.
pub(crate) fn compact_rows<T: Copy>(buf: &mut [T], width: usize, rows: &[usize]) {
    for (j, &r) in rows.iter().enumerate() {
        if r != j {
            buf.copy_within(r * width..(r + 1) * width, j * width);
        }
    }
}
