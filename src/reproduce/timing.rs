//! The wall time a reproduction spent running, kept across invocations (`OUT/timing.json`) for
//! reproductions that report it ([`super::Reproduction::keeps_timing`]: `reproduce table1`).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Wall seconds a reproduction spent running, added up over every invocation that ran
/// something (`OUT/timing.json`, so a resumed reproduction still knows its total). All rows
/// share one queue, so a row has no wall time of its own: its share is its summed run time.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    #[serde(default)]
    pub total_wall_s: f64,
    /// Invocations that ran something (1 for an uninterrupted reproduction).
    #[serde(default)]
    pub invocations: usize,
    pub jobs: usize,
}

impl Timing {
    fn path(out: &Path) -> PathBuf {
        out.join("timing.json")
    }

    pub fn load(out: &Path) -> Result<Timing> {
        let path = Self::path(out);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::data(&path, format!("{e}; delete it to start the count again"))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Timing::default()),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Add `seconds` of wall time with `jobs` workers (`new_invocation` for the first addition
    /// of a command) and save.
    pub fn add(
        &mut self,
        out: &Path,
        seconds: f64,
        jobs: usize,
        new_invocation: bool,
    ) -> Result<()> {
        self.total_wall_s += seconds;
        self.invocations += usize::from(new_invocation);
        self.jobs = jobs;
        let text =
            serde_json::to_string_pretty(self).map_err(|e| Error::encode("timing.json", e))?;
        crate::io::write_atomic(&Self::path(out), text.as_bytes())
    }
}
