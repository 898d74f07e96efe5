//! The stop rule and the dynamics of method §1 on cases whose answer is known.

use sgd_regimes::config::{DatasetKind, ModelKind, RunConfig};
use sgd_regimes::data::{Dataset, Split, synthetic};
use sgd_regimes::model::vector::{axpy, dot};
use sgd_regimes::rng::{self, Stream};
use sgd_regimes::train::margins::is_fitted;
use sgd_regimes::train::result::{RunResult, Status};
use sgd_regimes::train::sampler::BatchSampler;
use sgd_regimes::train::{CheckPolicy, Options, run_on};

fn one_point_split(x: f32) -> Split {
    let d = Dataset {
        x: vec![x],
        y: vec![1.0],
        shape: [1, 1, 1],
    };
    Split {
        train: d.clone(),
        test: d,
        source: "hand-made".into(),
        files: Vec::new(),
    }
}

fn perceptron(p: usize, p_test: usize, alpha: f64, lr: f64, batch: usize, dim: usize) -> RunConfig {
    RunConfig {
        model: ModelKind::Perceptron,
        dataset: DatasetKind::DepletedSign,
        p,
        p_test,
        alpha,
        lr: Some(lr),
        batch,
        dim: Some(dim),
        ..RunConfig::default()
    }
}

fn run(cfg: &RunConfig, split: &Split, check: CheckPolicy) -> RunResult {
    run_on(
        &cfg.validated().unwrap(),
        split,
        Options {
            check,
            progress: None,
        },
    )
    .unwrap()
}

#[test]
fn one_point_stops_at_the_known_step() {
    // F = w x with x = 1, margin 1/alpha = 1: each step adds lr until w >= 1.
    let split = one_point_split(1.0);
    let r = run(
        &perceptron(1, 1, 1.0, 0.25, 1, 1),
        &split,
        CheckPolicy::Adaptive,
    );
    assert_eq!(r.status, Status::Converged);
    assert_eq!(
        (r.final_state.step, r.final_state.t, r.counters.updates),
        (4, 1.0, 4)
    );
    assert_eq!(r.final_state.w_1, Some(1.0));
    assert_eq!(r.final_state.train_loss, 0.0);

    // lr = 0.3: w = 0.3, 0.6, 0.9, 1.2 -> stops at step 4, t* = 4 * 0.3.
    let r = run(
        &perceptron(1, 1, 1.0, 0.3, 1, 1),
        &split,
        CheckPolicy::Adaptive,
    );
    assert_eq!((r.final_state.step, r.final_state.t), (4, 4.0 * 0.3));

    // alpha = 0.5 (margin 2) with x = 0.5: F = 0.5 w needs w >= 4, and each step adds
    // lr * grad F = 0.5 * 0.5: 16 steps.
    let split = one_point_split(0.5);
    let r = run(
        &perceptron(1, 1, 0.5, 0.5, 1, 1),
        &split,
        CheckPolicy::Adaptive,
    );
    assert_eq!((r.final_state.step, r.counters.updates), (16, 16));
}

/// The same dynamics written naively: full-set check after every step, no caching, no skipping.
fn naive_perceptron(cfg: &RunConfig, train: &Dataset) -> (u64, Vec<f32>) {
    let d = train.dim();
    let scale = 1.0 / (d as f32).sqrt();
    let thr = (1.0 / cfg.alpha) as f32;
    let lr = cfg.learning_rate() as f32;
    let inv_b = 1.0 / cfg.batch as f32;
    let mut w = vec![0.0f32; d];
    let mut sampler =
        BatchSampler::new(cfg.p, cfg.batch, rng::stream(cfg.seed_batch, Stream::Batch));
    for step in 1.. {
        let batch = sampler.draw().to_vec();
        let active: Vec<usize> = batch
            .iter()
            .copied()
            .filter(|&i| !is_fitted(train.y[i] * (dot(&w, train.row(i)) * scale), thr))
            .collect();
        for &i in &active {
            axpy((-lr) * (-train.y[i] * inv_b) * scale, train.row(i), &mut w);
        }
        let fitted = (0..cfg.p).all(|i| train.y[i] * (dot(&w, train.row(i)) * scale) >= thr);
        if fitted {
            return (step, w);
        }
    }
    unreachable!()
}

#[test]
fn matches_a_naive_implementation_step_for_step() {
    for (chi, batch, seed) in [(0.0, 4, 1), (1.0, 1, 2), (3.0, 64, 3)] {
        let mut cfg = perceptron(64, 16, 64.0, 0.05, batch, 8);
        cfg.chi = Some(chi);
        cfg.seed_batch = seed;
        let split = synthetic::depleted_sign_split(8, chi, 64, 16, seed, 9);
        let (steps, w) = naive_perceptron(&cfg, &split.train);
        for check in [CheckPolicy::Adaptive, CheckPolicy::EveryStep] {
            let r = run(&cfg, &split, check);
            assert_eq!(r.status, Status::Converged);
            assert_eq!(r.final_state.step, steps, "chi {chi}, B {batch}, {check:?}");
            assert_eq!(r.final_state.w_1, Some(w[0] as f64));
        }
    }
}

fn strip_timing(mut r: RunResult) -> RunResult {
    r.timing = Default::default();
    r
}

#[test]
fn t_star_does_not_depend_on_the_check_interval() {
    let split = sgd_regimes::data::load(
        &RunConfig {
            p: 256,
            p_test: 256,
            lr: Some(0.016),
            ..RunConfig::default()
        }
        .validated()
        .unwrap(),
    )
    .unwrap();
    for (alpha, lr) in [(32768.0, 0.016), (1.0, 0.5)] {
        let cfg = RunConfig {
            model: ModelKind::Fc,
            dataset: DatasetKind::MnistParity,
            p: 256,
            p_test: 256,
            alpha,
            lr: Some(lr),
            batch: 16,
            depth: Some(3),
            width: Some(32),
            ..RunConfig::default()
        };
        let adaptive = strip_timing(run(&cfg, &split, CheckPolicy::Adaptive));
        let every = strip_timing(run(&cfg, &split, CheckPolicy::EveryStep));
        assert_eq!(adaptive.status, Status::Converged, "alpha {alpha}");
        assert!(
            every.counters.checks > 5 * adaptive.counters.checks,
            "{:?} vs {:?}",
            every.counters,
            adaptive.counters
        );
        assert_eq!(adaptive.final_state, every.final_state, "alpha {alpha}");
        assert_eq!(adaptive.trajectory, every.trajectory, "alpha {alpha}");
    }
}

#[test]
fn checks_cost_about_a_tenth_of_training() {
    let cfg = perceptron(512, 64, 1024.0, 0.01, 4, 32);
    let split = synthetic::depleted_sign_split(32, 0.0, 512, 64, 0, 0);
    let r = run(
        &RunConfig {
            checkpoints_per_decade: Some(0),
            ..cfg
        },
        &split,
        CheckPolicy::Adaptive,
    );
    assert_eq!(r.status, Status::Converged);
    let training_points = 4 * (r.counters.steps_simulated - r.counters.skipped_steps);
    assert!(
        (r.counters.check_points as f64) < 0.15 * training_points as f64 + 512.0,
        "{} points checked for {} trained",
        r.counters.check_points,
        training_points
    );
}

#[test]
fn budget_and_gradient_descent() {
    let split = synthetic::depleted_sign_split(16, 0.0, 128, 32, 0, 0);
    let cfg = RunConfig {
        max_steps: Some(10),
        ..perceptron(128, 32, 1e4, 1e-6, 8, 16)
    };
    let r = run(&cfg, &split, CheckPolicy::Adaptive);
    assert_eq!(r.status, Status::Budget);
    assert_eq!(r.final_state.step, 10);
    assert!(r.final_state.unfitted > 0 && r.final_state.train_loss > 0.0);
    assert!(r.status_detail.contains("max_steps"));

    // B = P is gradient descent: every step uses every point.
    let r = run(
        &perceptron(128, 32, 16.0, 0.5, 128, 16),
        &split,
        CheckPolicy::Adaptive,
    );
    assert_eq!(r.status, Status::Converged);
    assert_eq!(
        r.counters.updates, r.final_state.step,
        "GD changes w at every step until t*"
    );
}

#[test]
fn divergence_is_a_status_not_a_panic() {
    let cfg = RunConfig {
        model: ModelKind::Fc,
        dataset: DatasetKind::DepletedSign,
        p: 64,
        p_test: 16,
        alpha: 1e-3,
        lr: Some(1e4),
        batch: 8,
        depth: Some(3),
        width: Some(16),
        dim: Some(8),
        ..RunConfig::default()
    };
    let split = synthetic::depleted_sign_split(8, 0.0, 64, 16, 0, 0);
    let r = run(&cfg, &split, CheckPolicy::Adaptive);
    assert_eq!(r.status, Status::Diverged, "{}", r.status_detail);
    // The result still serializes (non-finite values become null).
    let json = r.to_json();
    let back: RunResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back.status, Status::Diverged);
}

#[test]
fn split_sizes_must_match_the_config() {
    let split = one_point_split(1.0);
    let e = run_on(
        &perceptron(2, 1, 1.0, 0.1, 1, 1).validated().unwrap(),
        &split,
        Options::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("p = 2"), "{e}");
}
