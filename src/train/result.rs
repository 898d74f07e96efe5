//! The result of one run, as written to its JSON file. The schema is documented in
//! `docs/result-schema.md`; bump [`SCHEMA`] on any incompatible change.

use crate::config::RunConfig;
use serde::{Deserialize, Serialize};

/// Identifies the layout of a result file.
pub const SCHEMA: &str = "sgd-regimes/run/2";

/// How a run ended (method §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The training loss reached exactly zero at `t*`.
    Converged,
    /// The loss, the network output or the weights became non-finite (or, if the config opts
    /// in, the loss exceeded `divergence_factor` times its initial value).
    Diverged,
    /// Every unfitted point has an exactly zero gradient (all ReLUs on its way dead): no step can
    /// change the weights again, so the run can never converge.
    Stalled,
    /// `max_steps` or `max_wall` ran out first.
    Budget,
}

impl Status {
    /// Every status, in the order tables list them.
    pub const ALL: [Status; 4] = [
        Status::Converged,
        Status::Diverged,
        Status::Stalled,
        Status::Budget,
    ];

    /// The name used in JSON, tables and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Converged => "converged",
            Status::Diverged => "diverged",
            Status::Stalled => "stalled",
            Status::Budget => "budget",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Non-finite floats are written as JSON `null` and read back as NaN.
pub mod json_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// Weight statistics of one parameter segment (a layer) or of the whole net.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerObservables {
    pub name: String,
    /// `|w|`.
    #[serde(with = "json_f64")]
    pub weight_norm: f64,
    /// `|w - w0|`.
    #[serde(with = "json_f64")]
    pub weight_distance: f64,
    /// Relative weight change `dw = |w - w0| / |w0|` (NaN/null when `w0 = 0`, as for the perceptron).
    #[serde(with = "json_f64")]
    pub weight_change: f64,
}

/// The state of a run at one time (method §1, observables).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observables {
    /// Time `t = step * eta`.
    pub t: f64,
    /// SGD steps taken.
    pub step: u64,
    /// `(1/P) sum (1/alpha - y F)^+`.
    #[serde(with = "json_f64")]
    pub train_loss: f64,
    /// Fraction of training points with `y F <= 0` (non-finite counts as an error).
    #[serde(with = "json_f64")]
    pub train_error: f64,
    /// Training points with `y F < 1/alpha`.
    pub unfitted: usize,
    #[serde(with = "json_f64")]
    pub test_loss: f64,
    #[serde(with = "json_f64")]
    pub test_error: f64,
    /// `|w|` over all parameters.
    #[serde(with = "json_f64")]
    pub weight_norm: f64,
    /// `|w - w0|` over all parameters.
    #[serde(with = "json_f64")]
    pub weight_distance: f64,
    /// `dw = |w - w0| / |w0|` over all parameters (null when `w0 = 0`).
    #[serde(with = "json_f64")]
    pub weight_change: f64,
    /// Perceptron: `w_1`, the weight on the informative coordinate (null for other models).
    pub w_1: Option<f64>,
    /// Perceptron: `|w_perp|`, the norm of the other weights (null for other models).
    pub w_perp: Option<f64>,
    /// The same weight statistics per parameter segment.
    pub layers: Vec<LayerObservables>,
    /// Further observables an external trainer reported (docs/external-trainer.md), finite
    /// numbers by name; `collect` gives each a column. Empty for the built-in trainer.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub extra: std::collections::BTreeMap<String, f64>,
}

/// Quantities that follow from the config, written out so a reader need not recompute them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// `T = eta / B`.
    pub temperature: f64,
    /// `eta`.
    pub lr: f64,
    /// `1/alpha`.
    pub margin: f64,
    pub n_params: usize,
    /// Shape of one input, `[height, width, channels]`.
    pub input_shape: [usize; 3],
    pub data_source: String,
    /// The data files read, each with its size and SHA-256 (method §4, "Data identity");
    /// absent for the bundled digits and the synthetic sets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_files: Vec<crate::data::fingerprint::DataFile>,
}

/// Work counters: deterministic for a given config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Steps simulated, including those after `t*` before convergence was seen.
    pub steps_simulated: u64,
    /// Steps that changed the weights.
    pub updates: u64,
    /// Steps whose batch was known to be fitted, so no forward pass was needed.
    pub skipped_steps: u64,
    /// Checks of the full training set for zero loss (trajectory points are not counted).
    pub checks: u64,
    /// Points evaluated by those checks (only points not known at the current weights are).
    pub check_points: u64,
}

/// Wall-clock times in seconds: the only fields that differ between two runs of one config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub wall_s: f64,
    /// Loading or generating the data.
    pub data_s: f64,
    /// Checks of the training set for zero loss.
    pub check_s: f64,
    /// Trajectory and final observables (training- and test-set evaluations).
    pub observe_s: f64,
}

/// One run: its config, how it ended, its final observables and its trajectory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub schema: String,
    /// Version of sgd-regimes that produced it.
    pub version: String,
    /// The normalized config.
    pub config: RunConfig,
    pub derived: Derived,
    pub status: Status,
    /// Why the run ended, in words.
    pub status_detail: String,
    /// Observables at the end: at `t*` for a converged hinge run; for a cross-entropy run the
    /// epoch checkpoint of lowest test error (method §6).
    #[serde(rename = "final")]
    pub final_state: Observables,
    /// Cross-entropy runs: the observables where the run stopped (early stopping, budget),
    /// when they are not `final`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping_point: Option<Observables>,
    /// Observables at log-spaced steps (always step 0 and the final state).
    pub trajectory: Vec<Observables>,
    pub counters: Counters,
    pub timing: Timing,
    /// Set when the result was computed under another step budget and kept because that
    /// budget never fired (`sweep::adopt`): which run it was and where it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_from: Option<String>,
}

impl RunResult {
    /// Pretty JSON, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a run result always serializes");
        s.push('\n');
        s
    }
}
