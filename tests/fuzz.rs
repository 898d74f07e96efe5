//! The fuzz smoke pass (issue #12), on stable: every reader of outside bytes (`src/fuzz.rs`)
//! gets the committed corpus (`tests/fuzz/corpus/<target>/`), then seeded random mutations of
//! it (bytes flipped, cut, inserted, header words set to extreme values, pieces spliced) and
//! random bytes. A panic fails the test; proptest shrinks it and saves it to
//! `tests/fuzz.proptest-regressions`, which is committed so it is replayed forever.
//!
//! `FUZZ_CASES=N` sets the mutations per target (default 32,768: under a second each here); the long,
//! coverage-guided runs are `cargo +nightly fuzz run <target>` in `fuzz/`.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::path::PathBuf;

/// The seeds of `target` (`tests/fuzz/corpus/<target>/*`) and the entries of the corpus
/// libFuzzer grew from them (`libfuzzer.tar.gz` there, minimized with `cargo fuzz cmin`).
fn corpus(target: &str) -> Vec<Vec<u8>> {
    use std::io::Read;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut inputs = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        if path.file_name().is_some_and(|n| n == "libfuzzer.tar.gz") {
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
            for entry in tar.entries().unwrap() {
                let mut entry = entry.unwrap();
                if entry.header().entry_type().is_file() {
                    let mut input = Vec::new();
                    entry.read_to_end(&mut input).unwrap();
                    inputs.push(input);
                }
            }
        } else {
            inputs.push(bytes);
        }
    }
    inputs
}

/// One edit of an input.
#[derive(Clone, Debug)]
enum Mutation {
    SetByte(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
    /// A big-endian and little-endian word of an extreme value (sizes in headers).
    SetWord(usize, u32),
    /// A piece of another seed.
    Splice(usize, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let word = prop_oneof![
        Just(0u32),
        Just(1),
        Just(u32::MAX),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(28),
        Just(10_000),
        any::<u32>()
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), 1usize..64).prop_map(|(p, n)| Mutation::Remove(p, n)),
        (any::<usize>(), word).prop_map(|(p, w)| Mutation::SetWord(p, w)),
        (any::<usize>(), any::<usize>(), 1usize..256)
            .prop_map(|(s, p, n)| Mutation::Splice(s, p, n)),
    ]
}

fn apply(seeds: &[Vec<u8>], base: usize, edits: &[Mutation]) -> Vec<u8> {
    let mut b = seeds[base % seeds.len()].clone();
    for m in edits {
        let at = |p: usize, len: usize| if len == 0 { 0 } else { p % len };
        match m {
            Mutation::SetByte(p, v) if !b.is_empty() => {
                let i = at(*p, b.len());
                b[i] = *v;
            }
            Mutation::Truncate(p) => b.truncate(at(*p, b.len() + 1)),
            Mutation::Insert(p, bytes) => {
                let i = at(*p, b.len() + 1);
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Remove(p, n) if !b.is_empty() => {
                let i = at(*p, b.len());
                b.drain(i..(i + n).min(b.len()));
            }
            Mutation::SetWord(p, w) if b.len() >= 4 => {
                let i = at(*p, b.len() - 3);
                let bytes = if p % 2 == 0 {
                    w.to_be_bytes()
                } else {
                    w.to_le_bytes()
                };
                b[i..i + 4].copy_from_slice(&bytes);
            }
            Mutation::Splice(s, p, n) => {
                let other = &seeds[s % seeds.len()];
                if !other.is_empty() {
                    let from = at(*p, other.len());
                    let piece = &other[from..(from + n).min(other.len())];
                    let i = at(*p, b.len() + 1);
                    b.splice(i..i, piece.iter().copied());
                }
            }
            _ => {}
        }
    }
    b
}

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32_768)
}

/// Replay the corpus, then mutate it (`cases()` inputs) and feed random bytes (a quarter as many).
fn fuzz(target: &str) {
    let run = sgd_regimes::fuzz::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz target {target}"))
        .1;
    let seeds = corpus(target);
    assert!(!seeds.is_empty(), "the corpus of {target} is empty");
    for s in &seeds {
        run(s);
    }
    let config = |cases| Config {
        cases,
        // Seeded, so a CI failure reproduces; the seed differs per target.
        rng_seed: RngSeed::Fixed(target.bytes().map(u64::from).sum()),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fuzz.proptest-regressions"
            )),
        )),
        ..Config::default()
    };
    let strategy = (any::<usize>(), prop::collection::vec(mutation(), 1..8));
    TestRunner::new(config(cases()))
        .run(&strategy, |(base, edits)| {
            run(&apply(&seeds, base, &edits));
            Ok(())
        })
        .unwrap();
    TestRunner::new(config(cases() / 4))
        .run(&prop::collection::vec(any::<u8>(), 0..512), |bytes| {
            run(&bytes);
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_idx() {
    fuzz("idx");
}

#[test]
fn fuzz_cifar_batch() {
    fuzz("cifar_batch");
}

#[test]
fn fuzz_cifar_archive() {
    fuzz("cifar_archive");
}

#[test]
fn fuzz_npz() {
    fuzz("npz");
}

#[test]
fn fuzz_npy_pair() {
    fuzz("npy_pair");
}

#[test]
fn fuzz_net_toml() {
    fuzz("net_toml");
}

#[test]
fn fuzz_sweep_toml() {
    fuzz("sweep_toml");
}

#[test]
fn fuzz_run_toml() {
    fuzz("run_toml");
}

#[test]
fn fuzz_result_json() {
    fuzz("result_json");
}

#[test]
fn every_target_has_a_test_and_a_corpus() {
    let src = include_str!("fuzz.rs");
    for (name, _) in sgd_regimes::fuzz::TARGETS {
        assert!(
            src.contains(&format!("fn fuzz_{name}()")),
            "{name} has no test"
        );
        assert!(!corpus(name).is_empty(), "{name} has no corpus");
    }
}
