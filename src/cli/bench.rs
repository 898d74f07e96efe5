//! `sgd-regimes bench`: prints one line per benchmark with ratios against its baseline, the
//! authors' JAX figure where it was measured on this kind of CPU, and the target of issues #2
//! and #5; the CPU model and its vector extensions beside the sgemm peak.

use crate::bench::{Cpu, JaxMachine, Measurement, run_all};
use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// What to measure: SGD steps and evaluation, or a sweep's throughput with 1 and 2 jobs.
    #[arg(value_enum, default_value_t = What::Steps)]
    pub what: What,
    /// Short samples (a few seconds in all): for checking that it runs, not for numbers.
    #[arg(long)]
    pub quick: bool,
    /// Only the step benchmarks whose name contains this text, e.g. `cnn` or `mnas h=8`
    /// (names: fc h=64 step, fc h=256 step, perceptron step, fc eval, mnas h=8 step,
    /// simple-cnn h=8 step, simple-cnn h=32 step, mnas eval).
    #[arg(long, default_value = "")]
    pub only: String,
    /// Time an SGD step of your own net instead: a TOML file with a [net] table (as for
    /// `train --net`), on random images of --input, B = 16, P = 1024.
    #[arg(long, value_name = "FILE")]
    pub net: Option<std::path::PathBuf>,
    /// With --net: the width h of its sizes in units of h.
    #[arg(long, default_value_t = 8)]
    pub width: usize,
    /// With --net: the input shape HxWxC.
    #[arg(long, default_value = "28x28x1", value_parser = parse_shape)]
    pub input: [usize; 3],
}

/// `28x28x1` as `[28, 28, 1]`.
fn parse_shape(s: &str) -> std::result::Result<[usize; 3], String> {
    let dims: Vec<usize> = s
        .split('x')
        .map(|d| {
            d.trim()
                .parse::<usize>()
                .ok()
                .filter(|&d| (1..=4096).contains(&d))
        })
        .collect::<Option<_>>()
        .ok_or_else(|| format!("{s:?} is not HxWxC with sizes from 1 to 4096, e.g. 32x32x3"))?;
    <[usize; 3]>::try_from(dims).map_err(|_| format!("{s:?} is not HxWxC, e.g. 32x32x3"))
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// Time per SGD step (fc h=64, h=256, perceptron, mnas h=8, simple-cnn h=8 and h=32) and
    /// per full-set evaluation (fc on 8192 points, mnas on 1024 CIFAR-shaped images).
    Steps,
    /// Wall time of a sweep of 40 short fc runs with 1 and with 2 worker threads.
    Sweep,
    /// The external-trainer protocol's cost per run: a trainer that only writes its result,
    /// run by a sweep, against starting the same process directly.
    External,
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

fn line(m: &Measurement, peak: f64, jax_here: Option<JaxMachine>) -> String {
    let gflops = m.flops.map_or("-".into(), |f| {
        format!(
            "{:.1} ({:.0}%)",
            f / m.ours_s / 1e9,
            100.0 * f / m.ours_s / 1e9 / peak
        )
    });
    let jax = m.jax.on(jax_here).map_or("-".into(), |j| {
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

fn sweep() -> Result<()> {
    println!(
        "sgd-regimes bench sweep: 40 runs of fc L=5 h=64 on 512 bundled digits (10 temperatures x 4 seeds)"
    );
    let (n, one, two) = crate::bench::sweep::sweep_throughput()?;
    println!("1 job:  {one:.2} s ({:.3} s per run)", one / n as f64);
    println!("2 jobs: {two:.2} s ({:.3} s per run)", two / n as f64);
    println!(
        "wall time ratio {:.2}x, throughput {:.2}x (target: <= 0.56x, >= 1.8x); results identical",
        two / one,
        one / two
    );
    Ok(())
}

fn external(quick: bool) -> Result<()> {
    let runs = if quick { 10 } else { 100 };
    println!(
        "sgd-regimes bench external: {runs} runs of a trainer that only writes its result (sh), one at a time"
    );
    println!(
        "{:<58} {:>12} {:>12} {:>9} {:>12}",
        "case", "bare start", "per run", "ratio", "protocol"
    );
    for o in crate::bench::external::external_overhead(runs)? {
        println!(
            "{:<58} {:>12} {:>12} {:>8.2}x {:>12}",
            o.case,
            fmt_time(o.bare_s),
            fmt_time(o.protocol_s),
            o.protocol_s / o.bare_s,
            fmt_time(o.protocol_s - o.bare_s)
        );
    }
    println!(
        "\nbare start: `sh stub.sh` started and waited for directly; per run: the same stub as a sweep's trainer (claim, config, scratch directory, process group, log, result checked and stored); protocol = the difference."
    );
    Ok(())
}

pub fn run(args: &BenchArgs) -> Result<()> {
    if args.what != What::Steps && (!args.only.is_empty() || args.net.is_some()) {
        anyhow::bail!(
            "--only and --net apply to `bench steps`; `bench sweep` and `bench external` have fixed measurements: remove them"
        );
    }
    if args.what == What::Sweep {
        if args.quick {
            anyhow::bail!(
                "--quick applies to `bench steps` and `bench external`; `bench sweep` has one fixed measurement: remove it"
            );
        }
        return sweep();
    }
    if args.what == What::External {
        return external(args.quick);
    }
    if args.net.is_some() && (!args.only.is_empty() || args.what != What::Steps) {
        anyhow::bail!("--net times one net's step: leave out --only and `sweep`");
    }
    println!(
        "sgd-regimes bench: one thread, f32, median of repeated samples{}",
        if args.quick { " (--quick: rough)" } else { "" }
    );
    let (peak, rows) = match &args.net {
        Some(path) => {
            let net = crate::config::net::NetTable::from_file(path)?;
            let sample_s = if args.quick { 0.01 } else { 0.2 };
            let peak = crate::bench::sgemm_peak_gflops(sample_s);
            let row = crate::bench::net_step(&net, args.width, args.input, sample_s)?;
            (peak, vec![row])
        }
        None => run_all(args.quick, &args.only),
    };
    if rows.is_empty() {
        anyhow::bail!(
            "--only {:?} matches no benchmark; names: {}",
            args.only,
            crate::bench::BENCHMARKS.map(|(n, _)| n).join(", ")
        );
    }
    let cpu = Cpu::detect();
    let yes = |b: bool| if b { "yes" } else { "no" };
    println!(
        "single-core sgemm peak (256x256x256): {peak:.1} GFLOP/s on {} (AVX2 {}, AVX-512 {})\n",
        cpu.model,
        yes(cpu.avx2),
        yes(cpu.avx512)
    );
    let jax_here = cpu.jax_machine();
    println!(
        "{:<44} {:>10} {:>10} {:>8}  {:>14}  {:>18}  {:>14}",
        "case", "ours", "baseline", "speedup", "GFLOP/s (peak)", "JAX same CPU kind", "target"
    );
    for m in &rows {
        print!("{}", line(m, peak, jax_here));
    }
    println!(
        "\nbaselines: steps = same layers with a gradient buffer + axpy over all rows; eval = 16 rows per call."
    );
    println!(
        "steps are worst case: every batch point has positive loss, so every step runs a full backward pass."
    );
    match jax_here {
        Some(kind) => println!(
            "JAX: the authors' code timed on an {} (one core, same configs; BENCHMARKS.md).",
            kind.label()
        ),
        None => println!(
            "JAX: timed on an {} and an {} only; this CPU is neither, so no ratio is printed (figures in BENCHMARKS.md).",
            JaxMachine::XeonNoAvx512.label(),
            JaxMachine::EpycAvx512.label()
        ),
    }
    Ok(())
}
