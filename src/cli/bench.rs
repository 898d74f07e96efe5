//! `sgd-regimes bench`: prints one line per benchmark with ratios against its baseline, the
//! authors' JAX figure and the target of issue #2.

use crate::bench::{Measurement, run_all};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Short samples (about a second in all): for checking that it runs, not for numbers.
    #[arg(long)]
    pub quick: bool,
}

fn fmt_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.0} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.1} us", s * 1e6)
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

fn line(m: &Measurement, peak: f64) -> String {
    let gflops = m.flops.map_or("-".into(), |f| {
        format!(
            "{:.1} ({:.0}%)",
            f / m.ours_s / 1e9,
            100.0 * f / m.ours_s / 1e9 / peak
        )
    });
    let jax = m.jax_s.map_or("-".into(), |j| {
        format!("{} ({:.1}x)", fmt_time(j), j / m.ours_s)
    });
    let target = m.target_s.map_or("-".into(), |t| {
        format!(
            "{} {}",
            fmt_time(t),
            if m.ours_s <= t { "met" } else { "MISSED" }
        )
    });
    format!(
        "{:<44} {:>10} {:>10} {:>7.2}x  {:>14}  {:>18}  {:>14}\n",
        m.name,
        fmt_time(m.ours_s),
        fmt_time(m.baseline_s),
        m.baseline_s / m.ours_s,
        gflops,
        jax,
        target
    )
}

pub fn run(args: &BenchArgs) -> Result<()> {
    println!(
        "sgd-regimes bench: one thread, f32, median of repeated samples{}",
        if args.quick { " (--quick: rough)" } else { "" }
    );
    let (peak, rows) = run_all(args.quick);
    println!("single-core sgemm peak (256x256x256): {peak:.1} GFLOP/s\n");
    println!(
        "{:<44} {:>10} {:>10} {:>8}  {:>14}  {:>18}  {:>14}",
        "case", "ours", "baseline", "speedup", "GFLOP/s (peak)", "JAX here (ratio)", "target"
    );
    for m in &rows {
        print!("{}", line(m, peak));
    }
    println!(
        "\nbaselines: steps = same layers with a gradient buffer + axpy over all rows; eval = 16 rows per call."
    );
    println!(
        "steps are worst case: every batch point has positive loss, so every step runs a full backward pass."
    );
    Ok(())
}
