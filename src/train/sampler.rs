//! Mini-batch indices (method §1): each step draws `B` distinct indices uniformly from `0..P`,
//! independently of earlier steps, in O(B) time and without touching the other `P - B` indices.
//!
//! Written by hand (Floyd's algorithm, ten lines) rather than `rand::seq::index::sample`, which
//! switches between algorithms by heuristics, some of them O(P), and whose choice may change
//! between releases; a run must stay a pure function of its config.

use crate::rng::Rng;
use rand::RngExt;

pub struct BatchSampler {
    p: usize,
    b: usize,
    batch: Vec<usize>,
    /// One bit per index, set only while a draw is in progress.
    taken: Vec<u64>,
    rng: Rng,
}

impl BatchSampler {
    /// A sampler of `b` distinct indices out of `p` (`1 <= b <= p`).
    pub fn new(p: usize, b: usize, rng: Rng) -> Self {
        assert!(
            b >= 1 && b <= p,
            "batch must be in 1..=p (validated by the config)"
        );
        BatchSampler {
            p,
            b,
            batch: if b == p {
                (0..p).collect()
            } else {
                Vec::with_capacity(b)
            },
            taken: vec![0; p.div_ceil(64)],
            rng,
        }
    }

    /// The next batch. With `B = P` it is every index (gradient descent) and draws nothing.
    pub fn draw(&mut self) -> &[usize] {
        let b = self.b;
        if b == self.p {
            return &self.batch;
        }
        self.batch.clear();
        // Floyd: for j = P-B .. P-1, draw t uniform in 0..=j; take t, or j if t is taken already.
        for j in self.p - b..self.p {
            let t = self.rng.random_range(0..=j);
            let pick = if self.taken[t / 64] >> (t % 64) & 1 == 1 {
                j
            } else {
                t
            };
            self.taken[pick / 64] |= 1 << (pick % 64);
            self.batch.push(pick);
        }
        for &i in &self.batch {
            self.taken[i / 64] &= !(1 << (i % 64));
        }
        &self.batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{self, Stream};

    #[test]
    fn batches_are_distinct_in_range_and_reproducible() {
        let mut a = BatchSampler::new(100, 10, rng::stream(3, Stream::Batch));
        let mut b = BatchSampler::new(100, 10, rng::stream(3, Stream::Batch));
        for _ in 0..1000 {
            let x = a.draw().to_vec();
            assert_eq!(x, b.draw());
            let mut s = x.clone();
            s.sort();
            s.dedup();
            assert_eq!(s.len(), 10);
            assert!(s.iter().all(|&i| i < 100));
        }
    }

    #[test]
    fn full_batch_is_every_index() {
        let mut s = BatchSampler::new(7, 7, rng::stream(0, Stream::Batch));
        assert_eq!(s.draw(), &[0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn every_index_and_pair_is_equally_likely() {
        // P = 6, B = 3: each index is in a batch with probability 1/2 and each pair with 1/5.
        let mut s = BatchSampler::new(6, 3, rng::stream(1, Stream::Batch));
        let n = 60_000;
        let mut single = [0usize; 6];
        let mut pair = [[0usize; 6]; 6];
        for _ in 0..n {
            let x = s.draw().to_vec();
            for &i in &x {
                single[i] += 1;
                for &j in &x {
                    if i < j {
                        pair[i][j] += 1;
                    }
                }
            }
        }
        for c in single {
            let f = c as f64 / n as f64;
            assert!((f - 0.5).abs() < 0.01, "{f}");
        }
        for (i, row) in pair.iter().enumerate() {
            for (j, &count) in row.iter().enumerate().skip(i + 1) {
                let f = count as f64 / n as f64;
                assert!((f - 0.2).abs() < 0.01, "pair {i},{j}: {f}");
            }
        }
    }
}
