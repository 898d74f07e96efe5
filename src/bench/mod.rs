//! `sgd-regimes bench`: time per SGD step and per full-set evaluation, each beside a baseline
//! measured in the same run and against the single-core sgemm peak of this machine.
//!
//! Steps are measured in the worst case for our trainer: every batch point has positive loss
//! (alpha is tiny, so the margin is never reached), so every step runs the full backward pass.
//! The baseline is the straightforward way to take the same step with the same layers: backward
//! into a zeroed gradient buffer over all rows, then `w -= lr g`.

use crate::config::{DatasetKind, ModelKind, RunConfig};
use crate::data::{Dataset, Split, synthetic};
use crate::model::{self, Update, gemm, vector::axpy};
use crate::rng::{self, Stream};
use crate::train::{CheckPolicy, Trainer};
use rand_distr::{Distribution, StandardNormal};
use std::hint::black_box;
use std::time::Instant;

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
    /// The authors' JAX code on this machine kind (issue #2), seconds per operation.
    pub jax_s: Option<f64>,
    /// The target of issue #2, seconds per operation.
    pub target_s: Option<f64>,
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
        || gemm::x_wt(n, n, n, 1.0, black_box(&a), black_box(&b), 0.0, &mut c),
        sample_s,
        5,
    );
    2.0 * (n * n * n) as f64 / s / 1e9
}

fn gaussian(n: usize, seed: u64) -> Vec<f32> {
    let mut r = rng::stream(seed, Stream::MonteCarlo);
    (0..n).map(|_| StandardNormal.sample(&mut r)).collect()
}

/// Gaussian inputs with random ±1 labels.
fn random_set(n: usize, d: usize, seed: u64) -> Dataset {
    let x = gaussian(n * d, seed);
    let y = gaussian(n, seed + 1)
        .iter()
        .map(|v| if *v >= 0.0 { 1.0 } else { -1.0 })
        .collect();
    Dataset {
        x,
        y,
        shape: [1, 1, d],
    }
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
        ..RunConfig::default()
    }
    .normalized()
    .expect("benchmark configs are valid")
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
    jax_s: f64,
    target_s: f64,
    sample_s: f64,
) -> Measurement {
    let mut tr = Trainer::new(cfg, split, CheckPolicy::Adaptive);
    let ours_s = time_per_call(
        || {
            black_box(tr.step());
        },
        sample_s,
        7,
    );

    // Baseline: same sampler, gather and forward; full backward into a gradient buffer; axpy.
    let mut net = model::build(cfg, split.train.dim());
    let mut w = net.init_params(cfg.seed_init);
    let mut grad = vec![0.0f32; w.len()];
    let mut sampler =
        crate::train::sampler::BatchSampler::new(cfg.p, cfg.batch, rng::stream(0, Stream::Batch));
    let d = split.train.dim();
    let lr = cfg.learning_rate() as f32;
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
    Measurement {
        name,
        ours_s,
        baseline_s,
        baseline: "gradient buffer + axpy",
        flops,
        jax_s: Some(jax_s),
        target_s: Some(target_s),
    }
}

/// `fc` (depth 5, `width`) SGD step, B = 16, P = 1024, 784 inputs.
pub fn fc_step(width: usize, sample_s: f64) -> Measurement {
    let cfg = RunConfig {
        width: Some(width),
        ..always_active(ModelKind::Fc, DatasetKind::MnistParity, 1024, 16)
    };
    let split = Split {
        train: random_set(1024, 784, 10),
        test: random_set(16, 784, 20),
        source: "gaussian".into(),
    };
    let (jax, target) = if width == 64 {
        (571e-6, 95e-6)
    } else {
        (3842e-6, 960e-6)
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
        285e-6,
        300e-9,
        sample_s,
    )
}

/// Full-set evaluation of P = 8192 points by `fc` (depth 5, h = 64, 784 inputs).
pub fn fc_eval(sample_s: f64) -> Measurement {
    let (p, d, h) = (8192, 784, 64);
    let cfg = always_active(ModelKind::Fc, DatasetKind::MnistParity, 16, 16);
    let x = gaussian(p * d, 30);
    let mut net = model::build(&cfg, d);
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
        jax_s: None,
        target_s: None,
    }
}

/// All benchmarks of issue #2, with the sgemm peak first. `quick` shortens every sample.
pub fn run_all(quick: bool) -> (f64, Vec<Measurement>) {
    let sample_s = if quick { 0.01 } else { 0.2 };
    let peak = sgemm_peak_gflops(sample_s);
    let rows = vec![
        fc_step(64, sample_s),
        fc_step(256, sample_s),
        perceptron_step(sample_s),
        fc_eval(sample_s),
    ];
    (peak, rows)
}
