//! Entry points for fuzzing every reader of bytes that come from outside: IDX files (raw and
//! gzip), CIFAR-10 binary files and the `.tar.gz` archive, NumPy `.npz` and `.npy` files, net
//! files (layer lists), sweep and run TOML, result JSON.
//! Each takes arbitrary bytes and must return (an `Err` is fine: a clear error is the right
//! answer to a bad file); a panic, an abort or a hang is a bug.
//!
//! Two drivers call them: `tests/fuzz.rs` on stable (the committed corpus in `tests/fuzz/corpus/`
//! replayed, then seeded random mutations: the CI smoke pass) and the `cargo fuzz` targets in
//! `fuzz/` (nightly, libFuzzer, coverage-guided, for long runs). RELIABILITY.md has the figures.

use crate::config::RunConfig;
use crate::data::{cifar, mnist, numpy};
use crate::sweep::SweepSpec;

/// A fuzz target: arbitrary bytes in, nothing out; only a panic or a hang is a failure.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: [(&str, Target); 9] = [
    ("idx", idx),
    ("cifar_batch", cifar_batch),
    ("cifar_archive", cifar_archive),
    ("npz", npz),
    ("npy_pair", npy_pair),
    ("net_toml", net_toml),
    ("sweep_toml", sweep_toml),
    ("run_toml", run_toml),
    ("result_json", result_json),
];

/// Two files in one input: `u32 LE length of the first`, the first, then the second.
fn two_files(data: &[u8]) -> (&[u8], &[u8]) {
    match data.get(..4) {
        Some(len) => {
            let n = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let rest = &data[4..];
            rest.split_at(n.min(rest.len()))
        }
        None => (data, &[][..]),
    }
}

/// An MNIST image/label pair: the input is `u32 LE length of the image file`, the image file,
/// then the label file; each may be gzipped.
pub fn idx(data: &[u8]) {
    let (images, labels) = two_files(data);
    let any = data.first().is_some_and(|b| b & 1 == 1);
    let _ = mnist::pair_from_bytes(images.to_vec(), labels.to_vec(), "fuzz", any);
}

/// One file of the CIFAR-10 binary version.
pub fn cifar_batch(data: &[u8]) {
    let _ = cifar::batch_from_bytes(data, "fuzz");
}

/// The distributed CIFAR-10 `.tar.gz`.
pub fn cifar_archive(data: &[u8]) {
    let _ = cifar::archive_from_reader(data, "fuzz");
}

/// A `.npz` archive holding `x` and `y`.
pub fn npz(data: &[u8]) {
    let _ = numpy::npz_from_bytes(data);
}

/// Two `.npy` files: `u32 LE length of x.npy`, `x.npy`, then `y.npy`.
pub fn npy_pair(data: &[u8]) {
    let (x, y) = two_files(data);
    let _ = numpy::npy_pair_from_bytes(x, y);
}

/// A net file (`--net`), and the net it builds for small images when its sizes are small.
pub fn net_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(net) = crate::config::net::NetTable::from_text(text, "fuzz.toml")
        && let Ok(plan) = crate::model::layer_list::plan(&net.layers.0, 2, [8, 8, 1])
        && plan.layout().len() < 1 << 20
        && plan.floats_per_image(crate::config::Activation::Relu) < 1 << 20
    {
        let _ = crate::model::layer_list::build(&net.layers.0, 2, [8, 8, 1], 2, Default::default());
    }
}

/// A sweep file, and the runs it plans when the grid is small.
pub fn sweep_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(spec) = SweepSpec::parse(text, "fuzz.toml")
        && spec.grid_size() <= 256
    {
        let _ = spec.runs();
    }
}

/// A run config file (`train --config`), checked as a run would be.
pub fn run_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cfg) = RunConfig::from_toml(text, "fuzz.toml") {
        let _ = cfg.validated();
    }
}

/// A result file (or, if the first byte is odd, a failure record) as `sweep run` checks it.
pub fn result_json(data: &[u8]) {
    let Some((&flag, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let _ = crate::sweep::store::parse_stored(text, "0123456789abcdef", flag % 2 == 1);
}
