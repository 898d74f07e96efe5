//! The configuration of one run (method §1–3): every parameter that determines its result.
//!
//! A run is a pure function of its [`RunConfig`]: the same config gives a bit-identical result
//! on the same kind of CPU, whatever else runs beside it. [`RunConfig::normalized`] fills
//! defaults and clears fields that do not apply (e.g. `depth` for the perceptron), so that two
//! descriptions of the same run compare equal; [`RunConfig::validated`] does that and every
//! check once and gives the [`ValidConfig`] that training takes (`valid.rs`).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

mod memory;
pub mod net;
pub mod trainer;
mod valid;
pub use valid::{DataSpec, NetSpec, Seeds, ValidConfig};

/// Network architecture (method §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// Linear model `F = w.x / sqrt(d)`, `w0 = 0`.
    Perceptron,
    /// Fully connected net: `depth` hidden layers of `width` units, normalized ReLU, no biases.
    Fc,
    /// Two 5x5 conv + max-pool blocks (`width`, `2 width` channels), dense to `32 width`, readout.
    SimpleCnn,
    /// MnasNet-like net of width `width`: stem, four inverted-residual blocks, head, mean pool.
    Mnas,
    /// A net given as a list of layers: the `[net]` table (or `--net FILE`), sizes in units of
    /// `width`.
    Net,
}

impl ModelKind {
    /// Convolutional nets need image inputs.
    pub fn is_convolutional(self) -> bool {
        matches!(self, ModelKind::SimpleCnn | ModelKind::Mnas)
    }
}

/// Data set (method §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Synthetic: `x_1` with density `|x_1|^chi exp(-x_1^2/2)`, other coordinates N(0,1), `y = sign(x_1)`.
    DepletedSign,
    /// MNIST digits, `y = +1` for even digits and `-1` for odd ones.
    MnistParity,
    /// CIFAR-10 images, `y = -1` for vehicles (classes 0, 1, 8, 9) and `+1` for animals.
    CifarAnimals,
    /// Images in the IDX layout of MNIST (Fashion-MNIST, KMNIST, EMNIST, ...) in `data_dir`,
    /// `y = +1` for the classes in `positive`.
    Idx,
    /// CIFAR-10 binary files in `data_dir`, `y = +1` for the classes in `positive`.
    Cifar10,
    /// NumPy arrays (`.npz` file or directory of `.npy` files) at `data_dir`, `y = +1` for
    /// the classes in `positive`.
    Numpy,
}

impl DatasetKind {
    /// Image data sets (as opposed to vectors).
    pub fn is_image(self) -> bool {
        !matches!(self, DatasetKind::DepletedSign)
    }

    /// The environment variable that gives `train` its default `data_dir` for this data set
    /// (`data fetch` prints it too).
    pub fn data_dir_env(self) -> Option<&'static str> {
        match self {
            DatasetKind::MnistParity => Some("SGD_REGIMES_DATA"),
            DatasetKind::CifarAnimals => Some("SGD_REGIMES_CIFAR10"),
            _ => None,
        }
    }

    /// Data sets whose `+1` classes the config chooses (`positive`).
    pub fn takes_label_map(self) -> bool {
        matches!(
            self,
            DatasetKind::Idx | DatasetKind::Cifar10 | DatasetKind::Numpy
        )
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModelKind::Perceptron => "perceptron",
            ModelKind::Fc => "fc",
            ModelKind::SimpleCnn => "simple-cnn",
            ModelKind::Mnas => "mnas",
            ModelKind::Net => "net",
        })
    }
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatasetKind::DepletedSign => "depleted-sign",
            DatasetKind::MnistParity => "mnist-parity",
            DatasetKind::CifarAnimals => "cifar-animals",
            DatasetKind::Idx => "idx",
            DatasetKind::Cifar10 => "cifar10",
            DatasetKind::Numpy => "numpy",
        })
    }
}

/// The nonlinearity of the hidden layers (method §2), normalized so that `E[phi(g)^2] = 1`; its
/// forward/backward pair is in `model/activation.rs`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `sqrt(2) max(z, 0)`.
    #[default]
    Relu,
    /// Gaussian error linear unit (tanh form, as `jax.nn.gelu`), normalized.
    Gelu,
    /// Sigmoid linear unit `z sigmoid(z)`, normalized.
    Silu,
}

/// The loss a run minimises (method §1, §6).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// `(1/alpha - y F)^+`: the run stops by itself when every training point is fitted.
    #[default]
    Hinge,
    /// `log(1 + exp(-alpha y F)) / alpha`, stopped early on the test error (method §6).
    CrossEntropy,
}

/// How the weights move (method §1, §6).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Dynamics {
    /// SGD: `B` distinct points per step.
    #[default]
    Sgd,
    /// Gradient descent: SGD with `B = P` (the config's `batch` is set to `p`).
    Gd,
    /// The full-batch gradient plus Gaussian noise with the covariance of the mini-batch
    /// gradient of SGD at the same `eta` and `B`, one Euler-Maruyama step of `dt = eta` per step.
    Sde,
}

impl fmt::Display for Dynamics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dynamics::Sgd => "sgd",
            Dynamics::Gd => "gd",
            Dynamics::Sde => "sde",
        })
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::Hinge => "hinge",
            Loss::CrossEntropy => "cross-entropy",
        })
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
            Activation::Silu => "silu",
        })
    }
}

/// The regime an experiment is in (method §5): a property of the experiment, declared by the
/// sweep file's `[analysis] regime` or `analyze --regime`, not guessed from the data. The two
/// regimes define the characteristic temperature `T_c` differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Regime {
    /// Large alpha: the net stays near its linearization; `T_c` where `dw = O(1)`, `a = gamma/delta`.
    Lazy,
    /// Small alpha: `T_c` at the crossover from the low-T plateau `dw ~ P^zeta` to the noise
    /// branch, `a = (gamma - zeta)/delta`.
    Feature,
}

impl Regime {
    /// The regime by the default rule when none is declared: alpha <= 1 is feature learning,
    /// larger alpha lazy. The perceptron (linear in its weights) is always lazy.
    pub fn by_rule(model: ModelKind, alpha: f64) -> Regime {
        if model != ModelKind::Perceptron && alpha <= 1.0 {
            Regime::Feature
        } else {
            Regime::Lazy
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Regime::Lazy => "lazy",
            Regime::Feature => "feature",
        }
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const DEFAULT_DEPTH: usize = 5;
pub const DEFAULT_WIDTH: usize = 64;
/// Default width `h` of `simple-cnn` and `mnas` (the width of the issue #5 benchmarks).
pub const DEFAULT_CNN_WIDTH: usize = 8;
/// Default width `h` of a `net` whose sizes are multiples of it.
pub const DEFAULT_NET_WIDTH: usize = 1;
pub const DEFAULT_DIM: usize = 128;
pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;
pub const DEFAULT_CHECKPOINTS_PER_DECADE: u32 = 4;

/// The largest wall budget a run takes, in seconds (about 30 years).
pub const MAX_WALL_S: f64 = 1e9;

/// One run. Field names are those of the TOML config and of the `config` object of the result
/// JSON; the CLI flags are the same names in kebab-case (`p_test` is `--p-test`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub model: ModelKind,
    pub dataset: DatasetKind,
    /// Training-set size `P`.
    #[serde(alias = "ptr")]
    pub p: usize,
    /// Test-set size.
    #[serde(alias = "pte")]
    pub p_test: usize,
    /// Initialization scale: the hinge margin is `1/alpha` (method §1).
    pub alpha: f64,
    /// SGD temperature `T = eta / B`. Exactly one of `temperature` and `lr` is set.
    pub temperature: Option<f64>,
    /// Learning rate `eta` (time advances by `eta` per step).
    #[serde(alias = "dt")]
    pub lr: Option<f64>,
    /// Mini-batch size `B` (`B = P` is gradient descent).
    #[serde(alias = "bs")]
    pub batch: usize,
    /// The loss (default hinge). Unset in a normalized hinge config, so hinge runs keep the
    /// ids they had before the loss could be chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<Loss>,
    /// The dynamics (default sgd). `gd` normalizes to sgd with `batch = p` (the same run);
    /// unset in a normalized sgd config, so sgd runs keep their ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamics: Option<Dynamics>,
    /// Hidden layers of `fc` (default 5); unset for models without it.
    pub depth: Option<usize>,
    /// Hidden-layer nonlinearity of `fc`, `simple-cnn` and `mnas` (default relu); unset for the
    /// perceptron.
    pub activation: Option<Activation>,
    /// Width `h` of `fc` (default 64), `simple-cnn` and `mnas` (default 8), and of a `net`
    /// whose layer sizes are multiples of it (default 1); unset for the perceptron and for a
    /// `net` with fixed sizes only.
    pub width: Option<usize>,
    /// The layers of `model = "net"` (method §2.5): `[net] layers = [...]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net: Option<net::NetTable>,
    /// Input dimension `d` of `depleted-sign` (default 128); unset for image data.
    pub dim: Option<usize>,
    /// Density exponent `chi` of `depleted-sign` near the boundary (default 0, Gaussian).
    pub chi: Option<f64>,
    /// Directory with the data files: MNIST IDX files (unset: the 10,000 digits bundled in the
    /// binary), the CIFAR-10 binary files (required for `cifar-animals` and `cifar10`), any IDX
    /// image set (`idx`), or a `.npz` file or `.npy` directory (`numpy`).
    pub data_dir: Option<String>,
    /// The classes labelled `+1` (method §3) of `idx`, `cifar10` and `numpy`, e.g. `[0, 2, 4, 6,
    /// 8]`; stored sorted without repeats. Unset for the paper's data sets, whose maps are fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive: Option<Vec<i64>>,
    pub seed_init: u64,
    pub seed_batch: u64,
    pub seed_train: u64,
    pub seed_test: u64,
    /// Stop with status `budget` after this many SGD steps (default 10^7).
    pub max_steps: Option<u64>,
    /// Stop with status `budget` after this many seconds of wall time (makes the result depend
    /// on the machine's speed; unset by default).
    pub max_wall: Option<f64>,
    /// Trajectory density: observables at this many log-spaced steps per decade (0: none).
    pub checkpoints_per_decade: Option<u32>,
    /// Opt-in only, off by default and never set by a preset: also call a run diverged when its
    /// training loss exceeds this multiple of its initial value `1/alpha`. Without it a run
    /// diverges only when its loss, outputs or weights become non-finite (method §1): in the lazy
    /// regime the loss transiently exceeds any fixed multiple at temperatures that converge.
    pub divergence_factor: Option<f64>,
    /// An external trainer (the sweep file's `[trainer]` table, docs/external-trainer.md):
    /// the command that trains this run instead of the built-in trainer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trainer: Option<trainer::ExternalTrainer>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            model: ModelKind::Fc,
            dataset: DatasetKind::MnistParity,
            p: 1024,
            p_test: 2048,
            alpha: 1.0,
            temperature: None,
            lr: None,
            batch: 16,
            loss: None,
            dynamics: None,
            depth: None,
            activation: None,
            width: None,
            net: None,
            dim: None,
            chi: None,
            data_dir: None,
            positive: None,
            seed_init: 0,
            seed_batch: 0,
            seed_train: 0,
            seed_test: 0,
            max_steps: None,
            max_wall: None,
            checkpoints_per_decade: None,
            divergence_factor: None,
            trainer: None,
        }
    }
}

/// `path` made absolute against the working directory, `..` and `.` removed where the path
/// exists (canonical, symbolic links resolved), kept as given otherwise: where a relative
/// `data_dir` points, whatever directory a command later starts in.
pub fn absolute_path(path: &std::path::Path) -> String {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn positive_finite(field: &'static str, value: f64, why: &str) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::field(
            field,
            format!("{field} must be a positive finite number (got {value}); {why}"),
        ))
    }
}

impl RunConfig {
    /// Parse a TOML run config. Errors name the file, line and field.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| toml_error(&e, text, origin))
    }

    /// Defaults filled, fields that do not apply to this model/data set cleared, then validated.
    pub fn normalized(&self) -> Result<Self> {
        let mut c = self.clone();
        match c.model {
            ModelKind::Fc => {
                c.depth.get_or_insert(DEFAULT_DEPTH);
                c.width.get_or_insert(DEFAULT_WIDTH);
                c.activation.get_or_insert_default();
            }
            ModelKind::SimpleCnn | ModelKind::Mnas => {
                c.depth = None;
                c.width.get_or_insert(DEFAULT_CNN_WIDTH);
                c.activation.get_or_insert_default();
            }
            ModelKind::Perceptron => {
                c.depth = None;
                c.width = None;
                c.activation = None;
            }
            ModelKind::Net => {
                c.depth = None;
                c.activation.get_or_insert_default();
                match &c.net {
                    Some(n) if n.layers.uses_width() => {
                        c.width.get_or_insert(DEFAULT_NET_WIDTH);
                    }
                    _ => c.width = None,
                }
            }
        }
        if c.model != ModelKind::Net && c.net.is_some() {
            return Err(Error::config(format!(
                "a [net] table needs model = \"net\" (this run is model {}); remove [net] or set model = \"net\"",
                c.model
            )));
        }
        if c.model == ModelKind::Net && c.net.is_none() {
            return Err(Error::config(
                "model net needs its layers: a [net] table with layers = [...] (or --net FILE)",
            ));
        }
        match c.dataset {
            DatasetKind::DepletedSign => {
                c.dim.get_or_insert(DEFAULT_DIM);
                c.chi.get_or_insert(0.0);
                c.data_dir = None;
            }
            _ => {
                c.dim = None;
                c.chi = None;
            }
        }
        if let Some(positive) = &mut c.positive {
            positive.sort_unstable();
            positive.dedup();
        }
        if c.loss == Some(Loss::Hinge) {
            c.loss = None;
        }
        match c.dynamics {
            Some(Dynamics::Sgd) => c.dynamics = None,
            Some(Dynamics::Gd) => {
                c.dynamics = None;
                c.batch = c.p;
            }
            Some(Dynamics::Sde) | None => {}
        }
        c.max_steps.get_or_insert(DEFAULT_MAX_STEPS);
        c.checkpoints_per_decade
            .get_or_insert(DEFAULT_CHECKPOINTS_PER_DECADE);
        c.validate()?;
        Ok(c)
    }

    /// Whether the field called `name` was dropped by normalization (it does not apply to
    /// this run's model or data set); `false` for fields that are never dropped.
    pub fn is_unset(&self, name: &str) -> bool {
        match name {
            "depth" => self.depth.is_none(),
            "width" => self.width.is_none(),
            "activation" => self.activation.is_none(),
            "dim" => self.dim.is_none(),
            "chi" => self.chi.is_none(),
            "data_dir" => self.data_dir.is_none(),
            "positive" => self.positive.is_none(),
            _ => false,
        }
    }

    /// Check every field; the first problem found is returned as a one-line message.
    pub fn validate(&self) -> Result<()> {
        positive_finite("alpha", self.alpha, "the hinge margin is 1/alpha")?;
        // A subnormal alpha has no finite margin (issue #23, case 14: 1e-320 was accepted).
        if !(1.0 / self.alpha).is_finite() || !self.alpha.is_finite() {
            return Err(Error::field(
                "alpha",
                format!(
                    "alpha = {:e} is too small: the hinge margin 1/alpha is not a finite number; use alpha >= 1e-300",
                    self.alpha
                ),
            ));
        }
        match (self.temperature, self.lr) {
            (Some(_), Some(_)) => {
                return Err(Error::field(
                    "temperature",
                    "both temperature and lr are set; give exactly one (T = lr / batch)",
                ));
            }
            (None, None) => {
                return Err(Error::field(
                    "temperature",
                    "neither temperature nor lr is set; give exactly one, e.g. --temperature 0.001 or --lr 0.016",
                ));
            }
            (Some(t), None) => positive_finite("temperature", t, "T = lr / batch")?,
            (None, Some(lr)) => positive_finite("lr", lr, "it is the SGD step size eta")?,
        }
        if self.p == 0 {
            return Err(Error::field(
                "p",
                "p must be at least 1 (the training-set size)",
            ));
        }
        if self.p_test == 0 {
            return Err(Error::field(
                "p_test",
                "p_test must be at least 1 (the test-set size)",
            ));
        }
        if self.batch == 0 {
            return Err(Error::field("batch", "batch must be at least 1"));
        }
        if self.batch > self.p {
            return Err(Error::field(
                "batch",
                format!(
                    "batch ({}) exceeds p ({}): each step draws batch distinct training points; use batch <= p (batch = p is gradient descent)",
                    self.batch, self.p
                ),
            ));
        }
        if self.model.is_convolutional() && !self.dataset.is_image() {
            return Err(Error::field(
                "model",
                format!(
                    "model {} needs images; use dataset mnist-parity or cifar-animals (or model fc / perceptron for {})",
                    self.model, self.dataset
                ),
            ));
        }
        if self.dataset == DatasetKind::CifarAnimals && self.data_dir.is_none() {
            return Err(Error::field(
                "data_dir",
                "dataset cifar-animals needs data_dir (--data-dir): the directory of the CIFAR-10 binary files; `sgd-regimes data fetch cifar10` downloads them",
            ));
        }
        if self.dataset.takes_label_map() {
            let what = match self.dataset {
                DatasetKind::Idx => "the directory of the IDX files",
                DatasetKind::Cifar10 => "the directory of the CIFAR-10 binary files",
                _ => "a .npz file or a directory of .npy files",
            };
            if self.data_dir.is_none() {
                return Err(Error::field(
                    "data_dir",
                    format!(
                        "dataset {} needs data_dir (--data-dir): {what}",
                        self.dataset
                    ),
                ));
            }
            match &self.positive {
                None => {
                    return Err(Error::field(
                        "positive",
                        format!(
                            "dataset {} needs positive (--positive): the classes labelled +1, e.g. positive = [0, 2, 4, 6, 8]",
                            self.dataset
                        ),
                    ));
                }
                Some(p) if p.is_empty() => {
                    return Err(Error::field(
                        "positive",
                        "positive is empty; list the classes labelled +1, e.g. positive = [0, 2, 4, 6, 8]",
                    ));
                }
                Some(_) => {}
            }
        } else if self.positive.is_some() {
            return Err(Error::field(
                "positive",
                format!(
                    "positive applies to datasets idx, cifar10 and numpy; {}'s labels are fixed (use dataset idx or cifar10 with data_dir to choose the +1 classes)",
                    self.dataset
                ),
            ));
        }
        if self.depth == Some(0) {
            return Err(Error::field(
                "depth",
                "depth must be at least 1 hidden layer",
            ));
        }
        if self.width == Some(0) {
            return Err(Error::field("width", "width must be at least 1"));
        }
        if self.dim == Some(0) {
            return Err(Error::field("dim", "dim must be at least 1"));
        }
        if let Some(chi) = self.chi
            && !(chi.is_finite() && chi > -1.0)
        {
            return Err(Error::field(
                "chi",
                format!(
                    "chi must be a finite number > -1 (got {chi}); the density |x_1|^chi must be integrable"
                ),
            ));
        }
        if self.max_steps == Some(0) {
            return Err(Error::field("max_steps", "max_steps must be at least 1"));
        }
        if let Some(w) = self.max_wall {
            positive_finite("max_wall", w, "it is a wall-time budget in seconds")?;
            if w > MAX_WALL_S {
                return Err(Error::field(
                    "max_wall",
                    format!(
                        "max_wall must be at most {MAX_WALL_S:e} seconds (about 30 years; got {w}); leave it out for no wall budget"
                    ),
                ));
            }
        }
        if let Some(c) = self.checkpoints_per_decade
            && c > 100
        {
            return Err(Error::field(
                "checkpoints_per_decade",
                format!("checkpoints_per_decade must be at most 100 (got {c})"),
            ));
        }
        if let Some(f) = self.divergence_factor
            && !(f.is_finite() && f > 1.0)
        {
            return Err(Error::field(
                "divergence_factor",
                format!("divergence_factor must be a finite number > 1 (got {f})"),
            ));
        }
        if let Some(t) = &self.trainer {
            t.validate().map_err(|m| Error::field("trainer", m))?;
        }
        Ok(())
    }

    /// Shape `[height, width, channels]` of one input (`[1, 1, d]` for vectors), as far as the
    /// config knows it: the shape of an `idx` or `numpy` set is in its files, and MNIST's is
    /// taken for it here (for ordering runs by cost only).
    pub fn input_shape(&self) -> [usize; 3] {
        match self.dataset {
            DatasetKind::MnistParity | DatasetKind::Idx | DatasetKind::Numpy => [28, 28, 1],
            DatasetKind::CifarAnimals | DatasetKind::Cifar10 => [32, 32, 3],
            DatasetKind::DepletedSign => [1, 1, self.dim.unwrap_or(DEFAULT_DIM)],
        }
    }

    /// The architecture in a few words: `fc L=5 h=64`, `mnas h=8`, `perceptron`.
    pub fn model_label(&self) -> String {
        let h = self.width.unwrap_or(0);
        // relu is the default and stays unnamed, so labels of relu nets read as before.
        let act = match self.activation {
            Some(a) if a != Activation::Relu => format!(" {a}"),
            _ => String::new(),
        };
        match self.model {
            ModelKind::Fc => format!("fc L={} h={h}{act}", self.depth.unwrap_or(0)),
            ModelKind::SimpleCnn | ModelKind::Mnas => format!("{} h={h}{act}", self.model),
            // Two nets with as many layers are told apart by a digest of their lists.
            ModelKind::Net => {
                let (n, digest) = self.net.as_ref().map_or((0, String::new()), |n| {
                    (n.layers.0.len(), format!(" {}", n.digest()))
                });
                match self.width {
                    Some(h) => format!("net{digest} ({n} layers) h={h}{act}"),
                    None => format!("net{digest} ({n} layers){act}"),
                }
            }
            ModelKind::Perceptron => "perceptron".to_string(),
        }
    }

    /// Learning rate `eta`, from `lr` or `temperature * batch`.
    pub fn learning_rate(&self) -> f64 {
        match (self.lr, self.temperature) {
            (Some(lr), _) => lr,
            (None, Some(t)) => t * self.batch as f64,
            (None, None) => f64::NAN,
        }
    }

    /// Temperature `T = eta / B`.
    pub fn temperature_value(&self) -> f64 {
        match (self.temperature, self.lr) {
            (Some(t), _) => t,
            (None, Some(lr)) => lr / self.batch as f64,
            (None, None) => f64::NAN,
        }
    }

    /// The hinge margin `1/alpha`.
    pub fn margin(&self) -> f64 {
        1.0 / self.alpha
    }
}

/// A TOML error as one line: `file:line:column: message`.
pub fn toml_error(e: &toml::de::Error, text: &str, origin: &str) -> Error {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            Error::config(format!("{origin}:{line}:{column}: {message}"))
        }
        None => Error::config(format!("{origin}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> RunConfig {
        RunConfig {
            lr: Some(0.01),
            ..RunConfig::default()
        }
    }

    fn err(c: RunConfig) -> String {
        c.normalized().unwrap_err().to_string()
    }

    #[test]
    fn normalization_fills_and_clears() {
        let c = base().normalized().unwrap();
        assert_eq!(
            (c.depth, c.width, c.dim, c.chi),
            (Some(5), Some(64), None, None)
        );
        let p = RunConfig {
            model: ModelKind::Perceptron,
            dataset: DatasetKind::DepletedSign,
            depth: Some(3),
            data_dir: Some("x".into()),
            ..base()
        }
        .normalized()
        .unwrap();
        assert_eq!(
            (p.depth, p.dim, p.chi, p.data_dir),
            (None, Some(128), Some(0.0), None)
        );
        assert_eq!(p.max_steps, Some(DEFAULT_MAX_STEPS));
    }

    #[test]
    fn invalid_values_name_the_field() {
        let e = err(RunConfig {
            alpha: 0.0,
            ..base()
        });
        assert!(e.contains("alpha") && e.contains("positive"), "{e}");
        let e = err(RunConfig {
            alpha: -2.0,
            ..base()
        });
        assert!(e.contains("alpha"), "{e}");
        let e = err(RunConfig {
            batch: 2048,
            ..base()
        });
        assert!(e.contains("batch (2048) exceeds p (1024)"), "{e}");
        let e = err(RunConfig {
            temperature: Some(0.1),
            ..base()
        });
        assert!(e.contains("both temperature and lr"), "{e}");
        let e = err(RunConfig { lr: None, ..base() });
        assert!(e.contains("neither temperature nor lr"), "{e}");
        let e = err(RunConfig {
            chi: Some(-1.0),
            dataset: DatasetKind::DepletedSign,
            ..base()
        });
        assert!(e.contains("chi"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn temperature_and_lr_convert() {
        let c = RunConfig {
            lr: None,
            temperature: Some(0.001),
            batch: 16,
            ..base()
        };
        assert_eq!(c.learning_rate(), 0.016);
        let c = RunConfig {
            lr: Some(0.016),
            batch: 16,
            ..base()
        };
        assert_eq!(c.temperature_value(), 0.001);
    }

    #[test]
    fn toml_errors_give_line_and_field() {
        let text = "model = \"fc\"\ndataset = \"mnist-parity\"\np = 10\np_test = 10\nalfa = 2\n";
        let e = RunConfig::from_toml(text, "run.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("run.toml:5:1") && e.contains("alfa"), "{e}");
        let text = "model = \"resnet\"\n";
        let e = RunConfig::from_toml(text, "run.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("run.toml:1") && e.contains("resnet"), "{e}");
    }

    #[test]
    fn toml_accepts_author_aliases() {
        let text = "model = \"fc\"\ndataset = \"mnist-parity\"\nptr = 10\npte = 20\nbs = 5\ndt = 0.1\nalpha = 3.0\n";
        let c = RunConfig::from_toml(text, "run.toml").unwrap();
        assert_eq!((c.p, c.p_test, c.batch, c.lr), (10, 20, 5, Some(0.1)));
    }
}
