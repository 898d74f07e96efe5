//! A run config checked once, at the edge (method §1–3): [`RunConfig::validated`] fills the
//! defaults, clears what does not apply, checks every field and hands the trainer, the models
//! and the data loaders concrete values, so none of them re-applies a default or normalizes
//! again.

use super::net::NetLayers;
use super::{Activation, DatasetKind, Dynamics, Loss, ModelKind, RunConfig};
use crate::data::labels::LabelMap;
use crate::error::Result;
use std::path::PathBuf;

/// The network of a run with every size it needs (method §2).
#[derive(Clone, Debug, PartialEq)]
pub enum NetSpec {
    Perceptron,
    Fc {
        depth: usize,
        width: usize,
        activation: Activation,
    },
    SimpleCnn {
        width: usize,
        activation: Activation,
    },
    Mnas {
        width: usize,
        activation: Activation,
    },
    /// A `[net]` layer list at width `width` (1 when no size is a multiple of it).
    Layers {
        layers: NetLayers,
        width: usize,
        activation: Activation,
    },
}

/// Where the points of a run come from (method §3).
#[derive(Clone, Debug, PartialEq)]
pub enum DataSpec {
    DepletedSign {
        dim: usize,
        chi: f64,
    },
    /// `dir: None` is the 10,000 digits bundled in the binary.
    MnistParity {
        dir: Option<PathBuf>,
    },
    CifarAnimals {
        dir: PathBuf,
    },
    /// `idx`, `cifar10` or `numpy` files with the config's label map.
    Labelled {
        kind: DatasetKind,
        dir: PathBuf,
        map: LabelMap,
    },
}

impl DataSpec {
    /// Shape `[height, width, channels]` of one input (`[1, 1, d]` for vectors), where the
    /// config fixes it; `None` for `idx` and `numpy`, whose files say.
    pub fn input_shape(&self) -> Option<[usize; 3]> {
        match self {
            DataSpec::MnistParity { .. } => Some([28, 28, 1]),
            DataSpec::CifarAnimals { .. } => Some([32, 32, 3]),
            DataSpec::Labelled { kind, .. } => {
                (*kind == DatasetKind::Cifar10).then_some([32, 32, 3])
            }
            DataSpec::DepletedSign { dim, .. } => Some([1, 1, *dim]),
        }
    }
}

/// The seeds of a run's four random streams (`rng::Stream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeds {
    pub init: u64,
    pub batch: u64,
    pub train: u64,
    pub test: u64,
}

/// A run config that passed every check, with concrete values (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct ValidConfig {
    /// The normalized config: what a result records and what a run id hashes.
    pub normalized: RunConfig,
    pub net: NetSpec,
    pub data: DataSpec,
    /// Shape of one input: the data set's, or (for `idx` and `numpy` before their files are
    /// read) `None`; [`ValidConfig::with_input_shape`] sets it once they are.
    pub input_shape: Option<[usize; 3]>,
    /// Training-set size `P`.
    pub p: usize,
    pub p_test: usize,
    /// Mini-batch size `B`.
    pub batch: usize,
    pub loss: Loss,
    /// `Sgd` or `Sde` (`Gd` is normalized to `Sgd` with `B = P`).
    pub dynamics: Dynamics,
    pub alpha: f64,
    /// `T = eta / B`.
    pub temperature: f64,
    /// `eta`: the time one step advances (method §1).
    pub learning_rate: f64,
    pub max_steps: u64,
    /// Wall-time budget in seconds.
    pub max_wall: Option<f64>,
    /// Trajectory points per decade of steps (0: no trajectory).
    pub checkpoints_per_decade: u32,
    pub divergence_factor: Option<f64>,
    pub seeds: Seeds,
}

impl ValidConfig {
    /// The hinge margin `1/alpha`.
    pub fn margin(&self) -> f64 {
        1.0 / self.alpha
    }

    /// The time after `step` steps, `step · eta` (method §1): the one place steps become time.
    pub fn time_at(&self, step: u64) -> f64 {
        step as f64 * self.learning_rate
    }
}

impl RunConfig {
    /// Normalize and check once; every later stage takes the result.
    pub fn validated(&self) -> Result<ValidConfig> {
        let n = self.normalized()?;
        // `normalized` sets exactly the fields that apply, so these are present.
        let activation = n.activation.unwrap_or_default();
        let width = n.width.unwrap_or_default();
        let net = match n.model {
            ModelKind::Perceptron => NetSpec::Perceptron,
            ModelKind::Fc => NetSpec::Fc {
                depth: n.depth.unwrap_or_default(),
                width,
                activation,
            },
            ModelKind::SimpleCnn => NetSpec::SimpleCnn { width, activation },
            ModelKind::Mnas => NetSpec::Mnas { width, activation },
            ModelKind::Net => NetSpec::Layers {
                layers: n
                    .net
                    .as_ref()
                    .map(|t| t.layers.clone())
                    .unwrap_or(NetLayers(Vec::new())),
                width: n.width.unwrap_or(1),
                activation,
            },
        };
        let data = match n.dataset {
            DatasetKind::DepletedSign => DataSpec::DepletedSign {
                dim: n.dim.unwrap_or_default(),
                chi: n.chi.unwrap_or_default(),
            },
            DatasetKind::MnistParity => DataSpec::MnistParity {
                dir: n.data_dir.as_ref().map(PathBuf::from),
            },
            DatasetKind::CifarAnimals => DataSpec::CifarAnimals {
                dir: PathBuf::from(n.data_dir.clone().unwrap_or_default()),
            },
            DatasetKind::Idx | DatasetKind::Cifar10 | DatasetKind::Numpy => DataSpec::Labelled {
                kind: n.dataset,
                dir: PathBuf::from(n.data_dir.clone().unwrap_or_default()),
                map: LabelMap::new(n.positive.as_deref().unwrap_or_default()),
            },
        };
        let valid = ValidConfig {
            net,
            input_shape: data.input_shape(),
            data,
            p: n.p,
            p_test: n.p_test,
            batch: n.batch,
            loss: n.loss.unwrap_or_default(),
            dynamics: n.dynamics.unwrap_or_default(),
            alpha: n.alpha,
            temperature: n.temperature_value(),
            learning_rate: n.learning_rate(),
            max_steps: n.max_steps.unwrap_or_default(),
            max_wall: n.max_wall,
            checkpoints_per_decade: n.checkpoints_per_decade.unwrap_or_default(),
            divergence_factor: n.divergence_factor,
            seeds: Seeds {
                init: n.seed_init,
                batch: n.seed_batch,
                train: n.seed_train,
                test: n.seed_test,
            },
            normalized: n,
        };
        if valid.input_shape.is_some() {
            valid.check_net_and_memory()?;
        }
        Ok(valid)
    }
}

impl ValidConfig {
    /// The config with the input shape its data files gave, its memory checked now that the
    /// shape is known (`idx` and `numpy`; a no-op check for the others, done at validation).
    pub fn with_input_shape(&self, shape: [usize; 3]) -> Result<ValidConfig> {
        let known = self.input_shape.is_some();
        let mut cfg = self.clone();
        cfg.input_shape = Some(shape);
        if !known {
            cfg.check_net_and_memory()?;
        }
        Ok(cfg)
    }

    /// A `[net]` list must build at this input shape (its error names the layer), and the run
    /// must fit in memory.
    fn check_net_and_memory(&self) -> Result<()> {
        if let Some(plan) = self.layer_plan() {
            plan?;
        }
        if let Some(physical) = super::memory::physical_memory() {
            self.check_memory(physical)?;
        }
        Ok(())
    }

    /// Shape `[height, width, channels]` of one input (MNIST's until the files of an `idx` or
    /// `numpy` set are read).
    pub fn shape(&self) -> [usize; 3] {
        self.input_shape.unwrap_or([28, 28, 1])
    }
}
