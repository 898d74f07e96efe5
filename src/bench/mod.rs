//! `sgd-regimes bench`: time per SGD step and per full-set evaluation, each beside a baseline
//! measured in the same run and against the single-core sgemm peak of this machine.
//!
//! Steps are measured in the worst case for our trainer: every batch point has positive loss
//! (alpha is tiny, so the margin is never reached), so every step runs the full backward pass.
//! The baseline is the straightforward way to take the same step with the same layers: backward
//! into a zeroed gradient buffer over all rows, then `w -= lr g`.

use crate::config::Activation;
use crate::config::{DatasetKind, ModelKind, NetSpec, RunConfig, ValidConfig};
use crate::data::{Dataset, Split, synthetic};
use crate::model::{self, Update, gemm, vector::axpy};
use crate::rng::{self, Stream};
use crate::train::{CheckPolicy, Trainer};
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;
use std::time::Instant;

pub mod external;
pub mod sweep;

/// One benchmark: seconds per operation for ours and the baseline, and what is known beside.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub name: String,
    pub ours_s: f64,
    pub baseline_s: f64,
    pub baseline: &'static str,
    /// Floating-point operations per operation (for GFLOP/s).
    pub flops: Option<f64>,
    /// The authors' JAX code, one core, same config, seconds per operation, on the machine
    /// kinds it was measured on.
    pub jax: Jax,
    /// The target of issue #2, seconds per operation.
    pub target_s: Option<f64>,
}

/// The machine kinds the authors' JAX code was timed on (one core, the same configs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JaxMachine {
    /// An Intel Xeon without AVX-512 (issues #2 and #5).
    XeonNoAvx512,
    /// An AMD EPYC with AVX-512, sgemm peak 194 GFLOP/s (issue #11).
    EpycAvx512,
}

impl JaxMachine {
    pub fn label(self) -> &'static str {
        match self {
            JaxMachine::XeonNoAvx512 => "Intel Xeon without AVX-512",
            JaxMachine::EpycAvx512 => "AMD EPYC with AVX-512",
        }
    }
}

/// The authors' JAX seconds per operation on each machine kind where it was measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Jax {
    pub xeon_no_avx512: Option<f64>,
    pub epyc_avx512: Option<f64>,
}

impl Jax {
    fn both(xeon: f64, epyc: f64) -> Jax {
        Jax {
            xeon_no_avx512: Some(xeon),
            epyc_avx512: Some(epyc),
        }
    }

    /// The figure measured on `kind`, if any.
    pub fn on(self, kind: Option<JaxMachine>) -> Option<f64> {
        match kind? {
            JaxMachine::XeonNoAvx512 => self.xeon_no_avx512,
            JaxMachine::EpycAvx512 => self.epyc_avx512,
        }
    }
}

/// The CPU the benchmarks run on.
#[derive(Clone, Debug)]
pub struct Cpu {
    pub model: String,
    pub avx2: bool,
    pub avx512: bool,
}

impl Cpu {
    /// The model name from `/proc/cpuinfo` (Linux) and the vector extensions the CPU has.
    pub fn detect() -> Cpu {
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, m)| m.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        #[cfg(target_arch = "x86_64")]
        let (avx2, avx512) = (
            std::is_x86_feature_detected!("avx2"),
            std::is_x86_feature_detected!("avx512f"),
        );
        #[cfg(not(target_arch = "x86_64"))]
        let (avx2, avx512) = (false, false);
        Cpu {
            model,
            avx2,
            avx512,
        }
    }

    /// The JAX machine kind this CPU is (`None`: neither, so no JAX figure applies here).
    pub fn jax_machine(&self) -> Option<JaxMachine> {
        if self.model.contains("Xeon") && !self.avx512 {
            Some(JaxMachine::XeonNoAvx512)
        } else if self.model.contains("EPYC") && self.avx512 {
            Some(JaxMachine::EpycAvx512)
        } else {
            None
        }
    }
}

/// Median seconds per call of `f`, from `samples` samples of about `sample_s` seconds each.
pub fn time_per_call(mut f: impl FnMut(), sample_s: f64, samples: usize) -> f64 {
    let t0 = Instant::now();
    f();
    let once = t0.elapsed().as_secs_f64().max(1e-9);
    let iters = ((sample_s / once) as usize).clamp(1, 100_000_000);
    let mut per: Vec<f64> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_secs_f64() / iters as f64
        })
        .collect();
    per.sort_by(|a, b| a.total_cmp(b));
    per[samples / 2]
}

/// Single-core sgemm throughput on 256×256×256 products, in GFLOP/s.
pub fn sgemm_peak_gflops(sample_s: f64) -> f64 {
    let n = 256;
    let a = gaussian(n * n, 1);
    let b = gaussian(n * n, 2);
    let mut c = vec![0.0f32; n * n];
    let s = time_per_call(
        || {
            gemm::x_wt(
                gemm::DenseShape::new(n, n, n),
                1.0,
                black_box(&a),
                black_box(&b),
                0.0,
                &mut c,
            )
        },
        sample_s,
        5,
    );
    2.0 * (n * n * n) as f64 / s / 1e9
}

fn gaussian(n: usize, seed: u64) -> Vec<f32> {
    let mut r = rng::stream(seed, Stream::MonteCarlo);
    (0..n).map(|_| StandardNormal.sample(&mut r)).collect()
}

/// Gaussian inputs of shape `[height, width, channels]` with random ±1 labels.
fn random_set(n: usize, shape: [usize; 3], seed: u64) -> Dataset {
    let x = gaussian(n * shape.iter().product::<usize>(), seed);
    let y = gaussian(n, seed + 1)
        .iter()
        .map(|v| if *v >= 0.0 { 1.0 } else { -1.0 })
        .collect();
    Dataset { x, y, shape }
}

fn always_active(model: ModelKind, dataset: DatasetKind, p: usize, batch: usize) -> RunConfig {
    RunConfig {
        model,
        dataset,
        p,
        p_test: 16,
        // The margin 1/alpha = 1e6 is never reached: every point has positive loss at every step.
        alpha: 1e-6,
        lr: Some(1e-4),
        batch,
        // Never read: the benchmarks bring their own (random) images.
        data_dir: (dataset == DatasetKind::CifarAnimals).then(|| "(random images)".into()),
        ..RunConfig::default()
    }
}

/// A benchmark's config, checked.
fn valid(cfg: &RunConfig) -> ValidConfig {
    cfg.validated().expect("benchmark configs are valid")
}

/// FLOPs of one `fc` step with every batch point active.
fn fc_step_flops(b: usize, d: usize, h: usize, depth: usize) -> f64 {
    let forward = 2 * b * (d * h + (depth - 1) * h * h + h);
    let weight_grads = forward;
    let input_grads = 2 * b * ((depth - 1) * h * h + h);
    (forward + weight_grads + input_grads) as f64
}

fn step_bench(
    name: String,
    cfg: &RunConfig,
    split: &Split,
    flops: Option<f64>,
    jax: Jax,
    target_s: f64,
    sample_s: f64,
) -> crate::Result<Measurement> {
    let cfg = &valid(cfg);
    let mut tr = Trainer::new(cfg, split, CheckPolicy::Adaptive)?;
    let ours_s = time_per_call(
        || {
            black_box(tr.step());
        },
        sample_s,
        7,
    );

    // Baseline: same sampler, gather and forward; full backward into a gradient buffer; axpy.
    let mut net = model::build(&cfg.net, cfg.batch, split.train.shape)?;
    let mut w = net.init_params(cfg.seeds.init);
    let mut grad = vec![0.0f32; w.len()];
    let mut sampler =
        crate::train::sampler::BatchSampler::new(cfg.p, cfg.batch, rng::stream(0, Stream::Batch));
    let d = split.train.dim();
    let lr = cfg.learning_rate as f32;
    let mut dout = vec![0.0f32; cfg.batch];
    let baseline_s = time_per_call(
        || {
            let batch = sampler.draw();
            for (row, &i) in net.batch_input(batch.len()).chunks_exact_mut(d).zip(batch) {
                row.copy_from_slice(split.train.row(i));
            }
            let out = net.forward(&w);
            for ((g, &i), &f) in dout.iter_mut().zip(batch).zip(out) {
                let y = split.train.y[i];
                *g = if y * f < 1e6 {
                    -y / cfg.batch as f32
                } else {
                    0.0
                };
            }
            grad.fill(0.0);
            net.backward(&mut w, &dout, Update::Gradient(&mut grad));
            axpy(-lr, &grad, &mut w);
        },
        sample_s,
        7,
    );
    Ok(Measurement {
        name,
        ours_s,
        baseline_s,
        baseline: "gradient buffer + axpy",
        flops,
        jax,
        target_s: (!target_s.is_nan()).then_some(target_s),
    })
}

/// `fc` (depth 5, `width`) SGD step, B = 16, P = 1024, 784 inputs.
pub fn fc_step(width: usize, sample_s: f64) -> Measurement {
    let cfg = RunConfig {
        width: Some(width),
        ..always_active(ModelKind::Fc, DatasetKind::MnistParity, 1024, 16)
    };
    let split = Split {
        train: random_set(1024, [1, 1, 784], 10),
        test: random_set(16, [1, 1, 784], 20),
        source: "gaussian".into(),
        files: Vec::new(),
    };
    let (jax, target) = if width == 64 {
        (Jax::both(571e-6, 178e-6), 95e-6)
    } else {
        (Jax::both(3842e-6, 632e-6), 960e-6)
    };
    step_bench(
        format!("fc L=5 h={width} step (B=16, P=1024, d=784)"),
        &cfg,
        &split,
        Some(fc_step_flops(16, 784, width, 5)),
        jax,
        target,
        sample_s,
    )
    // The built-in recipes build for their fixed shapes.
    .expect("a built-in net builds")
}

/// Perceptron SGD step, d = 128, B = 2, P = 1024, depleted-sign data.
pub fn perceptron_step(sample_s: f64) -> Measurement {
    let cfg = always_active(ModelKind::Perceptron, DatasetKind::DepletedSign, 1024, 2);
    let split = synthetic::depleted_sign_split(128, 1.0, 1024, 16, 0, 1);
    step_bench(
        "perceptron d=128 step (B=2, P=1024)".into(),
        &cfg,
        &split,
        None,
        Jax::both(285e-6, 100e-6),
        300e-9,
        sample_s,
    )
    // The built-in recipes build for their fixed shapes.
    .expect("a built-in net builds")
}

/// Full-set evaluation of P = 8192 points by `fc` (depth 5, h = 64, 784 inputs).
pub fn fc_eval(sample_s: f64) -> Measurement {
    let (p, d, h) = (8192, 784, 64);
    let cfg = always_active(ModelKind::Fc, DatasetKind::MnistParity, 16, 16);
    let x = gaussian(p * d, 30);
    let mut net =
        model::build(&valid(&cfg).net, cfg.batch, [28, 28, 1]).expect("a built-in net builds");
    let w = net.init_params(0);
    let mut out = vec![0.0f32; p];
    let ours_s = time_per_call(|| net.predict(&w, black_box(&x), &mut out), sample_s, 5);
    let baseline_s = time_per_call(
        || {
            for (xs, o) in x.chunks(16 * d).zip(out.chunks_mut(16)) {
                net.predict(&w, black_box(xs), o);
            }
        },
        sample_s,
        5,
    );
    Measurement {
        name: format!("fc L=5 h={h} full-set eval (P={p})"),
        ours_s,
        baseline_s,
        baseline: "16 rows per call",
        flops: Some(2.0 * p as f64 * (d * h + 4 * h * h + h) as f64),
        jax: Jax::default(),
        target_s: None,
    }
}

/// The authors' JAX time and the issue #5 target per step (one core, B = 16, 32x32x3).
fn cnn_reference(model: ModelKind, width: usize) -> (Jax, f64) {
    match (model, width) {
        (ModelKind::Mnas, 8) => (Jax::both(492e-3, 298e-3), 25e-3),
        (ModelKind::SimpleCnn, 8) => (Jax::both(79e-3, 37.5e-3), 8e-3),
        (ModelKind::SimpleCnn, 32) => (
            Jax {
                xeon_no_avx512: Some(1091e-3),
                epyc_avx512: None,
            },
            110e-3,
        ),
        _ => (Jax::default(), f64::NAN),
    }
}

/// FLOPs of one CNN step with every batch point active: forward, weight gradients, and input
/// gradients of every layer but the first.
fn cnn_step_flops(cfg: &ValidConfig, shape: [usize; 3]) -> f64 {
    let net = match cfg.net.clone() {
        NetSpec::Mnas { width, .. } => model::mnas::mnas(shape, width, 1, Activation::Relu),
        NetSpec::SimpleCnn { width, .. } => {
            model::simple_cnn::simple_cnn(shape, width, 1, Activation::Relu)
        }
        NetSpec::Layers { layers, width, .. } => {
            match model::layer_list::build(&layers.0, width, shape, 1, Activation::Relu) {
                Ok(net) => net,
                Err(_) => return f64::NAN,
            }
        }
        NetSpec::Fc { .. } | NetSpec::Perceptron => return f64::NAN,
    };
    let (total, first) = net.forward_macs();
    (2 * cfg.batch * (3 * total - first)) as f64
}

/// A CNN SGD step on CIFAR-shaped input (32x32x3), B = 16, P = 1024.
pub fn cnn_step(model: ModelKind, width: usize, sample_s: f64) -> Measurement {
    let shape = [32, 32, 3];
    let cfg = RunConfig {
        width: Some(width),
        ..always_active(model, DatasetKind::CifarAnimals, 1024, 16)
    };
    let split = Split {
        train: random_set(1024, shape, 40),
        test: random_set(16, shape, 41),
        source: "gaussian".into(),
        files: Vec::new(),
    };
    let (jax, target) = cnn_reference(model, width);
    step_bench(
        format!("{model} h={width} step (B=16, P=1024, 32x32x3)"),
        &cfg,
        &split,
        Some(cnn_step_flops(&valid(&cfg), shape)),
        jax,
        target,
        sample_s,
    )
    // The built-in recipes build for their fixed shapes.
    .expect("a built-in net builds")
}

/// An SGD step of a `[net]` list at width `width` on random `shape` images, B = 16, P = 1024
/// (`bench --net FILE`): any list timed as the built-in nets are.
pub fn net_step(
    net: &crate::config::net::NetTable,
    width: usize,
    shape: [usize; 3],
    sample_s: f64,
) -> crate::Result<Measurement> {
    let cfg = RunConfig {
        width: Some(width),
        net: Some(net.clone()),
        ..always_active(ModelKind::Net, DatasetKind::CifarAnimals, 1024, 16)
    };
    let valid = cfg.validated()?.with_input_shape(shape)?;
    crate::model::layer_list::plan(&net.layers.0, width, shape)?;
    let split = Split {
        train: random_set(1024, shape, 50),
        test: random_set(16, shape, 51),
        source: "gaussian".into(),
        files: Vec::new(),
    };
    let [h, w, c] = shape;
    step_bench(
        format!(
            "net ({} layers) h={width} step (B=16, P=1024, {h}x{w}x{c})",
            net.layers.0.len()
        ),
        &cfg,
        &split,
        Some(cnn_step_flops(&valid, shape)),
        Jax::default(),
        f64::NAN,
        sample_s,
    )
}

/// Full-set forward of P = 1024 CIFAR-shaped images by `mnas` h = 8 (JAX: 4.7 s).
pub fn mnas_eval(sample_s: f64) -> Measurement {
    let (p, shape) = (1024, [32, 32, 3]);
    let cfg = always_active(ModelKind::Mnas, DatasetKind::CifarAnimals, 16, 16);
    let x = gaussian(p * 3072, 50);
    let mut net = model::build(&valid(&cfg).net, cfg.batch, shape).expect("a built-in net builds");
    let w = net.init_params(0);
    let mut out = vec![0.0f32; p];
    let ours_s = time_per_call(|| net.predict(&w, black_box(&x), &mut out), sample_s, 5);
    let baseline_s = time_per_call(
        || {
            for (xs, o) in x.chunks(16 * 3072).zip(out.chunks_mut(16)) {
                net.predict(&w, black_box(xs), o);
            }
        },
        sample_s,
        5,
    );
    let (macs, _) = model::mnas::mnas(shape, 8, 1, Activation::Relu).forward_macs();
    Measurement {
        name: format!("mnas h=8 full-set eval (P={p}, 32x32x3)"),
        ours_s,
        baseline_s,
        baseline: "16 rows per call",
        flops: Some(2.0 * (p * macs) as f64),
        jax: Jax {
            xeon_no_avx512: Some(4.7),
            epyc_avx512: None,
        },
        target_s: None,
    }
}

/// The benchmarks, by the name printed for them (`fc h=64`, `mnas h=8`, ...).
type Bench = (&'static str, fn(f64) -> Measurement);

pub const BENCHMARKS: [Bench; 8] = [
    ("fc h=64 step", |s| fc_step(64, s)),
    ("fc h=256 step", |s| fc_step(256, s)),
    ("perceptron step", perceptron_step),
    ("fc eval", fc_eval),
    ("mnas h=8 step", |s| cnn_step(ModelKind::Mnas, 8, s)),
    ("simple-cnn h=8 step", |s| {
        cnn_step(ModelKind::SimpleCnn, 8, s)
    }),
    ("simple-cnn h=32 step", |s| {
        cnn_step(ModelKind::SimpleCnn, 32, s)
    }),
    ("mnas eval", mnas_eval),
];

/// The benchmarks of issues #2 and #5 whose name contains `filter` (all when empty), with the
/// sgemm peak first. `quick` shortens every sample.
pub fn run_all(quick: bool, filter: &str) -> (f64, Vec<Measurement>) {
    let sample_s = if quick { 0.01 } else { 0.2 };
    let peak = sgemm_peak_gflops(sample_s);
    let rows = BENCHMARKS
        .iter()
        .filter(|(name, _)| name.contains(filter))
        .map(|(_, f)| f(sample_s))
        .collect();
    (peak, rows)
}

/// Seconds per SGD step of the net `cfg` describes, every batch point active (an upper bound:
/// real runs skip fitted points), and seconds per point of a full-set evaluation, on random
/// inputs of its shape. About 0.1 s per call; used by `reproduce table1 --dry-run` to estimate
/// wall times.
pub fn calibrate(cfg: &RunConfig) -> (f64, f64) {
    let shape = cfg.input_shape();
    let p = cfg.batch.max(64);
    let split = Split {
        train: random_set(p, shape, 60),
        test: random_set(16, shape, 61),
        source: "gaussian".into(),
        files: Vec::new(),
    };
    let cfg = RunConfig {
        p,
        p_test: 16,
        alpha: 1e-6,
        lr: Some(1e-4),
        temperature: None,
        data_dir: cfg
            .data_dir
            .clone()
            .or_else(|| Some("(random images)".into())),
        ..cfg.clone()
    };
    let cfg = valid(&cfg);
    let mut tr = Trainer::new(&cfg, &split, CheckPolicy::Adaptive).expect("a built-in net builds");
    let step_s = time_per_call(
        || {
            black_box(tr.step());
        },
        0.02,
        3,
    );
    let mut net = model::build(&cfg.net, cfg.batch, shape).expect("a built-in net builds");
    let w = net.init_params(0);
    let n = 64;
    let x = gaussian(n * shape.iter().product::<usize>(), 62);
    let mut out = vec![0.0f32; n];
    let eval_s = time_per_call(|| net.predict(&w, black_box(&x), &mut out), 0.02, 3) / n as f64;
    (step_s, eval_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jax_figures_apply_only_to_the_cpu_kind_they_were_measured_on() {
        let cpu = |model: &str, avx512| Cpu {
            model: model.into(),
            avx2: true,
            avx512,
        };
        let xeon = cpu("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", false);
        let epyc = cpu("AMD EPYC 7R13 Processor", true);
        assert_eq!(xeon.jax_machine(), Some(JaxMachine::XeonNoAvx512));
        assert_eq!(epyc.jax_machine(), Some(JaxMachine::EpycAvx512));
        assert_eq!(cpu("AMD EPYC", false).jax_machine(), None);
        assert_eq!(cpu("Intel(R) Xeon(R) Gold", true).jax_machine(), None);
        let fc = Jax::both(571e-6, 178e-6);
        assert_eq!(fc.on(xeon.jax_machine()), Some(571e-6));
        assert_eq!(fc.on(epyc.jax_machine()), Some(178e-6));
        assert_eq!(fc.on(None), None);
    }
}
