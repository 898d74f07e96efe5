//! Which reproduction a `--out` directory belongs to (issue #23, case 13): a directory holds
//! one reproduction at one preset, named in `reproduction.txt`. Another reproduction or preset
//! pointed at it is refused by name before anything is planned, written or run, so presets
//! never mix their sweep files and runs. A directory made before this file existed is adopted
//! by the first command that runs in it.

use super::plan::Planning;
use crate::error::{Error, Result};
use std::path::Path;

/// The file naming a directory's reproduction.
pub const OWNER_FILE: &str = "reproduction.txt";

/// Check that `out` is free or already holds `command` (e.g. `reproduce fc-mnist --preset
/// laptop`); with [`Planning::Write`], create `out` and record `command` if it is new.
pub fn claim(out: &Path, command: &str, planning: Planning) -> Result<()> {
    let path = out.join(OWNER_FILE);
    crate::io::check_out_dir(out)?;
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim() == command => return Ok(()),
        Ok(text) => {
            return Err(Error::data(
                out,
                format!(
                    "holds `{}`, not `{command}`; give this one another --out (presets and reproductions never share a directory)",
                    text.trim()
                ),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(&path, e)),
    }
    if matches!(planning, Planning::DryRun) {
        return Ok(());
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    // Two commands started together on a new directory: exactly one names it.
    if !crate::io::create_exclusive(&path, format!("{command}\n").as_bytes())? {
        return claim(out, command, Planning::DryRun);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_holds_one_reproduction_and_dry_runs_write_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        let laptop = "reproduce fc-mnist --preset laptop";
        claim(&out, laptop, Planning::DryRun).unwrap();
        assert!(!out.exists());
        claim(&out, laptop, Planning::Write).unwrap();
        claim(&out, laptop, Planning::Write).unwrap();
        let e = claim(&out, "reproduce fc-mnist --preset paper", Planning::DryRun)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("holds `reproduce fc-mnist --preset laptop`, not `reproduce fc-mnist --preset paper`"),
            "{e}"
        );
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let e = claim(&file, laptop, Planning::Write)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a file; --out takes a directory"), "{e}");
    }
}
