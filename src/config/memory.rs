//! How much memory a run needs, checked before anything is allocated: a config such as
//! `--width 100000000000` or `--p 100000000000` is a one-line error that states the memory
//! it would need, not an abort in the allocator (or an overflow in a size computation).
//! The estimate is deliberately rough (within a small factor); it is computed in `f64`, so
//! no size can wrap.

use super::valid::{DataSpec, NetSpec, ValidConfig};
use crate::error::{Error, Result};

/// Bytes a run needs, by what holds them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryEstimate {
    /// Training and test inputs (f32) and labels.
    pub data: f64,
    /// The parameter buffer and its companions (initial weights, gradient, update).
    pub weights: f64,
    /// Activations of one evaluation chunk, forward and backward.
    pub activations: f64,
}

impl MemoryEstimate {
    pub fn total(&self) -> f64 {
        self.data + self.weights + self.activations
    }
}

/// Points evaluated at once when checking the fitted set (`train::trainer`'s chunk).
const CHUNK: f64 = 1024.0;

impl ValidConfig {
    /// The number of parameters, roughly for the CNNs (their kernels are small; the point is
    /// the order of magnitude for a huge width).
    pub fn approximate_parameters(&self) -> f64 {
        let [_, _, c] = self.shape().map(|v| v as f64);
        let d = self.input_size();
        match &self.net {
            NetSpec::Perceptron => d,
            NetSpec::Fc { depth, width, .. } => {
                let (l, h) = (*depth as f64, *width as f64);
                d * h + (l - 1.0) * h * h + l * h + h
            }
            NetSpec::SimpleCnn { width, .. } => {
                let h = *width as f64;
                25.0 * c * h + 25.0 * h * h + 64.0 * h * h + 3.0 * h
            }
            NetSpec::Mnas { width, .. } => {
                let h = *width as f64;
                3.0 * (25.0 * c * h + 25.0 * h + 8.0 * h * h) + 4.0 * h
            }
            NetSpec::Layers { .. } => self
                .layer_plan()
                .and_then(|r| r.ok())
                .map_or(0.0, |b| b.layout().len() as f64),
        }
    }

    /// The checked ops of a `[net]` list at this input shape (`None` for the built-in nets).
    pub fn layer_plan(&self) -> Option<Result<crate::model::cnn::CnnBuilder>> {
        match &self.net {
            NetSpec::Layers { layers, width, .. } => Some(crate::model::layer_list::plan(
                &layers.0,
                *width,
                self.shape(),
            )),
            _ => None,
        }
    }

    fn input_size(&self) -> f64 {
        self.shape().iter().map(|&v| v as f64).product()
    }

    /// Activations of one point, forward (backward doubles it).
    fn activations_per_point(&self) -> f64 {
        let [rows, cols, _] = self.shape().map(|v| v as f64);
        match &self.net {
            NetSpec::Perceptron => 1.0,
            NetSpec::Fc { depth, width, .. } => 2.0 * *depth as f64 * *width as f64,
            NetSpec::SimpleCnn { width, .. } | NetSpec::Mnas { width, .. } => {
                8.0 * rows * cols * *width as f64
            }
            NetSpec::Layers { activation, .. } => self
                .layer_plan()
                .and_then(|r| r.ok())
                .map_or(0.0, |b| b.floats_per_image(*activation) as f64 / 2.0),
        }
    }

    pub fn memory_estimate(&self) -> MemoryEstimate {
        const F32: f64 = 4.0;
        let points = self.p as f64 + self.p_test as f64;
        // A data set drawn from a file is held whole (all 10,000 bundled digits, or a CIFAR
        // pool), but it is bounded by the file; the synthetic set is generated at this size.
        let data = points * (self.input_size() * F32 + 8.0);
        let weights = 4.0 * self.approximate_parameters() * F32;
        let activations = 2.0 * CHUNK.min(points) * self.activations_per_point() * F32;
        MemoryEstimate {
            data,
            weights,
            activations,
        }
    }

    /// Refuse a run that cannot fit in this machine's memory (`physical` bytes).
    pub fn check_memory(&self, physical: f64) -> Result<()> {
        if let Some(plan) = self.layer_plan() {
            plan?;
        }
        let m = self.memory_estimate();
        if m.total() <= physical {
            return Ok(());
        }
        // The fix names what makes the largest part (issue #23, case 14: a huge depth was
        // told to lower p or width).
        let depleted = matches!(self.data, DataSpec::DepletedSign { .. });
        let what = if m.data >= m.weights.max(m.activations) {
            if depleted {
                "p, p_test or dim"
            } else {
                "p or p_test"
            }
        } else {
            match self.net {
                NetSpec::Fc { .. } => "depth or width",
                NetSpec::SimpleCnn { .. } | NetSpec::Mnas { .. } => "width",
                NetSpec::Layers { .. } => "width or the sizes in [net]",
                NetSpec::Perceptron => "dim",
            }
        };
        Err(Error::config(format!(
            "this run needs about {} of memory (data {}, weights {}, activations {}), more than this machine's {}; lower {what}",
            bytes(m.total()),
            bytes(m.data),
            bytes(m.weights),
            bytes(m.activations),
            bytes(physical)
        )))
    }
}

/// This machine's physical memory in bytes (`None` if the system does not say).
pub fn physical_memory() -> Option<f64> {
    // SAFETY: sysconf only reads system constants.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGE_SIZE),
        )
    };
    (pages > 0 && size > 0).then_some(pages as f64 * size as f64)
}

/// `1.5 GiB`, `300 MiB`, `2.1e6 TiB`.
pub fn bytes(b: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if v >= 1e4 {
        format!("{v:.1e} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ModelKind, RunConfig};

    fn fc(width: usize, p: usize) -> RunConfig {
        RunConfig {
            model: ModelKind::Fc,
            depth: Some(2),
            width: Some(width),
            p,
            p_test: 128,
            batch: 16.min(p),
            temperature: Some(0.01),
            ..RunConfig::default()
        }
    }

    #[test]
    fn ordinary_runs_fit_and_huge_ones_are_refused_with_the_memory_they_need() {
        let v = fc(64, 1024).validated().unwrap();
        let m = v.memory_estimate();
        // 1152 points of 784 floats, ~51k parameters.
        assert!((m.data - 1152.0 * (784.0 * 4.0 + 8.0)).abs() < 1.0, "{m:?}");
        assert!(m.total() < 20e6, "{m:?}");
        v.check_memory(8e9).unwrap();

        let e = fc(100_000_000_000, 128)
            .validated()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("this run needs about")
                && e.contains("weights")
                && e.ends_with("lower depth or width"),
            "{e}"
        );
        let deep = RunConfig {
            depth: Some(100_000_000),
            ..fc(16, 128)
        };
        let e = deep.validated().unwrap_err().to_string();
        assert!(e.ends_with("lower depth or width"), "{e}");
        let e = fc(64, 1 << 36).validated().unwrap_err().to_string();
        assert!(e.ends_with("lower p or p_test"), "{e}");
        let e = fc(64, usize::MAX - 1).validated().unwrap_err().to_string();
        assert!(e.contains("needs about") || e.contains("p_test"), "{e}");
    }

    #[test]
    fn bytes_read_naturally() {
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.0 GiB");
        assert_eq!(bytes(12.0), "12.0 B");
    }
}
