//! What is known of each training point's margin `y F(w, x)` at the current weights.
//!
//! The weights carry a version number that grows by one each time a step changes them. A point's
//! margin, once computed at the current version (by a mini-batch forward pass or a full-set
//! check), is exact until the next change. This gives the stop rule of method §1 for free: the
//! loss is zero exactly when every point is known at the current version and none is below the
//! margin `1/alpha`; a step whose batch holds only points known to be fitted cannot change `w`
//! and needs no forward pass; and a check only evaluates the points not yet known.
//!
//! Each (point, version) margin is decided once: later evaluations at the same version use the
//! recorded value, so the decisions of the dynamics cannot depend on when checks happen.

pub struct MarginCache {
    margin: Vec<f32>,
    version_of: Vec<u64>,
    version: u64,
    fresh: usize,
    fresh_unfitted: usize,
    threshold: f32,
}

/// A point is fitted when `y F >= 1/alpha`; NaN counts as unfitted.
#[inline]
pub fn is_fitted(margin: f32, threshold: f32) -> bool {
    margin >= threshold
}

impl MarginCache {
    /// At initialization `F = f - f0 = 0` exactly, so every margin is known: 0.
    pub fn new(p: usize, threshold: f32) -> Self {
        MarginCache {
            margin: vec![0.0; p],
            version_of: vec![0; p],
            version: 0,
            fresh: p,
            fresh_unfitted: if is_fitted(0.0, threshold) { 0 } else { p },
            threshold,
        }
    }

    /// Is point `i`'s margin known at the current weights?
    #[inline]
    pub fn is_fresh(&self, i: usize) -> bool {
        self.version_of[i] == self.version
    }

    /// Known, and fitted, at the current weights.
    #[inline]
    pub fn known_fitted(&self, i: usize) -> bool {
        self.is_fresh(i) && is_fitted(self.margin[i], self.threshold)
    }

    /// Record a margin computed at the current weights and return the one that counts: the first
    /// recorded at this version.
    #[inline]
    pub fn record(&mut self, i: usize, margin: f32) -> f32 {
        if self.version_of[i] == self.version {
            return self.margin[i];
        }
        self.version_of[i] = self.version;
        self.margin[i] = margin;
        self.fresh += 1;
        if !is_fitted(margin, self.threshold) {
            self.fresh_unfitted += 1;
        }
        margin
    }

    /// The weights changed: nothing is known any more.
    pub fn invalidate(&mut self) {
        self.version += 1;
        self.fresh = 0;
        self.fresh_unfitted = 0;
    }

    /// Points whose margin is not known at the current weights.
    pub fn stale_count(&self) -> usize {
        self.margin.len() - self.fresh
    }

    pub fn stale_indices(&self) -> Vec<usize> {
        (0..self.margin.len())
            .filter(|&i| !self.is_fresh(i))
            .collect()
    }

    /// Points known to be unfitted at the current weights.
    pub fn known_unfitted(&self) -> usize {
        self.fresh_unfitted
    }

    /// Every margin known and every point fitted: the training loss is exactly zero.
    pub fn all_fitted(&self) -> bool {
        self.fresh == self.margin.len() && self.fresh_unfitted == 0
    }

    /// All margins (meaningful when [`Self::stale_count`] is 0).
    pub fn margins(&self) -> &[f32] {
        &self.margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut c = MarginCache::new(3, 0.5);
        assert_eq!((c.stale_count(), c.known_unfitted()), (0, 3));
        assert!(!c.all_fitted());
        c.invalidate();
        assert_eq!(c.stale_count(), 3);
        assert_eq!(c.record(0, 0.7), 0.7);
        assert_eq!(c.record(0, 0.1), 0.7, "first value at a version counts");
        assert!(c.known_fitted(0) && !c.known_fitted(1));
        c.record(1, f32::NAN);
        assert_eq!(c.known_unfitted(), 1, "NaN is unfitted");
        c.record(2, 0.9);
        assert_eq!(c.stale_count(), 0);
        assert!(!c.all_fitted());
        c.invalidate();
        for i in 0..3 {
            c.record(i, 1.0);
        }
        assert!(c.all_fitted());
        assert_eq!(c.stale_indices(), Vec::<usize>::new());
    }
}
