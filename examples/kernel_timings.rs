//! Per-layer timings of the hand-written CNN kernels on the shapes of an mnas h=8 step on
//! CIFAR-shaped input (B = 16): the three passes of each depthwise layer and the direct
//! convolutions' weight sums (mnas's stem, simple-cnn's two convolutions). Best of 15 samples
//! of 20 calls each. BENCHMARKS.md (issue #11) compares two revisions by copying this file into
//! the other revision's tree and alternating the two builds:
//!
//! ```sh
//! cargo run --release --example kernel_timings
//! ```

use rand_distr::{Distribution, StandardNormal};
use sgd_regimes::model::conv::ConvShape;
use sgd_regimes::model::depthwise::{
    depthwise_backward_input, depthwise_backward_weights, depthwise_forward,
};
use sgd_regimes::model::direct_conv::backward_weights;
use sgd_regimes::rng::{Stream, stream};
use std::time::Instant;

/// Standard normal values from the crate's seeded Monte-Carlo stream.
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut r = stream(seed, Stream::MonteCarlo);
    (0..n).map(|_| StandardNormal.sample(&mut r)).collect()
}

/// Best seconds per call of `f`.
fn best_of(mut f: impl FnMut()) -> f64 {
    f();
    (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..20 {
                f();
            }
            t.elapsed().as_secs_f64() / 20.0
        })
        .fold(f64::MAX, f64::min)
}

fn shape(hw: usize, c_in: usize, c_out: usize, stride: usize) -> ConvShape {
    ConvShape {
        h: hw,
        w: hw,
        c_in,
        c_out,
        k: 5,
        stride,
    }
}

fn main() {
    let n = 16;
    let gflops = |macs: usize, s: f64| 2.0 * macs as f64 / s / 1e9;
    let mut total = [0.0; 3];
    println!("depthwise passes (mnas h=8, 32x32x3 input, B = {n}):");
    for (name, hw, c, stride) in [
        ("stem.dw", 16, 32, 1),
        ("ir1.dw", 16, 48, 2),
        ("ir2.dw", 8, 24, 1),
        ("ir3.dw", 8, 24, 2),
        ("ir4.dw", 4, 72, 1),
    ] {
        let s = shape(hw, c, c, stride);
        let x = values(n * hw * hw * c, 1);
        let w = values(25 * c, 2);
        let dy = values(n * s.out_h() * s.out_w() * c, 3);
        let (mut y, mut dx, mut gw) = (vec![0.0; dy.len()], vec![0.0; x.len()], w.clone());
        let macs = n * s.out_h() * s.out_w() * 25 * c;
        let t = [
            best_of(|| depthwise_forward(&x, n, &s, &w, 0.2, &mut y)),
            best_of(|| depthwise_backward_input(&dy, n, &s, &w, 0.2, &mut dx)),
            best_of(|| depthwise_backward_weights(&dy, &x, n, &s, 0.2, -1e-9, &mut gw)),
        ];
        for (sum, t) in total.iter_mut().zip(t) {
            *sum += t;
        }
        println!(
            "  {name:8} forward {:7.1} us ({:5.1} GFLOP/s)  input grad {:7.1} us ({:5.1})  weight grad {:7.1} us ({:5.1})",
            t[0] * 1e6,
            gflops(macs, t[0]),
            t[1] * 1e6,
            gflops(macs, t[1]),
            t[2] * 1e6,
            gflops(macs, t[2]),
        );
    }
    println!(
        "  all      forward {:7.1} us  input grad {:7.1} us  weight grad {:7.1} us  three passes {:7.1} us",
        total[0] * 1e6,
        total[1] * 1e6,
        total[2] * 1e6,
        total.iter().sum::<f64>() * 1e6
    );
    println!("direct convolution weight sums (32x32x3 input, B = {n}):");
    for (name, hw, c_in, c_out, stride) in [
        ("mnas stem", 32, 3, 32, 2),
        ("simple-cnn conv1", 32, 3, 8, 1),
        ("simple-cnn conv2", 16, 8, 16, 1),
    ] {
        let s = shape(hw, c_in, c_out, stride);
        let x = values(n * hw * hw * c_in, 1);
        let dz = values(n * s.out_h() * s.out_w() * c_out, 3);
        let mut w = values(25 * c_in * c_out, 2);
        let t = best_of(|| backward_weights(&dz, &x, n, &s, 0.1, -1e-9, &mut w));
        let macs = n * s.out_h() * s.out_w() * 25 * c_in * c_out;
        println!(
            "  {name:16} {:7.1} us ({:5.1} GFLOP/s)",
            t * 1e6,
            gflops(macs, t)
        );
    }
}
