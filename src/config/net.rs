//! A net as a list of layers (method §2.5): the `[net]` table of a run or sweep file,
//!
//! ```toml
//! [net]
//! layers = [
//!   { conv = { out = "4h", k = 5, stride = 2 } }, "phi",
//!   { depthwise = { k = 5 } }, "phi",
//!   { residual = [{ pointwise = "4h" }, "phi", { pointwise = "4h" }] },
//!   { maxpool = 2 },
//!   { block = "inverted-residual", out = "h", k = 5, stride = 2, expand = 3 },
//!   "global-mean",
//!   { dense = 1 },
//! ]
//! ```
//!
//! A size is a number of channels (`16`) or a multiple of the run's width `h` (`"h"`, `"4h"`), so
//! a sweep can vary `width`. This module reads and writes the list (its canonical form is part of
//! the run's identity); `model::layer_list` builds the net and checks its shapes.

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::{Table, Value};

/// Channels or units of a layer: fixed, or a multiple of the width `h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Fixed(usize),
    Width(usize),
}

impl Size {
    /// The size at width `h` (`None` if it overflows).
    pub fn at(self, h: usize) -> Option<usize> {
        match self {
            Size::Fixed(n) => Some(n),
            Size::Width(m) => m.checked_mul(h),
        }
    }

    fn to_value(self) -> Value {
        match self {
            Size::Fixed(n) => Value::Integer(n as i64),
            Size::Width(1) => Value::String("h".into()),
            Size::Width(m) => Value::String(format!("{m}h")),
        }
    }
}

impl std::fmt::Display for Size {
    /// As written in a net file: `16`, `h`, `4h`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Size::Fixed(n) => write!(f, "{n}"),
            Size::Width(1) => f.write_str("h"),
            Size::Width(m) => write!(f, "{m}h"),
        }
    }
}

/// One entry of a layer list.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerSpec {
    /// `k × k` convolution with stride, 'same' padding.
    Conv {
        out: Size,
        k: usize,
        stride: usize,
        bias: bool,
        name: Option<String>,
    },
    /// `1 × 1` convolution.
    Pointwise {
        out: Size,
        bias: bool,
        name: Option<String>,
    },
    /// Depthwise `k × k` convolution with stride, no bias.
    Depthwise {
        k: usize,
        stride: usize,
        name: Option<String>,
    },
    /// 2x2 max-pool, stride 2, 'same' padding.
    MaxPool,
    /// Mean over all positions of each channel.
    GlobalMean,
    /// Dense layer on the flattened input.
    Dense {
        out: Size,
        bias: bool,
        name: Option<String>,
    },
    /// The run's activation `phi` on the previous layer's output.
    Phi,
    /// `x <- (x + branch(x)) / sqrt(2)`.
    Residual(Vec<LayerSpec>),
    /// MnasNet's inverted-residual block: `phi(pointwise(expand · C_in))`, `phi(depthwise(k,
    /// stride))`, `pointwise(out)`, and the residual when the block keeps the shape.
    InvertedResidual {
        out: Size,
        k: usize,
        stride: usize,
        expand: usize,
        name: Option<String>,
    },
}

/// The ops a table entry may hold.
const OPS: &str = "conv, pointwise, depthwise, maxpool, dense, residual, block";

impl LayerSpec {
    /// Whether the entry (or any inside it) has a size in units of `h`.
    pub fn uses_width(&self) -> bool {
        match self {
            LayerSpec::Conv { out, .. }
            | LayerSpec::Pointwise { out, .. }
            | LayerSpec::Dense { out, .. }
            | LayerSpec::InvertedResidual { out, .. } => matches!(out, Size::Width(_)),
            LayerSpec::Residual(branch) => branch.iter().any(LayerSpec::uses_width),
            _ => false,
        }
    }

    /// The name in errors: `conv`, `block inverted-residual`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Conv { .. } => "conv",
            LayerSpec::Pointwise { .. } => "pointwise",
            LayerSpec::Depthwise { .. } => "depthwise",
            LayerSpec::MaxPool => "maxpool",
            LayerSpec::GlobalMean => "global-mean",
            LayerSpec::Dense { .. } => "dense",
            LayerSpec::Phi => "phi",
            LayerSpec::Residual(_) => "residual",
            LayerSpec::InvertedResidual { .. } => "inverted-residual",
        }
    }

    /// Read one entry; `at` is its position (`3`, `4.2`) for errors.
    fn parse(v: &Value, at: &str) -> Result<LayerSpec> {
        let bad = |m: String| Error::config(format!("[net] layer {at}: {m}"));
        let table = match v {
            Value::String(s) => {
                return match s.as_str() {
                    "phi" => Ok(LayerSpec::Phi),
                    "global-mean" => Ok(LayerSpec::GlobalMean),
                    "maxpool" => Ok(LayerSpec::MaxPool),
                    other => Err(bad(format!(
                        "unknown layer \"{}\"; a word is \"phi\", \"global-mean\" or \"maxpool\", other layers are tables ({OPS})",
                        crate::data::printable(other)
                    ))),
                };
            }
            Value::Table(t) => t,
            other => {
                return Err(bad(format!(
                    "{} is not a layer; write a word (\"phi\") or a table ({{ dense = 1 }})",
                    other.type_str()
                )));
            }
        };
        let name = match table.get("name") {
            None => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => return Err(bad("name must be a non-empty string".into())),
        };
        if table.contains_key("block") {
            return Self::parse_block(table, name, &bad);
        }
        let ops: Vec<&String> = table.keys().filter(|k| *k != "name").collect();
        let [op] = ops[..] else {
            return Err(bad(format!(
                "a layer table holds one op ({OPS}), this one {}",
                if ops.is_empty() {
                    "none".to_string()
                } else {
                    ops.iter()
                        .map(|k| crate::data::printable(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        };
        let args = &table[op.as_str()];
        if name.is_some() && matches!(op.as_str(), "maxpool" | "residual") {
            return Err(bad(format!("{op} has no parameters to name")));
        }
        let named = Ok::<LayerSpec, Error>;
        match op.as_str() {
            "conv" => {
                let a = Args::new(args, op, &["out", "k", "stride", "bias"], &bad)?;
                named(LayerSpec::Conv {
                    out: a.size("out")?,
                    k: a.count("k", None)?,
                    stride: a.count("stride", Some(1))?,
                    bias: a.flag("bias")?,
                    name,
                })
            }
            "pointwise" => {
                let (out, bias) = if args.is_table() {
                    let a = Args::new(args, op, &["out", "bias"], &bad)?;
                    (a.size("out")?, a.flag("bias")?)
                } else {
                    (
                        size_of(args).map_err(|m| bad(format!("pointwise: {m}")))?,
                        false,
                    )
                };
                named(LayerSpec::Pointwise { out, bias, name })
            }
            "dense" => {
                let (out, bias) = if args.is_table() {
                    let a = Args::new(args, op, &["out", "bias"], &bad)?;
                    (a.size("out")?, a.flag("bias")?)
                } else {
                    (
                        size_of(args).map_err(|m| bad(format!("dense: {m}")))?,
                        false,
                    )
                };
                named(LayerSpec::Dense { out, bias, name })
            }
            "depthwise" => {
                let (k, stride) = if args.is_table() {
                    let a = Args::new(args, op, &["k", "stride"], &bad)?;
                    (a.count("k", None)?, a.count("stride", Some(1))?)
                } else {
                    (
                        count_of(args).map_err(|m| bad(format!("depthwise: {m}")))?,
                        1,
                    )
                };
                named(LayerSpec::Depthwise { k, stride, name })
            }
            "maxpool" => match args {
                Value::Integer(2) => named(LayerSpec::MaxPool),
                _ => Err(bad(format!(
                    "maxpool = {args}: the max-pool is 2x2 with stride 2; write {{ maxpool = 2 }}"
                ))),
            },
            "residual" => {
                let Value::Array(list) = args else {
                    return Err(bad(
                        "residual takes a list of layers: { residual = [{ pointwise = \"h\" }, \"phi\"] }"
                            .into(),
                    ));
                };
                if list.is_empty() {
                    return Err(bad("the residual branch is empty".into()));
                }
                let branch = list
                    .iter()
                    .enumerate()
                    .map(|(i, v)| LayerSpec::parse(v, &format!("{at}.{}", i + 1)))
                    .collect::<Result<_>>()?;
                named(LayerSpec::Residual(branch))
            }
            other => Err(bad(format!(
                "unknown op `{}`; ops are {OPS}, and the words \"phi\" and \"global-mean\"",
                crate::data::printable(other)
            ))),
        }
    }

    fn parse_block(
        table: &Table,
        name: Option<String>,
        bad: &dyn Fn(String) -> Error,
    ) -> Result<LayerSpec> {
        match table.get("block") {
            Some(Value::String(s)) if s == "inverted-residual" => {}
            other => {
                return Err(bad(format!(
                    "unknown block {}; the block is \"inverted-residual\"",
                    other.map_or("?".into(), |v| crate::data::printable(&v.to_string()))
                )));
            }
        }
        let mut args = table.clone();
        args.remove("block");
        args.remove("name");
        let args = Value::Table(args);
        let a = Args::new(&args, "block", &["out", "k", "stride", "expand"], bad)?;
        Ok(LayerSpec::InvertedResidual {
            out: a.size("out")?,
            k: a.count("k", None)?,
            stride: a.count("stride", Some(1))?,
            expand: a.count("expand", Some(3))?,
            name,
        })
    }

    /// The canonical form: every argument written out, in a fixed order.
    fn to_value(&self) -> Value {
        let mut t = Table::new();
        let with_name = |mut t: Table, name: &Option<String>| {
            if let Some(n) = name {
                t.insert("name".into(), Value::String(n.clone()));
            }
            Value::Table(t)
        };
        let int = |n: usize| Value::Integer(n as i64);
        match self {
            LayerSpec::Phi => Value::String("phi".into()),
            LayerSpec::GlobalMean => Value::String("global-mean".into()),
            LayerSpec::MaxPool => {
                t.insert("maxpool".into(), int(2));
                Value::Table(t)
            }
            LayerSpec::Conv {
                out,
                k,
                stride,
                bias,
                name,
            } => {
                let mut a = Table::new();
                a.insert("out".into(), out.to_value());
                a.insert("k".into(), int(*k));
                a.insert("stride".into(), int(*stride));
                a.insert("bias".into(), Value::Boolean(*bias));
                t.insert("conv".into(), Value::Table(a));
                with_name(t, name)
            }
            LayerSpec::Pointwise { out, bias, name } | LayerSpec::Dense { out, bias, name } => {
                let mut a = Table::new();
                a.insert("out".into(), out.to_value());
                a.insert("bias".into(), Value::Boolean(*bias));
                t.insert(self.kind().into(), Value::Table(a));
                with_name(t, name)
            }
            LayerSpec::Depthwise { k, stride, name } => {
                let mut a = Table::new();
                a.insert("k".into(), int(*k));
                a.insert("stride".into(), int(*stride));
                t.insert("depthwise".into(), Value::Table(a));
                with_name(t, name)
            }
            LayerSpec::Residual(branch) => {
                let list = branch.iter().map(LayerSpec::to_value).collect();
                t.insert("residual".into(), Value::Array(list));
                Value::Table(t)
            }
            LayerSpec::InvertedResidual {
                out,
                k,
                stride,
                expand,
                name,
            } => {
                t.insert("block".into(), Value::String("inverted-residual".into()));
                t.insert("out".into(), out.to_value());
                t.insert("k".into(), int(*k));
                t.insert("stride".into(), int(*stride));
                t.insert("expand".into(), int(*expand));
                with_name(t, name)
            }
        }
    }
}

/// The arguments of one op: a table of known keys.
struct Args<'a> {
    table: &'a Table,
    op: &'a str,
    bad: &'a dyn Fn(String) -> Error,
}

impl<'a> Args<'a> {
    fn new(
        v: &'a Value,
        op: &'a str,
        keys: &[&str],
        bad: &'a dyn Fn(String) -> Error,
    ) -> Result<Self> {
        let Value::Table(table) = v else {
            return Err(bad(format!(
                "{op} takes a table of {}, e.g. {{ {op} = {{ {} }} }}",
                keys.join(", "),
                keys.iter()
                    .map(|k| format!("{k} = ..."))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if let Some(k) = table.keys().find(|k| !keys.contains(&k.as_str())) {
            return Err(bad(format!(
                "{op} has no argument `{}`; it takes {}",
                crate::data::printable(k),
                keys.join(", ")
            )));
        }
        Ok(Args { table, op, bad })
    }

    fn size(&self, key: &str) -> Result<Size> {
        let v = self
            .table
            .get(key)
            .ok_or_else(|| (self.bad)(format!("{} needs {key}", self.op)))?;
        size_of(v).map_err(|m| (self.bad)(format!("{} {key}: {m}", self.op)))
    }

    fn count(&self, key: &str, default: Option<usize>) -> Result<usize> {
        match (self.table.get(key), default) {
            (Some(v), _) => count_of(v).map_err(|m| (self.bad)(format!("{} {key}: {m}", self.op))),
            (None, Some(d)) => Ok(d),
            (None, None) => Err((self.bad)(format!("{} needs {key}", self.op))),
        }
    }

    fn flag(&self, key: &str) -> Result<bool> {
        match self.table.get(key) {
            None => Ok(false),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(v) => Err((self.bad)(format!(
                "{} {key} must be true or false (got {v})",
                self.op
            ))),
        }
    }
}

/// The largest size or kernel a layer may have (a bigger one is a typo or an overflow).
const MAX_COUNT: i64 = 1 << 24;

fn count_of(v: &Value) -> std::result::Result<usize, String> {
    match v {
        Value::Integer(n) if (1..=MAX_COUNT).contains(n) => Ok(*n as usize),
        other => Err(format!(
            "must be a whole number from 1 to {MAX_COUNT} (got {other})"
        )),
    }
}

/// `16` (channels) or `"h"`, `"4h"` (a multiple of the width).
fn size_of(v: &Value) -> std::result::Result<Size, String> {
    let text = "a whole number (16) or a multiple of the width h (\"h\", \"4h\")";
    match v {
        Value::Integer(_) => count_of(v).map(Size::Fixed),
        Value::String(s) => {
            let m = s
                .strip_suffix('h')
                .ok_or_else(|| format!("must be {text} (got {v})"))?;
            if m.is_empty() {
                return Ok(Size::Width(1));
            }
            match m.parse::<i64>() {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(Size::Width(n as usize)),
                _ => Err(format!("must be {text} (got {v})")),
            }
        }
        other => Err(format!("must be {text} (got {other})")),
    }
}

/// A list of layers: the `layers` of a `[net]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct NetLayers(pub Vec<LayerSpec>);

impl NetLayers {
    /// Read a `layers` list.
    pub fn parse(v: &Value) -> Result<NetLayers> {
        let Value::Array(list) = v else {
            return Err(Error::config(
                "[net] layers must be a list: layers = [{ dense = \"h\" }, \"phi\", { dense = 1 }]",
            ));
        };
        if list.is_empty() {
            return Err(Error::config(
                "[net] layers is empty; a net ends with the readout { dense = 1 }",
            ));
        }
        let layers = list
            .iter()
            .enumerate()
            .map(|(i, v)| LayerSpec::parse(v, &(i + 1).to_string()))
            .collect::<Result<_>>()?;
        Ok(NetLayers(layers))
    }

    /// Whether any layer's size is in units of `h` (else the run's width changes nothing).
    pub fn uses_width(&self) -> bool {
        self.0.iter().any(LayerSpec::uses_width)
    }

    fn to_value(&self) -> Value {
        Value::Array(self.0.iter().map(LayerSpec::to_value).collect())
    }
}

/// The `[net]` table of a run config: its layer list.
#[derive(Clone, Debug, PartialEq)]
pub struct NetTable {
    pub layers: NetLayers,
}

impl NetTable {
    /// A net file (`--net FILE`): a `[net]` table with `layers = [...]`, or the `layers` list at
    /// the top level. Errors name the file, and the line where TOML says it.
    pub fn from_text(text: &str, origin: &str) -> Result<NetTable> {
        let doc: Table = toml::from_str(text).map_err(|e| super::toml_error(&e, text, origin))?;
        let table = match (doc.get("net"), doc.get("layers")) {
            (Some(Value::Table(t)), None) if doc.len() == 1 => t.clone(),
            (None, Some(_)) if doc.len() == 1 => doc,
            _ => {
                return Err(Error::config(format!(
                    "{origin}: a net file holds a [net] table with layers = [...] (or only layers = [...])"
                )));
            }
        };
        NetTable::deserialize(Value::Table(table)).map_err(|e| {
            Error::config(format!(
                "{origin}: {}",
                e.message().trim().replace('\n', " ")
            ))
        })
    }

    /// The first 6 hex digits of the SHA-256 of the list's canonical JSON: a name for the net
    /// in labels and figure names.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_string(self).unwrap_or_default();
        let hash = Sha256::digest(json.as_bytes());
        hash.iter().take(3).map(|b| format!("{b:02x}")).collect()
    }

    /// Read a net file.
    pub fn from_file(path: &std::path::Path) -> Result<NetTable> {
        let text = crate::io::read_text(path, crate::io::MAX_TEXT_FILE, "a net file (TOML)")?;
        NetTable::from_text(&text, &path.display().to_string())
    }
}

impl Serialize for NetTable {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut t = Table::new();
        t.insert("layers".into(), self.layers.to_value());
        t.serialize(s)
    }
}

impl<'de> Deserialize<'de> for NetTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let t = Table::deserialize(d)?;
        if let Some(k) = t.keys().find(|k| *k != "layers") {
            return Err(D::Error::custom(format!(
                "unknown key `{}` in [net]; it takes layers = [...]",
                crate::data::printable(k)
            )));
        }
        let layers = t
            .get("layers")
            .ok_or_else(|| D::Error::custom("[net] needs layers = [...]"))?;
        let layers = NetLayers::parse(layers).map_err(|e| match e {
            Error::Config { message, .. } => D::Error::custom(message),
            other => D::Error::custom(other.to_string()),
        })?;
        Ok(NetTable { layers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(text: &str) -> Result<NetLayers> {
        NetTable::from_text(text, "net.toml").map(|t| t.layers)
    }

    const EVERY_OP: &str = r#"
[net]
layers = [
  { conv = { out = "2h", k = 3, stride = 2, bias = true }, name = "stem" }, "phi",
  { depthwise = 5 }, "phi",
  { depthwise = { k = 3, stride = 2 } },
  { pointwise = 16 },
  { residual = [{ pointwise = { out = 16, bias = true } }, "phi"] }, "phi",
  "maxpool",
  { maxpool = 2 },
  { block = "inverted-residual", out = "h", k = 5, stride = 2 },
  "global-mean",
  { dense = { out = "32h", bias = true } },
  { dense = 1 },
]
"#;

    #[test]
    fn every_op_parses_and_its_canonical_form_reads_back_the_same() {
        let net = layers(EVERY_OP).unwrap();
        assert_eq!(net.0.len(), 14);
        assert_eq!(
            net.0[0],
            LayerSpec::Conv {
                out: Size::Width(2),
                k: 3,
                stride: 2,
                bias: true,
                name: Some("stem".into())
            }
        );
        assert_eq!(
            net.0[2],
            LayerSpec::Depthwise {
                k: 5,
                stride: 1,
                name: None
            }
        );
        assert_eq!(
            net.0[10],
            LayerSpec::InvertedResidual {
                out: Size::Width(1),
                k: 5,
                stride: 2,
                expand: 3,
                name: None
            }
        );
        assert!(net.uses_width());
        // The canonical form (what a result records and a run id hashes) reads back the same.
        let table = NetTable { layers: net };
        let json = serde_json::to_string(&table).unwrap();
        let back: NetTable = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table);
        let toml_text = toml::to_string(&toml::Value::try_from(&table).unwrap()).unwrap();
        let back: NetTable = toml::from_str(&toml_text).unwrap();
        assert_eq!(back, table);
        // Sizes that never mention h leave the width out of the net.
        let fixed = layers("layers = [{ dense = 8 }, \"phi\", { dense = 1 }]").unwrap();
        assert!(!fixed.uses_width());
    }

    #[test]
    fn bad_lists_name_the_layer_and_the_fix() {
        let cases = [
            ("layers = []", "layers is empty"),
            ("layers = 3", "layers must be a list"),
            ("layers = [\"relu\"]", "layer 1: unknown layer \"relu\""),
            (
                "layers = [{ convv = { out = 2, k = 3 } }]",
                "layer 1: unknown op `convv`",
            ),
            (
                "layers = [\"phi\", { conv = { out = 2 } }]",
                "layer 2: conv needs k",
            ),
            (
                "layers = [{ conv = { out = 2, k = 3, pad = 1 } }]",
                "conv has no argument `pad`",
            ),
            (
                "layers = [{ conv = { out = \"2x\", k = 3 } }]",
                "conv out: must be a whole number",
            ),
            (
                "layers = [{ conv = { out = 0, k = 3 } }]",
                "conv out: must be a whole number from 1",
            ),
            (
                "layers = [{ dense = 1, pointwise = 2 }]",
                "holds one op (conv, pointwise",
            ),
            (
                "layers = [{ maxpool = 3 }]",
                "the max-pool is 2x2 with stride 2",
            ),
            (
                "layers = [{ residual = [] }]",
                "the residual branch is empty",
            ),
            (
                "layers = [{ residual = [\"phi\", 7] }]",
                "layer 1.2: integer is not a layer",
            ),
            (
                "layers = [{ block = \"bottleneck\", out = 2, k = 3 }]",
                "unknown block",
            ),
            (
                "layers = [{ dense = { out = 1, bias = 1 } }]",
                "bias must be true or false",
            ),
            (
                "layers = [{ maxpool = 2, name = \"p\" }]",
                "maxpool has no parameters to name",
            ),
            (
                "[net]\nlayers = [{ dense = 1 }]\nwidth = 3",
                "unknown key `width` in [net]",
            ),
            (
                "model = \"net\"\nlayers = [{ dense = 1 }]",
                "a net file holds a [net] table",
            ),
            (
                "[net]\nlayer = [{ dense = 1 }]",
                "unknown key `layer` in [net]",
            ),
        ];
        for (text, says) in cases {
            let e = layers(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
            assert!(e.contains("net.toml") && !e.contains('\n'), "{e}");
        }
    }
}
