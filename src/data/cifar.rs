//! The CIFAR-10 binary version (method §3): images 32x32x3, stored here in HWC order (the files
//! hold each image as three 32x32 planes, R then G then B), one label byte each.
//!
//! - `cifar-animals`: bytes mapped to `(b - 120.93118286132812) / 64.14186096191406`, `y = -1`
//!   for classes 0, 1, 8, 9 (airplane, automobile, ship, truck) and `+1` for the six animal
//!   classes (the named map `LabelMap::cifar_animals`).
//! - `cifar10`: the same files with a label map choosing the `+1` classes, bytes standardized by
//!   the mean and standard deviation of every byte of the pool.
//!
//! A directory is searched for `data_batch_1..5.bin` and `test_batch.bin`, directly, in a
//! `cifar-10-batches-bin/` subdirectory, or inside `cifar-10-binary.tar.gz` as distributed. The
//! six files are pooled in that order (method §3 then splits the pool with the two seeds).

use super::labels::LabelMap;
use super::split::Pool;
use crate::error::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

pub const MEAN: f32 = 120.931_18;
pub const STD: f32 = 64.141_86;
const SIDE: usize = 32;
const PIXELS: usize = SIDE * SIDE * 3;
/// One record: a label byte, then the image.
const RECORD: usize = 1 + PIXELS;
/// The six files of the binary version, in pooling order.
pub const FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];
/// The archive as distributed, and the directory it unpacks to.
pub const ARCHIVE: &str = "cifar-10-binary.tar.gz";
pub const ARCHIVE_DIR: &str = "cifar-10-batches-bin";

/// Whether `dir` holds CIFAR-10 in a form [`load_dir`] reads (without reading it).
pub fn present(dir: &Path) -> bool {
    [dir.to_path_buf(), dir.join(ARCHIVE_DIR)]
        .iter()
        .any(|base| FILES.iter().all(|f| base.join(f).is_file()))
        || dir.join(ARCHIVE).is_file()
}

/// Pool the six CIFAR-10 binary files found in `dir`: `cifar-animals`.
pub fn load_dir(dir: &Path) -> Result<Pool> {
    let mut pool = read_dir(dir)?;
    pool.label_named(&LabelMap::cifar_animals());
    Ok(pool)
}

/// The same files labelled by `map` and standardized by their own moments: `cifar10`.
pub fn load_any(dir: &Path, map: &LabelMap) -> Result<Pool> {
    let mut pool = read_dir(dir)?;
    pool.label_with(map)?;
    pool.standardize_by_own_moments();
    Ok(pool)
}

fn read_dir(dir: &Path) -> Result<Pool> {
    super::check_data_dir(
        dir,
        "pass --data-dir with the CIFAR-10 binary files (`sgd-regimes data fetch cifar10 --dir DIR` downloads them)",
    )?;
    for base in [dir.to_path_buf(), dir.join(ARCHIVE_DIR)] {
        if FILES.iter().any(|f| base.join(f).is_file()) {
            return load_files(&base);
        }
    }
    let archive = dir.join(ARCHIVE);
    if archive.is_file() {
        return load_archive(&archive);
    }
    Err(Error::data(
        dir,
        format!(
            "no CIFAR-10 binary files here (expected {}, a {ARCHIVE_DIR}/ directory, or {ARCHIVE}); `sgd-regimes data fetch cifar10 --dir DIR` downloads them",
            FILES.join(", ")
        ),
    ))
}

fn load_files(base: &Path) -> Result<Pool> {
    let paths: Vec<PathBuf> = FILES.iter().map(|f| base.join(f)).collect();
    if let Some(missing) = paths.iter().find(|p| !p.is_file()) {
        return Err(Error::data(
            missing,
            "missing: the CIFAR-10 binary version has 6 files (data_batch_1..5.bin, test_batch.bin); download it again with `sgd-regimes data fetch cifar10`",
        ));
    }
    let mut pool = empty_pool(format!("CIFAR-10 binary files in {}", base.display()));
    pool.files = paths.clone();
    for p in &paths {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        append(&mut pool, &bytes, &p.display().to_string())?;
    }
    Ok(pool)
}

/// Read the six files straight out of the distributed `.tar.gz`.
fn load_archive(archive: &Path) -> Result<Pool> {
    let file = std::fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut pool = archive_from_reader(file, &archive.display().to_string())?;
    pool.files = vec![archive.to_path_buf()];
    Ok(pool)
}

/// Records in one file of the binary version.
const RECORDS_PER_FILE: usize = 10_000;

/// The most the archive expands to: its six files (184 MB) plus slack for the readme, the
/// class names and tar headers. Decompression stops there (issue #23, case 11).
const MAX_ARCHIVE_BYTES: u64 = 256 << 20;

/// The pool held by a `.tar.gz` read from `reader`; `origin` names it in errors.
pub fn archive_from_reader(reader: impl Read, origin: &str) -> Result<Pool> {
    let archive = origin;
    let bad = |e: std::io::Error| {
        Error::data(
            archive,
            format!(
                "not a readable .tar.gz ({}); download it again with `sgd-regimes data fetch cifar10`",
                super::printable(&e.to_string())
            ),
        )
    };
    let bounded = flate2::read::GzDecoder::new(reader).take(MAX_ARCHIVE_BYTES);
    let mut tar = tar::Archive::new(bounded);
    let mut found: Vec<Option<Vec<u8>>> = vec![None; FILES.len()];
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.into_owned();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(k) = FILES.iter().position(|f| *f == name) {
            let size = entry.size();
            if size > (RECORDS_PER_FILE * RECORD) as u64 {
                return Err(Error::data(
                    archive,
                    format!(
                        "{name} announces {size} bytes; a CIFAR-10 batch holds {} (the archive is corrupt)",
                        RECORDS_PER_FILE * RECORD
                    ),
                ));
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(bad)?;
            found[k] = Some(bytes);
        }
    }
    let mut pool = empty_pool(format!("CIFAR-10 binary archive {origin}"));
    for (name, bytes) in FILES.iter().zip(found) {
        let bytes = bytes.ok_or_else(|| {
            Error::data(
                archive,
                format!("{name} is not in the archive; download it again with `sgd-regimes data fetch cifar10`"),
            )
        })?;
        append(&mut pool, &bytes, &format!("{origin}:{name}"))?;
    }
    Ok(pool)
}

fn empty_pool(source: String) -> Pool {
    Pool {
        pixels: Vec::new(),
        shape: [SIDE, SIDE, 3],
        mean: MEAN,
        std: STD,
        source,
        ..Pool::default()
    }
}

/// The pool of one file of the binary version (`origin` names it in errors), as
/// `cifar-animals` labels it.
pub fn batch_from_bytes(bytes: &[u8], origin: &str) -> Result<Pool> {
    let mut pool = empty_pool(origin.to_string());
    append(&mut pool, bytes, origin)?;
    pool.label_named(&LabelMap::cifar_animals());
    Ok(pool)
}

/// Validate the records of one file and append them (images converted to HWC).
fn append(pool: &mut Pool, bytes: &[u8], origin: &str) -> Result<()> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD) {
        return Err(Error::data(
            origin,
            format!(
                "{} bytes is not a whole number of {RECORD}-byte CIFAR-10 records (label + 32x32x3 image); the file is truncated or not the binary version",
                bytes.len()
            ),
        ));
    }
    pool.pixels.reserve(bytes.len() / RECORD * PIXELS);
    for (k, record) in bytes.chunks_exact(RECORD).enumerate() {
        let class = record[0];
        if class > 9 {
            return Err(Error::data(
                origin,
                format!(
                    "record {k} has label {class}; CIFAR-10 labels are 0-9 (is this CIFAR-100?)"
                ),
            ));
        }
        pool.classes.push(class as i64);
        let planes = &record[1..];
        for pix in 0..SIDE * SIDE {
            pool.pixels.extend([
                planes[pix],
                planes[SIDE * SIDE + pix],
                planes[2 * SIDE * SIDE + pix],
            ]);
        }
    }
    Ok(())
}

/// Encode images (HWC) and classes as one file of the binary version (for tests and fixtures).
pub fn encode(images_hwc: &[u8], classes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(classes.len() * RECORD);
    for (img, &class) in images_hwc.chunks_exact(PIXELS).zip(classes) {
        out.push(class);
        for ch in 0..3 {
            out.extend((0..SIDE * SIDE).map(|pix| img[pix * 3 + ch]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Images whose pixel (y, x, c) holds a recognizable value.
    fn images(n: usize, seed: u8) -> Vec<u8> {
        (0..n * PIXELS)
            .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
            .collect()
    }

    fn write_set(dir: &Path, per_file: usize) -> Vec<u8> {
        let mut all = Vec::new();
        for (k, f) in FILES.iter().enumerate() {
            let img = images(per_file, k as u8);
            let classes: Vec<u8> = (0..per_file).map(|i| ((i + k) % 10) as u8).collect();
            std::fs::write(dir.join(f), encode(&img, &classes)).unwrap();
            all.extend(img);
        }
        all
    }

    #[test]
    fn planes_become_hwc_and_labels_split_animals_from_vehicles() {
        // One record by hand: R plane all 1, G plane all 2, B plane 0..: HWC is (1, 2, b).
        let mut rec = vec![3u8];
        rec.extend(std::iter::repeat_n(1u8, 1024));
        rec.extend(std::iter::repeat_n(2u8, 1024));
        rec.extend((0..1024).map(|i| (i % 256) as u8));
        let mut pool = empty_pool("t".into());
        append(&mut pool, &rec, "t").unwrap();
        assert_eq!(&pool.pixels[..6], &[1, 2, 0, 1, 2, 1]);
        assert_eq!(pool.pixels[3 * 33 + 2], 33);
        assert_eq!(pool.classes, [3]);
    }

    #[test]
    fn directory_subdirectory_and_archive_give_the_same_pool() {
        let dir = tempfile::tempdir().unwrap();
        let want = write_set(dir.path(), 3);
        let direct = load_dir(dir.path()).unwrap();
        assert_eq!(direct.pixels, want);
        assert_eq!(direct.labels.len(), 18);
        assert_eq!(direct.labels[0], -1.0); // class 0 (file 1, image 0)
        assert_eq!(direct.labels[2], 1.0); // class 2

        // The same files inside cifar-10-batches-bin/ and inside the .tar.gz.
        let other = tempfile::tempdir().unwrap();
        let sub = other.path().join(ARCHIVE_DIR);
        std::fs::create_dir(&sub).unwrap();
        for f in FILES {
            std::fs::copy(dir.path().join(f), sub.join(f)).unwrap();
        }
        assert_eq!(load_dir(other.path()).unwrap().pixels, want);

        let packed = tempfile::tempdir().unwrap();
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(packed.path().join(ARCHIVE)).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        tar.append_dir_all(ARCHIVE_DIR, &sub).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        let from_archive = load_dir(packed.path()).unwrap();
        assert_eq!(from_archive.pixels, want);
        assert_eq!(from_archive.labels, direct.labels);
    }

    #[test]
    fn bad_files_name_the_file_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        let e = load_dir(p).unwrap_err().to_string();
        assert!(
            e.contains("no CIFAR-10 binary files here") && e.contains("data fetch cifar10"),
            "{e}"
        );
        write_set(p, 2);
        std::fs::remove_file(p.join("test_batch.bin")).unwrap();
        let e = load_dir(p).unwrap_err().to_string();
        assert!(e.contains("test_batch.bin: missing"), "{e}");
        write_set(p, 2);
        let mut bytes = std::fs::read(p.join("data_batch_3.bin")).unwrap();
        bytes.pop();
        std::fs::write(p.join("data_batch_3.bin"), &bytes).unwrap();
        let e = load_dir(p).unwrap_err().to_string();
        assert!(
            e.contains("data_batch_3.bin: 6145 bytes is not a whole number"),
            "{e}"
        );
        write_set(p, 2);
        let mut bytes = std::fs::read(p.join("data_batch_2.bin")).unwrap();
        bytes[RECORD] = 17;
        std::fs::write(p.join("data_batch_2.bin"), &bytes).unwrap();
        let e = load_dir(p).unwrap_err().to_string();
        assert!(e.contains("data_batch_2.bin: record 1 has label 17"), "{e}");
        std::fs::write(p.join(ARCHIVE), b"not gzip").unwrap();
        for f in FILES {
            std::fs::remove_file(p.join(f)).unwrap();
        }
        let e = load_dir(p).unwrap_err().to_string();
        assert!(
            e.contains("cifar-10-binary.tar.gz: not a readable .tar.gz"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    /// Issue #23, case 11: the archive expands to at most 256 MiB, a batch announcing more
    /// than 10,000 records is refused before it is read, and a corrupt archive's bytes are not
    /// echoed raw.
    #[test]
    fn archive_reads_are_bounded_and_errors_printable() {
        use std::io::Write;
        let pack = |name: &str, size: u64, body: &mut dyn Read| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            {
                let mut tar = tar::Builder::new(&mut gz);
                let mut h = tar::Header::new_gnu();
                h.set_size(size);
                h.set_mode(0o644);
                tar.append_data(&mut h, name, body).unwrap();
                tar.finish().unwrap();
            }
            gz.flush().unwrap();
            gz.finish().unwrap()
        };
        // A file the reader skips, 300 MiB of zeros: reading stops at the bound.
        let big = 300u64 << 20;
        let bomb = pack("readme.html", big, &mut std::io::repeat(0).take(big));
        assert!(bomb.len() < 2 << 20);
        let e = archive_from_reader(&bomb[..], "c.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.tar.gz: not a readable .tar.gz"), "{e}");
        // A batch announcing 20,000 records.
        let size = (2 * RECORDS_PER_FILE * RECORD) as u64;
        let huge = pack(FILES[0], size, &mut std::io::repeat(0).take(size));
        let e = archive_from_reader(&huge[..], "c.tar.gz")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("data_batch_1.bin announces 61460000 bytes"),
            "{e}"
        );
        assert_eq!(super::super::printable("a\x1b[31mb\n"), "a\\u{1b}[31mb\\n");
    }
}
