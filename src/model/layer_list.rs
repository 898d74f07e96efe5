//! Nets from layer lists (method §2.5): a `[net]` list, or the recipe of a built-in net, checked
//! shape by shape and turned into [`CnnBuilder`] calls. Every error names the layer:
//! `[net] layer 4 (residual): its input has 24 channels (7x7), the branch gives 16 (7x7)`.
//!
//! Scales (method §2.5): a hidden layer with `k × k` kernels over `C_in` channels (a dense layer:
//! `k = 1`, `C_in = fan_in`) divides its output by the square root of its fan-in, a bias counting
//! as one more input: `1/(k sqrt(C_in))` without bias, `1/sqrt(k^2 C_in + 1)` with one; a
//! depthwise layer by `k`; the readout, the final `{ dense = 1 }`, by its fan-in. These are the
//! scales of `fc`, `simple-cnn` and `mnas`, computed in the same float order, so the built-in
//! recipes give the same bits as the nets they replaced.

use super::activation::Activation;
use super::cnn::{Act, Bias, Cnn, CnnBuilder, OpKind};
use crate::config::net::{LayerSpec, Size};
use crate::error::{Error, Result};

/// The most parameters one layer may have (2^31: a larger layer is a typo in a size, or a
/// width far beyond any machine's memory).
const MAX_LAYER_PARAMS: u128 = 1 << 31;

/// Build the net of `layers` at width `h` for `input` images (`[h, w, c]`), with a training
/// tape for mini-batches of `batch`.
pub fn build(
    layers: &[LayerSpec],
    h: usize,
    input: [usize; 3],
    batch: usize,
    act: Activation,
) -> Result<Cnn> {
    Ok(plan(layers, h, input)?.finish(batch, act))
}

/// The ops and parameter layout of `layers`, checked, without the tapes (for the memory
/// estimate and for [`build`]).
pub fn plan(layers: &[LayerSpec], h: usize, input: [usize; 3]) -> Result<CnnBuilder> {
    let mut b = CnnBuilder::new(input);
    let n = layers.len();
    for (i, layer) in layers.iter().enumerate() {
        let at = (i + 1).to_string();
        let last = i + 1 == n;
        if last
            && !matches!(
                layer,
                LayerSpec::Dense {
                    out: Size::Fixed(1),
                    ..
                }
            )
        {
            return Err(layer_error(
                &at,
                layer,
                "a net ends with the readout { dense = 1 } (its output is f(x))",
            ));
        }
        add(&mut b, layer, &at, h, last)?;
    }
    Ok(b)
}

fn layer_error(at: &str, layer: &LayerSpec, message: &str) -> Error {
    Error::config(format!("[net] layer {at} ({}): {message}", layer.kind()))
}

/// Method §2.5's scale of a hidden layer (see the module doc).
fn hidden_scale(k: usize, c_in: usize, bias: bool) -> f32 {
    if bias {
        1.0 / ((k * k * c_in + 1) as f32).sqrt()
    } else {
        1.0 / (k as f32 * (c_in as f32).sqrt())
    }
}

fn bias_of(bias: bool) -> Bias {
    if bias { Bias::Yes } else { Bias::No }
}

/// `[h, w, c]` as `7x7x24`.
fn shape_text([h, w, c]: [usize; 3]) -> String {
    format!("{h}x{w}x{c}")
}

/// Append one layer (and, for a residual or a block, the layers inside it).
fn add(b: &mut CnnBuilder, layer: &LayerSpec, at: &str, h: usize, last: bool) -> Result<()> {
    let fail = |m: String| layer_error(at, layer, &m);
    let size = |s: Size| {
        s.at(h)
            .filter(|&n| n > 0)
            .ok_or_else(|| fail(format!("{s:?} at width {h} is too large")))
    };
    let check_params = |count: u128| {
        if count > MAX_LAYER_PARAMS {
            Err(fail(format!(
                "{count} parameters in one layer (more than 2^31); lower its size or the width"
            )))
        } else {
            Ok(())
        }
    };
    let name_or = |name: &Option<String>, default: &str| {
        name.clone().unwrap_or_else(|| format!("{at}.{default}"))
    };
    let [_, _, c_in] = b.shape();
    match layer {
        LayerSpec::Conv {
            out,
            k,
            stride,
            bias,
            name,
        } => {
            let c_out = size(*out)?;
            check_params((c_out as u128) * (*k as u128).pow(2) * c_in as u128)?;
            let scale = hidden_scale(*k, c_in, *bias);
            let name = name_or(name, "conv");
            b.conv(
                &name,
                c_out,
                *k,
                *stride,
                scale,
                bias_of(*bias),
                Act::Linear,
            );
        }
        LayerSpec::Pointwise { out, bias, name } => {
            let c_out = size(*out)?;
            check_params(c_out as u128 * c_in as u128)?;
            let scale = hidden_scale(1, c_in, *bias);
            let name = name_or(name, "pointwise");
            b.conv(&name, c_out, 1, 1, scale, bias_of(*bias), Act::Linear);
        }
        LayerSpec::Depthwise { k, stride, name } => {
            check_params((*k as u128).pow(2) * c_in as u128)?;
            let name = name_or(name, "depthwise");
            b.depthwise(&name, *k, *stride, hidden_scale(*k, 1, false), Act::Linear);
        }
        LayerSpec::MaxPool => b.maxpool(),
        LayerSpec::GlobalMean => b.mean_pool(),
        LayerSpec::Dense { out, bias, name } => {
            let fan_out = size(*out)?;
            let fan_in = b.features();
            check_params(fan_out as u128 * fan_in as u128)?;
            let scale = if last {
                1.0 / fan_in as f32
            } else {
                hidden_scale(1, fan_in, *bias)
            };
            let default = if last { "readout" } else { "dense" };
            let name = name.clone().unwrap_or_else(|| {
                if last {
                    default.to_string()
                } else {
                    format!("{at}.{default}")
                }
            });
            b.dense(&name, fan_out, scale, bias_of(*bias), Act::Linear);
        }
        LayerSpec::Phi => match b.ops().last() {
            None => return Err(fail("phi follows a layer; it cannot come first".into())),
            Some(op) if op.phi => {
                return Err(fail("the layer before already has phi".into()));
            }
            Some(op) if matches!(op.kind, OpKind::MaxPool(_)) => {
                return Err(fail(
                    "phi after a max-pool: put phi before it (the max-pool's backward reads its output)"
                        .into(),
                ));
            }
            Some(_) => b.phi(),
        },
        LayerSpec::Residual(branch) => {
            let (mark, shape) = (b.mark(), b.shape());
            for (j, inner) in branch.iter().enumerate() {
                add(b, inner, &format!("{at}.{}", j + 1), h, false)?;
            }
            if b.shape() != shape {
                return Err(fail(format!(
                    "its input is {}, the branch gives {}; a residual adds two activations of one shape",
                    shape_text(shape),
                    shape_text(b.shape())
                )));
            }
            b.residual(mark);
        }
        LayerSpec::InvertedResidual {
            out,
            k,
            stride,
            expand,
            name,
        } => {
            let c_out = size(*out)?;
            let mid = expand
                .checked_mul(c_in)
                .ok_or_else(|| fail("expand times the channels overflows".into()))?;
            check_params(mid as u128 * c_in as u128 + mid as u128 * (*k as u128).pow(2))?;
            check_params(mid as u128 * c_out as u128)?;
            let base = name.clone().unwrap_or_else(|| at.to_string());
            let (mark, shape) = (b.mark(), b.shape());
            let scale = hidden_scale(1, c_in, false);
            b.conv(
                &format!("{base}.expand"),
                mid,
                1,
                1,
                scale,
                Bias::No,
                Act::Phi,
            );
            let dw_scale = hidden_scale(*k, 1, false);
            b.depthwise(&format!("{base}.dw"), *k, *stride, dw_scale, Act::Phi);
            let scale = hidden_scale(1, mid, false);
            b.conv(
                &format!("{base}.project"),
                c_out,
                1,
                1,
                scale,
                Bias::No,
                Act::Linear,
            );
            if b.shape() == shape {
                b.residual(mark);
            }
        }
    }
    if b.features() == 0 {
        return Err(fail(format!(
            "its output is empty ({})",
            shape_text(b.shape())
        )));
    }
    Ok(())
}
