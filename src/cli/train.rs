//! `sgd-regimes train`: one run from flags and/or a TOML config.

use super::progress::RunSpinner;
use crate::config::{Activation, DatasetKind, Dynamics, Loss, ModelKind, RunConfig, ValidConfig};
use crate::error::Error;
use crate::train::{self, Options, result::RunResult};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Flags override the values of `--config`; run parameters left unset take their defaults.
#[derive(Args, Debug, Default)]
#[command(allow_negative_numbers = true)]
#[command(
    after_help = "Exactly one of --temperature and --lr is required (T = lr / batch).\n\
The result JSON (config, status, final observables, trajectory) is documented in docs/result-schema.md.\n\n\
Examples:\n  sgd-regimes train --model fc --dataset mnist-parity --p 1024 --p-test 2048 --alpha 32768 --lr 0.016 --batch 16\n  \
sgd-regimes train --model perceptron --dataset depleted-sign --dim 128 --chi 1 --p 1024 --p-test 8192 \\\n      --alpha 32768 --temperature 0.0078125 --batch 2 --out perceptron.json\n  \
sgd-regimes train --model mnas --dataset mnist-parity --p 256 --p-test 1024 --alpha 1 --temperature 0.005 --batch 16"
)]
pub struct TrainArgs {
    /// TOML file with run parameters (same names as the flags, with `_` for `-`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Network architecture [default: fc; net with --net].
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// Your own net: a TOML file with a [net] table of layers (docs/usage.md, "Your own net");
    /// sizes like "4h" are multiples of --width.
    #[arg(long, value_name = "FILE")]
    pub net: Option<PathBuf>,
    /// Data set [default: mnist-parity].
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetKind>,
    /// Training-set size P [default: 1024].
    #[arg(long, visible_alias = "ptr")]
    pub p: Option<usize>,
    /// Test-set size [default: 2048].
    #[arg(long, visible_alias = "pte")]
    pub p_test: Option<usize>,
    /// Initialization scale: margin 1/alpha; small = feature learning, large = lazy [default: 1].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// SGD temperature T = lr / batch.
    #[arg(long, short = 'T')]
    pub temperature: Option<f64>,
    /// Learning rate eta (time per step).
    #[arg(long, visible_alias = "dt")]
    pub lr: Option<f64>,
    /// Mini-batch size B (B = P is gradient descent) [default: 16].
    #[arg(long, visible_alias = "bs")]
    pub batch: Option<usize>,
    /// Loss: hinge with margin 1/alpha (the run stops when every training point is fitted) or
    /// cross-entropy log(1 + exp(-alpha y F))/alpha, stopped early: a checkpoint every epoch,
    /// stop once the training error is zero and the test error did not improve; the result
    /// reports the checkpoint of lowest test error [default: hinge].
    #[arg(long, value_enum)]
    pub loss: Option<Loss>,
    /// Dynamics: sgd (B distinct points per step), gd (gradient descent: B = P, --batch is
    /// ignored) or sde (the full-batch gradient plus Gaussian noise with SGD's mini-batch
    /// covariance at the same lr and B; one step of dt = lr per step, P points per step)
    /// [default: sgd].
    #[arg(long, value_enum)]
    pub dynamics: Option<Dynamics>,
    /// fc: number of hidden layers L [default: 5].
    #[arg(long)]
    pub depth: Option<usize>,
    /// fc: hidden width h [default: 64]; simple-cnn, mnas: width h (channels of the first
    /// layers) [default: 8].
    #[arg(long)]
    pub width: Option<usize>,
    /// fc, simple-cnn, mnas: hidden nonlinearity, each normalized so that E[phi(g)^2] = 1 for
    /// g ~ N(0,1) (relu is sqrt(2) max(z, 0); the paper's Fig. 1a uses gelu) [default: relu].
    #[arg(long, value_enum)]
    pub activation: Option<Activation>,
    /// depleted-sign: input dimension d [default: 128].
    #[arg(long)]
    pub dim: Option<usize>,
    /// depleted-sign: density exponent chi near the decision boundary (0 = Gaussian) [default: 0].
    #[arg(long)]
    pub chi: Option<f64>,
    /// mnist-parity: directory with the MNIST IDX files [default: $SGD_REGIMES_DATA, else the
    /// 10,000 digits bundled in the binary]. cifar-animals (required): directory with the
    /// CIFAR-10 binary files or cifar-10-binary.tar.gz [default: $SGD_REGIMES_CIFAR10]; get
    /// them with `sgd-regimes data fetch cifar10`. idx, cifar10 (required): the directory of
    /// any IDX image set (Fashion-MNIST, KMNIST, ...) or of the CIFAR-10 files. numpy
    /// (required): a .npz file or a directory of .npy files with arrays x and y.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// idx, cifar10, numpy: the classes labelled +1, comma-separated (e.g. 0,2,4,6,8); every
    /// other class is -1.
    #[arg(long, value_delimiter = ',', num_args = 1.., value_name = "CLASSES")]
    pub positive: Option<Vec<i64>>,
    /// Seed of the initial weights [default: 0].
    #[arg(long)]
    pub seed_init: Option<u64>,
    /// Seed of the mini-batch order [default: 0].
    #[arg(long)]
    pub seed_batch: Option<u64>,
    /// Seed of the training set [default: 0].
    #[arg(long)]
    pub seed_train: Option<u64>,
    /// Seed of the test set [default: 0].
    #[arg(long)]
    pub seed_test: Option<u64>,
    /// Stop with status `budget` after this many steps [default: 10000000].
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Stop with status `budget` after this many seconds (results then depend on machine speed).
    #[arg(long, value_name = "SECONDS")]
    pub max_wall: Option<f64>,
    /// Trajectory points per decade of steps (0: none) [default: 4].
    #[arg(long)]
    pub checkpoints_per_decade: Option<u32>,
    /// Opt-in, off by default: also end as `diverged` when the training loss exceeds this
    /// multiple of its initial value 1/alpha. Without it a run diverges only when its loss,
    /// outputs or weights become non-finite (the paper's rule; a fixed multiple would cut the
    /// lazy regime off where SGD noise starts to matter).
    #[arg(long)]
    pub divergence_factor: Option<f64>,
    /// Write the result JSON here (atomically).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the result JSON on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// No progress spinner.
    #[arg(long, short)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The run config, checked: `--config` file (if any), then the flags on top, then
    /// `$SGD_REGIMES_DATA`.
    pub fn to_config(&self) -> crate::Result<ValidConfig> {
        let mut c = match &self.config {
            Some(path) => {
                let text =
                    crate::io::read_text(path, crate::io::MAX_TEXT_FILE, "a run config (TOML)")?;
                let mut c = RunConfig::from_toml(&text, &path.display().to_string())?;
                // A relative data_dir in a file is read from the file's directory.
                if let Some(d) = &c.data_dir
                    && std::path::Path::new(d).is_relative()
                {
                    let dir = path.parent().unwrap_or(std::path::Path::new(""));
                    c.data_dir = Some(crate::config::absolute_path(&dir.join(d)));
                }
                c
            }
            None => RunConfig::default(),
        };
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = &self.$field { c.$field = v.clone(); } )* };
        }
        macro_rules! set_opt {
            ($($field:ident),*) => { $( if self.$field.is_some() { c.$field = self.$field.clone(); } )* };
        }
        set!(
            model, dataset, p, p_test, alpha, batch, seed_init, seed_batch, seed_train, seed_test
        );
        set_opt!(
            loss,
            dynamics,
            depth,
            activation,
            width,
            dim,
            chi,
            data_dir,
            positive,
            max_steps,
            max_wall,
            checkpoints_per_decade,
            divergence_factor
        );
        if let Some(path) = &self.net {
            if self.model.is_some_and(|m| m != ModelKind::Net) {
                return Err(Error::config(format!(
                    "--net gives the layers of model net, but --model is {}; drop one of them",
                    c.model
                )));
            }
            c.net = Some(crate::config::net::NetTable::from_file(path)?);
            c.model = ModelKind::Net;
        }
        // A flag for one of lr/temperature replaces the other one given in the file.
        if self.temperature.is_some() || self.lr.is_some() {
            c.temperature = self.temperature;
            c.lr = self.lr;
        }
        // Data directories from the environment (as `data fetch` suggests).
        if c.data_dir.is_none()
            && let Some(var) = c.dataset.data_dir_env()
            && let Ok(dir) = std::env::var(var)
            && !dir.is_empty()
        {
            // Named when wrong: the user may not remember setting it (issue #23, case 14).
            if !std::path::Path::new(&dir).is_dir() {
                return Err(Error::data(
                    &dir,
                    format!(
                        "not a data directory, taken from ${var}: fix ${var}, unset it, or pass --data-dir"
                    ),
                ));
            }
            c.data_dir = Some(dir);
        }
        refuse_inapplicable(&c)?;
        // The result records where the data was, whatever directory this ran in.
        if let Some(d) = &c.data_dir {
            c.data_dir = Some(crate::config::absolute_path(std::path::Path::new(d)));
        }
        c.validated()
    }
}

/// A size given for another model or data set would be dropped without a word (a sweep drops
/// them on purpose, for grids over models); for one run it is a mistake worth naming.
fn refuse_inapplicable(c: &RunConfig) -> crate::Result<()> {
    use crate::config::{DatasetKind, ModelKind};
    if c.trainer.is_some() {
        return Err(crate::Error::config(
            "this run names an external trainer ([trainer]); `sgd-regimes sweep run` runs it (docs/external-trainer.md)",
        ));
    }
    let depleted = c.dataset == DatasetKind::DepletedSign;
    let unused = [
        (
            "chi",
            c.chi.is_some() && !depleted,
            "--dataset depleted-sign",
        ),
        (
            "dim",
            c.dim.is_some() && !depleted,
            "--dataset depleted-sign",
        ),
        (
            "depth",
            c.depth.is_some() && c.model != ModelKind::Fc,
            "--model fc",
        ),
        (
            "width",
            c.width.is_some()
                && (c.model == ModelKind::Perceptron
                    || (c.model == ModelKind::Net
                        && !c.net.as_ref().is_some_and(|n| n.layers.uses_width()))),
            "--model fc, simple-cnn, mnas, or a net with sizes in units of h (\"4h\")",
        ),
        (
            "activation",
            c.activation.is_some() && c.model == ModelKind::Perceptron,
            "--model fc, simple-cnn, mnas or net",
        ),
        (
            "data-dir",
            c.data_dir.is_some() && depleted,
            "--dataset mnist-parity, cifar-animals, idx, cifar10 or numpy",
        ),
        (
            "positive",
            c.positive.is_some() && !c.dataset.takes_label_map(),
            "--dataset idx, cifar10 or numpy",
        ),
    ];
    match unused.iter().find(|(_, unused, _)| *unused) {
        Some((field, _, applies)) => Err(Error::config(format!(
            "--{field} applies only to {applies} (this run is {} on {}); remove it",
            c.model, c.dataset
        ))),
        None => Ok(()),
    }
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let cfg = args.to_config()?;
    // Refuse a destination we cannot write before training, not after.
    if let Some(out) = &args.out {
        crate::io::check_destination(out)?;
    }
    let mut spinner = RunSpinner::default();
    let mut report = |p: &train::Progress| spinner.update(p);
    let opts = Options {
        progress: if args.quiet { None } else { Some(&mut report) },
        ..Options::default()
    };
    let result = train::run_valid(&cfg, opts);
    spinner.finish();
    let result = result?;
    // The destination was checked, but a disk can fill while training: the result is printed
    // whatever happens to the file, and the file's failure said after it.
    let written = match &args.out {
        Some(out) => crate::io::write_atomic(out, result.to_json().as_bytes()),
        None => Ok(()),
    };
    if args.json || written.is_err() {
        print!("{}", result.to_json());
    } else {
        print!("{}", summary(&result, args.out.as_deref()));
    }
    written.map_err(|e| {
        anyhow::anyhow!("{e}; the result above was not written: save it from this output")
    })
}

fn fmt_opt(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4e}")
    } else {
        "n/a".into()
    }
}

/// A few lines for a person: what ran, how it ended, the main observables.
pub fn summary(r: &RunResult, out: Option<&std::path::Path>) -> String {
    let c = &r.config;
    let arch = c.model_label();
    let f = &r.final_state;
    let mut s = format!(
        "{arch} on {} ({}): P={}, P_test={}, alpha={}, T={:.6e} (lr {}, B={}), {} parameters\n",
        c.dataset,
        r.derived.data_source,
        c.p,
        c.p_test,
        c.alpha,
        r.derived.temperature,
        r.derived.lr,
        c.batch,
        r.derived.n_params
    );
    let t_label = if r.status == crate::train::result::Status::Converged {
        "t*"
    } else {
        "t"
    };
    s += &format!(
        "{}: {} = {:.6e} after {} steps ({} updates) in {:.2} s ({})\n",
        r.status, t_label, f.t, f.step, r.counters.updates, r.timing.wall_s, r.status_detail
    );
    s += &format!(
        "train loss {:.4e}  unfitted {}/{}  train error {:.4}  test error {:.4}  test loss {:.4e}\n",
        f.train_loss, f.unfitted, c.p, f.train_error, f.test_error, f.test_loss
    );
    s += &format!(
        "dw = |w - w0|/|w0| = {}  |w - w0| = {}  |w| = {}\n",
        fmt_opt(f.weight_change),
        fmt_opt(f.weight_distance),
        fmt_opt(f.weight_norm)
    );
    if let Some(sp) = &r.stopping_point {
        s += &format!(
            "(the checkpoint of lowest test error; the run stopped at step {}, t = {:.6e}: train error {:.4}, test error {:.4}, dw {})\n",
            sp.step,
            sp.t,
            sp.train_error,
            sp.test_error,
            fmt_opt(sp.weight_change)
        );
    }
    if let (Some(w1), Some(wp)) = (f.w_1, f.w_perp) {
        s += &format!("w_1 = {w1:.6e}  |w_perp| = {wp:.6e}\n");
    }
    if let Some(out) = out {
        s += &format!("result: {}\n", out.display());
    }
    s
}
