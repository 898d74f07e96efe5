//! Writing result files so that a reader never sees half of one: write a temporary file in the
//! same directory, fsync it, rename it over the target (atomic on POSIX), fsync the directory.
//! Only a regular, writable file (or nothing) is ever replaced: a symlink, FIFO, device node,
//! directory or read-only file at the target is refused, so `--out /dev/full` or a link into
//! someone else's data cannot be swapped for a JSON file.

use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Refuse a target that is not ours to replace: anything that exists and is not a regular
/// writable file.
pub fn check_replaceable(path: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let kind = meta.file_type();
    let what = if kind.is_symlink() {
        "is a symbolic link"
    } else if kind.is_dir() {
        "is a directory"
    } else if !kind.is_file() {
        "is not a regular file (a device, FIFO or socket)"
    } else if meta.permissions().readonly() {
        "is read-only"
    } else {
        return Ok(());
    };
    Err(Error::data(
        path,
        format!("{what}; refusing to replace it: give a path to a regular file or a new one"),
    ))
}

/// Check, before long work, that `path` can be written when the work is done: the target is
/// ours to replace ([`check_replaceable`]) and its directory takes a new file (it exists, is
/// writable, is not a pseudo file system such as `/proc`). Proven by creating and removing the
/// temporary file [`write_atomic`] will use. A full disk can still fail the final write; callers
/// then print what they computed (issue #23, case 1: no work lost to a bad destination).
pub fn check_destination(path: &Path) -> Result<()> {
    check_replaceable(path)?;
    let tmp = temporary_path(path)?;
    let probe = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(b"probe").and_then(|()| f.sync_all()));
    let _ = std::fs::remove_file(&tmp);
    probe.map_err(|e| {
        Error::data(
            path,
            format!(
                "cannot be written ({}): give a path in an existing, writable directory",
                io_reason(&e)
            ),
        )
    })
}

/// An I/O error's reason without Rust's "(os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Refuse an output directory that is a file: a one-line error rather than "File exists (os
/// error 17)" when it is created.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::data(
            dir,
            "is a file; --out takes a directory (made if missing)",
        ));
    }
    Ok(())
}

/// Create the output directory `dir` (and its parents) if missing ([`check_out_dir`] first).
pub fn create_out_dir(dir: &Path) -> Result<()> {
    check_out_dir(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// The largest run or sweep file the tool reads: a sweep of a million runs listed by hand is
/// a few megabytes, so a file far past this is a mistake (`/dev/zero`, a data file).
pub const MAX_TEXT_FILE: u64 = 64 << 20;

/// Read a text file the user names (a run or sweep config, a runs list) of at most `max`
/// bytes. Only a regular file is read (issue #23, case 11: `--config /dev/zero` read forever);
/// the size is checked before reading and the read is bounded in case the file grows.
pub fn read_text(path: &Path, max: u64, expected: &str) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "is a directory"
        } else {
            "is not a regular file (a device, FIFO or socket)"
        };
        return Err(Error::data(path, format!("{what}; give {expected}")));
    }
    let too_big = || {
        Error::data(
            path,
            format!("is larger than {} MiB; give {expected}", max >> 20),
        )
    };
    if meta.len() > max {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::take(f, max + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    String::from_utf8(bytes)
        .map_err(|_| Error::data(path, format!("is not UTF-8 text; give {expected}")))
}

/// Write `bytes` to `path` atomically; see the module comment for what is refused.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_via(path, |tmp| {
        let mut f = std::fs::File::create(tmp).map_err(|e| Error::io(path, e))?;
        f.write_all(bytes).map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))
    })
}

/// Create `path` holding `bytes` only if nothing is there: a temporary file is written whole,
/// then hard-linked to `path` (`link(2)` fails if the name exists, atomically, NFS included),
/// then removed. `Ok(false)` when another process created `path` first: of two racing
/// creators exactly one wins, and the loser can read the winner's complete file.
pub fn create_exclusive(path: &Path, bytes: &[u8]) -> Result<bool> {
    let tmp = temporary_path(path)?;
    let linked = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            if let Ok(d) = std::fs::File::open(parent_dir(path)) {
                let _ = d.sync_all();
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The temporary file `write` fills before it replaces `path`: hidden, in the same directory,
/// named after the target and this process, ending in the target's extension (plotters picks
/// the image format from it). [`is_temporary`] recognises these names.
pub fn temporary_path(path: &Path) -> Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::config(format!("{}: not a file path", path.display())))?;
    let mut tmp = format!(
        ".{}.{}{TMP_MARK}",
        name.to_string_lossy(),
        std::process::id()
    );
    if let Some(ext) = path.extension() {
        tmp.push('.');
        tmp.push_str(&ext.to_string_lossy());
    }
    Ok(parent_dir(path).join(tmp))
}

const TMP_MARK: &str = ".tmp";

/// Whether a file name is one of [`temporary_path`]'s: what a killed writer leaves behind.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && (name.ends_with(TMP_MARK) || name.contains(".tmp."))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Let `write` fill a temporary file, then rename it over `path` (atomic on POSIX) and fsync
/// the directory. The target is checked first ([`check_replaceable`]); on any failure the
/// temporary file is removed and `path` is untouched.
pub fn replace_via(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    check_replaceable(path)?;
    let tmp = temporary_path(path)?;
    let result = write(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        if let Ok(d) = std::fs::File::open(parent_dir(path)) {
            let _ = d.sync_all();
        }
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let e = write_atomic(&dir.path().join("missing/r.json"), b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing/r.json"), "{e}");
    }

    #[test]
    fn a_destination_is_checked_by_creating_a_file_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        check_destination(&dir.path().join("r.json")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let e = check_destination(&dir.path().join("typo/r.json"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("typo/r.json: cannot be written (No such file"),
            "{e}"
        );
        for p in ["/proc/x.json", "/sys/x.json"] {
            let e = check_destination(Path::new(p)).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{p}: cannot be written")), "{e}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_regular_writable_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("data.bin");
        std::fs::write(&target, b"theirs").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = write_atomic(&link, b"ours").unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"theirs");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );

        let e = write_atomic(dir.path(), b"x").unwrap_err().to_string();
        assert!(e.contains("directory"), "{e}");

        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = write_atomic(&fifo, b"x").unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");

        let e = write_atomic(Path::new("/dev/null"), b"x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");

        let ro = dir.path().join("ro.json");
        std::fs::write(&ro, b"keep").unwrap();
        let mut perm = std::fs::metadata(&ro).unwrap().permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(&ro, perm).unwrap();
        let e = write_atomic(&ro, b"x").unwrap_err().to_string();
        assert!(e.contains("read-only"), "{e}");
        assert_eq!(std::fs::read(&ro).unwrap(), b"keep");
    }
}
