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
use super::cnn::{Act, Bias, Cnn, CnnBuilder, Kernel, OpKind};
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
            .ok_or_else(|| fail(format!("size {s} at width {h} is too large")))
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
            let kernel = Kernel {
                c_out,
                k: *k,
                stride: *stride,
            };
            b.conv(&name, kernel, scale, bias_of(*bias), Act::Linear);
        }
        LayerSpec::Pointwise { out, bias, name } => {
            let c_out = size(*out)?;
            check_params(c_out as u128 * c_in as u128)?;
            let scale = hidden_scale(1, c_in, *bias);
            let name = name_or(name, "pointwise");
            let kernel = Kernel {
                c_out,
                k: 1,
                stride: 1,
            };
            b.conv(&name, kernel, scale, bias_of(*bias), Act::Linear);
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
            let expand = Kernel {
                c_out: mid,
                k: 1,
                stride: 1,
            };
            b.conv(&format!("{base}.expand"), expand, scale, Bias::No, Act::Phi);
            let dw_scale = hidden_scale(*k, 1, false);
            b.depthwise(&format!("{base}.dw"), *k, *stride, dw_scale, Act::Phi);
            let scale = hidden_scale(1, mid, false);
            let project = Kernel {
                c_out,
                k: 1,
                stride: 1,
            };
            b.conv(
                &format!("{base}.project"),
                project,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::net::NetTable;
    use crate::model::reference::Img;
    use crate::model::{Network, gradcheck};
    use proptest::prelude::*;

    fn list(layers: &str) -> Vec<LayerSpec> {
        NetTable::from_text(&format!("layers = [{layers}]"), "net.toml")
            .unwrap()
            .layers
            .0
    }

    /// For the net of `layers` at width `h`: the forward pass against the f64 reference of
    /// the spec (`reference::layer_list`), the gradient against central differences of that
    /// reference (for the smooth activations: with relu a kink inside the step would count as
    /// an error; the relu pair has its own test in `activation.rs`), predict against forward,
    /// and the fused SGD step against the gradient.
    fn check_net(layers: &[LayerSpec], h: usize, shape: [usize; 3], act: Activation, seed: u64) {
        let n = 3;
        let d: usize = shape.iter().product();
        let mut net = build(layers, h, shape, n, act).unwrap();
        let w = net.init_params(seed);
        let x = gradcheck::gaussian(n * d, seed + 1);
        let c = gradcheck::gaussian(n, seed + 2);
        let reference = |w: &[f32], row: &[f32]| {
            crate::model::reference::layer_list(Img::new(shape, row), layers, h, w, act)
        };
        gradcheck::forward_matches(&mut net, &w, &x, |row| reference(&w, row));
        if act.needs_pre() {
            gradcheck::check_against_reference(&mut net, &w, &x, n, &c, |w| {
                x.chunks_exact(d)
                    .zip(&c)
                    .map(|(row, &ci)| ci as f64 * reference(w, row))
                    .sum()
            });
        }
        gradcheck::predict_matches_forward(&mut net, &w, &gradcheck::gaussian(40 * d, seed + 3), n);
        let mut c = c;
        c[1] = 0.0;
        gradcheck::fused_sgd_matches_gradient_step(&mut net, &w, &x, &c, &[0, 2]);
    }

    /// Each op with a weight layer before it (whose gradient goes through the op's backward to
    /// its input) and the readout after it.
    #[test]
    fn every_op_matches_finite_differences() {
        let conv = "{ conv = { out = \"h\", k = 3 } }, \"phi\"";
        let cases = [
            "{ conv = { out = \"2h\", k = 3, bias = true } }, \"phi\", { conv = { out = 3, k = 5, stride = 2 } }"
                .to_string(),
            format!("{conv}, {{ pointwise = {{ out = \"2h\", bias = true }} }}, \"phi\""),
            format!("{conv}, {{ depthwise = {{ k = 3, stride = 2 }} }}, \"phi\""),
            format!("{conv}, {{ maxpool = 2 }}"),
            format!("{conv}, \"global-mean\", \"phi\""),
            format!("{conv}, {{ dense = {{ out = 4, bias = true }} }}, \"phi\""),
            format!(
                "{conv}, {{ residual = [{{ conv = {{ out = \"h\", k = 3 }} }}, \"phi\"] }}, \"phi\""
            ),
            format!(
                "{{ residual = [{{ pointwise = 2 }}, \"phi\", {{ residual = [{{ depthwise = 3 }}] }}] }}, {conv}"
            ),
            format!("{conv}, {{ block = \"inverted-residual\", out = \"h\", k = 3, stride = 1 }}"),
            format!(
                "{conv}, {{ block = \"inverted-residual\", out = 3, k = 3, stride = 2, expand = 2 }}"
            ),
        ];
        for (i, text) in cases.iter().enumerate() {
            let mut layers = list(text);
            layers.push(LayerSpec::Dense {
                out: Size::Fixed(1),
                bias: true,
                name: None,
            });
            for act in Activation::ALL {
                check_net(&layers, 2, [6, 5, 2], act, 10 * i as u64);
            }
        }
    }

    #[test]
    fn a_list_of_fc_shape_gives_fc_bits() {
        // A user's list with fc's shape builds the same ops and scales as the fc recipe (only
        // the parameter names differ), so its outputs are the same bits.
        let user = list("{ dense = \"h\" }, \"phi\", { dense = \"h\" }, \"phi\", { dense = 1 }");
        let (shape, h, n) = ([1, 1, 30], 16, 8);
        let mut a = build(&user, h, shape, n, Activation::Gelu).unwrap();
        let mut b = crate::model::fc::fc(30, 2, h, n, Activation::Gelu);
        let w = a.init_params(4);
        assert_eq!(a.ops(), b.ops());
        let x = gradcheck::gaussian(100 * 30, 5);
        let (mut ya, mut yb) = (vec![0.0; 100], vec![0.0; 100]);
        a.predict(&w, &x, &mut ya);
        b.predict(&w, &x, &mut yb);
        assert_eq!(ya, yb);
        let names: Vec<&str> = a
            .layout()
            .segments
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["1.dense", "3.dense", "readout"]);
    }

    #[test]
    fn shape_errors_name_the_layer() {
        let cases = [
            (
                "{ conv = { out = 4, k = 3 } }",
                "layer 1 (conv): a net ends with the readout",
            ),
            (
                "{ dense = 2 }",
                "layer 1 (dense): a net ends with the readout { dense = 1 }",
            ),
            (
                "{ pointwise = 4 }, { residual = [{ pointwise = 2 }] }, \"global-mean\", { dense = 1 }",
                "layer 2 (residual): its input is 7x7x4, the branch gives 7x7x2",
            ),
            (
                "{ conv = { out = 4, k = 3 } }, { maxpool = 2 }, \"phi\", { dense = 1 }",
                "layer 3 (phi): phi after a max-pool",
            ),
            (
                "\"phi\", { dense = 1 }",
                "layer 1 (phi): phi follows a layer",
            ),
            (
                "{ dense = 3 }, \"phi\", \"phi\", { dense = 1 }",
                "layer 3 (phi): the layer before already has phi",
            ),
            (
                "{ conv = { out = 65536, k = 9 } }, { conv = { out = 65536, k = 9 } }, { dense = 1 }",
                "layer 2 (conv): 347892350976 parameters in one layer",
            ),
        ];
        for (text, says) in cases {
            let e = plan(&list(text), 1, [7, 7, 1]).err().unwrap().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
        let e = plan(
            &list("{ dense = \"16777216h\" }, { dense = 1 }"),
            1 << 40,
            [2, 2, 1],
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("layer 1 (dense): size 16777216h at width"),
            "{e}"
        );
    }

    /// A random valid list: convolutions, depthwise and pointwise layers, pools, residual
    /// branches and blocks, each maybe followed by phi, then maybe a mean, a hidden dense
    /// layer, and the readout.
    fn random_list() -> impl Strategy<Value = (Vec<LayerSpec>, Activation)> {
        let layer = prop_oneof![
            (
                1usize..4,
                prop::sample::select(vec![1usize, 3]),
                1usize..3,
                any::<bool>()
            )
                .prop_map(|(m, k, stride, bias)| LayerSpec::Conv {
                    out: Size::Width(m),
                    k,
                    stride,
                    bias,
                    name: None
                }),
            (prop::sample::select(vec![1usize, 3]), 1usize..3).prop_map(|(k, stride)| {
                LayerSpec::Depthwise {
                    k,
                    stride,
                    name: None,
                }
            }),
            Just(LayerSpec::MaxPool),
            Just(LayerSpec::Residual(vec![
                LayerSpec::Depthwise {
                    k: 3,
                    stride: 1,
                    name: None
                },
                LayerSpec::Phi,
            ])),
            (1usize..3, 1usize..3).prop_map(|(m, stride)| LayerSpec::InvertedResidual {
                out: Size::Width(m),
                k: 3,
                stride,
                expand: 2,
                name: None,
            }),
        ];
        (
            prop::collection::vec((layer, any::<bool>()), 1..5),
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(vec![Activation::Gelu, Activation::Silu]),
        )
            .prop_map(|(body, mean, hidden, act)| {
                let mut layers = Vec::new();
                for (l, phi) in body {
                    let pool = matches!(l, LayerSpec::MaxPool);
                    layers.push(l);
                    if phi && !pool {
                        layers.push(LayerSpec::Phi);
                    }
                }
                if mean {
                    layers.push(LayerSpec::GlobalMean);
                }
                if hidden {
                    layers.push(LayerSpec::Dense {
                        out: Size::Fixed(3),
                        bias: true,
                        name: None,
                    });
                    layers.push(LayerSpec::Phi);
                }
                layers.push(LayerSpec::Dense {
                    out: Size::Fixed(1),
                    bias: false,
                    name: None,
                });
                (layers, act)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn random_valid_lists_match_finite_differences((layers, act) in random_list(), seed in 0u64..1000) {
            check_net(&layers, 1, [5, 6, 2], act, seed);
        }
    }
}
