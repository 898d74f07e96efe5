//! Magnitudes against the authors' own implementation on the same digits
//! (`shared/REFERENCE_RUNS.md`): their split, initialization and batch order differ from ours,
//! so these are order-of-magnitude checks, not digit comparisons.

use sgd_regimes::config::{DatasetKind, ModelKind, RunConfig};
use sgd_regimes::train::result::Status;
use sgd_regimes::train::{Options, run};

#[test]
fn fc_on_bundled_mnist_matches_the_reference_magnitudes() {
    // Reference: fc L=5 h=64, B=16, eta=0.016, alpha=32768: t* 27.1, test error 0.111, dw 4.8e-5.
    let cfg = RunConfig {
        model: ModelKind::Fc,
        dataset: DatasetKind::MnistParity,
        p: 1024,
        p_test: 2048,
        alpha: 32768.0,
        lr: Some(0.016),
        batch: 16,
        ..RunConfig::default()
    };
    let r = run(&cfg, Options::default()).unwrap();
    let f = &r.final_state;
    assert_eq!(r.status, Status::Converged);
    assert!(
        (0.08..=0.15).contains(&f.test_error),
        "test error {}",
        f.test_error
    );
    assert!((27.1 / 3.0..27.1 * 3.0).contains(&f.t), "t* {}", f.t);
    assert!(
        (4.8e-5 / 3.0..4.8e-5 * 3.0).contains(&f.weight_change),
        "dw {}",
        f.weight_change
    );
    assert_eq!(f.layers.len(), 6);
    assert!(f.layers.iter().all(|l| l.weight_change > 0.0));
}

#[test]
fn perceptron_on_depleted_sign_matches_the_reference_magnitudes() {
    // Reference: d=128, chi=1, B=2, T=0.0078, alpha=32768: t* 206, test error 0.018,
    // |w| = dw * sqrt(128) = 0.104.
    let cfg = RunConfig {
        model: ModelKind::Perceptron,
        dataset: DatasetKind::DepletedSign,
        p: 1024,
        p_test: 32768,
        alpha: 32768.0,
        temperature: Some(0.0078125),
        batch: 2,
        dim: Some(128),
        chi: Some(1.0),
        ..RunConfig::default()
    };
    let r = run(&cfg, Options::default()).unwrap();
    let f = &r.final_state;
    assert_eq!(r.status, Status::Converged);
    assert!(f.test_error < 0.05, "test error {}", f.test_error);
    assert!((206.0 / 3.0..206.0 * 3.0).contains(&f.t), "t* {}", f.t);
    assert!(
        (0.104 / 2.0..0.104 * 2.0).contains(&f.weight_norm),
        "|w| {}",
        f.weight_norm
    );
    let (w1, wp) = (f.w_1.unwrap(), f.w_perp.unwrap());
    assert!(w1 > 0.0 && wp > 0.0, "w_1 {w1}, |w_perp| {wp}");
    assert!((w1 * w1 + wp * wp).sqrt() - f.weight_norm < 1e-9);
    assert!(f.weight_change.is_nan(), "dw is undefined for w0 = 0");
}
