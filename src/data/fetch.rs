//! `sgd-regimes data fetch mnist|cifar10`: download the official archives, verify their SHA-256
//! and unpack them where the loaders look (issue #5).
//!
//! Each file is streamed to `NAME.part` while its SHA-256 is computed, and renamed to `NAME` only
//! when the digest matches: a killed or corrupt download never leaves a file that looks complete.
//! A file already present with the right digest is not downloaded again. Mirrors are tried in
//! order; `--mirror URL` replaces them (the files are then `URL/NAME`). A mirror that does
//! not connect, or stops sending for [`Source::stall_timeout`], is given up for the next one.

use crate::config::DatasetKind;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One file of a data set and its SHA-256.
#[derive(Clone, Debug, PartialEq)]
pub struct Remote {
    pub name: String,
    pub sha256: String,
}

/// A data set as distributed: where it is, what it holds, and what to do after the download.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub label: &'static str,
    /// Base URLs tried in order; a file is `BASE/NAME`.
    pub mirrors: Vec<String>,
    pub files: Vec<Remote>,
    /// Unpack the (single) `.tar.gz` into the directory.
    pub unpack: bool,
    /// The default directory, and the data set it is for.
    pub default_dir: &'static str,
    pub dataset: DatasetKind,
    /// Give a mirror up when connecting, or any single read, takes longer than this (a slow
    /// but moving download is never cut).
    pub stall_timeout: std::time::Duration,
}

/// [`Source::stall_timeout`] of the official sources.
const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn remote(name: &str, sha256: &str) -> Remote {
    Remote {
        name: name.into(),
        sha256: sha256.into(),
    }
}

/// MNIST: the four gzipped IDX files (digests as published with the original files).
pub fn mnist() -> Source {
    Source {
        label: "MNIST",
        mirrors: vec![
            "https://ossci-datasets.s3.amazonaws.com/mnist".into(),
            "https://storage.googleapis.com/cvdf-datasets/mnist".into(),
        ],
        files: vec![
            remote(
                "train-images-idx3-ubyte.gz",
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
            remote(
                "train-labels-idx1-ubyte.gz",
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
            remote(
                "t10k-images-idx3-ubyte.gz",
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
            remote(
                "t10k-labels-idx1-ubyte.gz",
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        ],
        unpack: false,
        default_dir: "data/mnist",
        dataset: DatasetKind::MnistParity,
        stall_timeout: STALL_TIMEOUT,
    }
}

/// CIFAR-10, binary version: one archive of 170,052,171 bytes from the authors' page.
pub fn cifar10() -> Source {
    Source {
        label: "CIFAR-10",
        mirrors: vec!["https://www.cs.toronto.edu/~kriz".into()],
        files: vec![remote(
            super::cifar::ARCHIVE,
            "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        )],
        unpack: true,
        default_dir: "data/cifar10",
        dataset: DatasetKind::CifarAnimals,
        stall_timeout: STALL_TIMEOUT,
    }
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Already there with the right digest.
    Present,
    /// Downloaded from this URL and verified.
    Downloaded { url: String, bytes: u64 },
}

/// Progress callbacks: a file starts (with its length if the server says), bytes arrive.
pub trait Progress {
    fn start(&mut self, name: &str, len: Option<u64>);
    fn advance(&mut self, bytes: u64);
    fn finish(&mut self);
}

/// No progress display (tests, `--quiet`).
pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: &str, _: Option<u64>) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self) {}
}

/// SHA-256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The partial file of a download to `dest`: hidden, named after the file, this process and a
/// counter, so a `NAME.part` left by anyone (a user's symlink, a FIFO) is never opened.
fn partial_path(dest: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = dest
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    dest.with_file_name(format!(".{name}.{}.{n}.part", std::process::id()))
}

/// Download `url` to `dest` through a fresh partial file, checking its SHA-256 against `want`.
fn download(
    url: &str,
    dest: &Path,
    want: &str,
    stall: std::time::Duration,
    progress: &mut dyn Progress,
) -> Result<u64> {
    let part = partial_path(dest);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(stall))
        .timeout_per_read(Some(stall))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| Error::External(format!("{url}: {e}")))?;
    let len = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let name = dest
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    progress.start(&name, len);
    let mut reader = response.body_mut().as_reader();
    // Created new (O_EXCL) and never through a symbolic link (O_NOFOLLOW): issue #23, case 7.
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&part)
        .map_err(|e| Error::io(&part, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    let result = loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => {
                break Err(Error::External(format!(
                    "{url}: download interrupted ({e})"
                )));
            }
        };
        h.update(&buf[..n]);
        if let Err(e) = out.write_all(&buf[..n]) {
            break Err(Error::io(&part, e));
        }
        total += n as u64;
        progress.advance(n as u64);
    };
    progress.finish();
    let result = result.and_then(|()| out.sync_all().map_err(|e| Error::io(&part, e)));
    drop(out);
    let got = hex(&h.finalize());
    let result = result.and_then(|()| {
        if got == want {
            Ok(())
        } else {
            Err(Error::data(
                dest,
                format!(
                    "SHA-256 of the download from {url} is {got}, expected {want}: the file is corrupt or the mirror serves another version; run the command again, or pass another --mirror"
                ),
            ))
        }
    });
    match result {
        Ok(()) => {
            std::fs::rename(&part, dest).map_err(|e| Error::io(dest, e))?;
            Ok(total)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

/// Fetch every file of `source` into `dir` (created if needed), trying the mirrors in order.
pub fn fetch(source: &Source, dir: &Path, progress: &mut dyn Progress) -> Result<Vec<Outcome>> {
    let new_dir = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let result = fetch_into(source, dir, progress);
    if result.is_err() && new_dir {
        // A failed fetch leaves no empty directory behind (`remove_dir` removes only empty ones).
        let _ = std::fs::remove_dir(dir);
    }
    result
}

fn fetch_into(source: &Source, dir: &Path, progress: &mut dyn Progress) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for file in &source.files {
        let dest = dir.join(&file.name);
        if dest.is_file() && sha256_file(&dest)? == file.sha256 {
            outcomes.push(Outcome::Present);
            continue;
        }
        let mut errors = Vec::new();
        let mut done = None;
        for base in &source.mirrors {
            let url = format!("{}/{}", base.trim_end_matches('/'), file.name);
            match download(&url, &dest, &file.sha256, source.stall_timeout, progress) {
                Ok(bytes) => {
                    done = Some(Outcome::Downloaded { url, bytes });
                    break;
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        match done {
            Some(o) => outcomes.push(o),
            None => {
                return Err(Error::External(format!(
                    "could not fetch {} ({}); if this machine has no internet access, copy the files into {} by hand",
                    file.name,
                    errors.join("; "),
                    dir.display()
                )));
            }
        }
    }
    if source.unpack {
        for file in &source.files {
            unpack(&dir.join(&file.name), dir)?;
        }
    }
    Ok(outcomes)
}

/// Extract a `.tar.gz` into `dir` (the `tar` crate refuses entries that would land outside it).
fn unpack(archive: &Path, dir: &Path) -> Result<PathBuf> {
    let f = std::fs::File::open(archive).map_err(|e| Error::io(archive, e))?;
    tar::Archive::new(flate2::read::GzDecoder::new(f))
        .unpack(dir)
        .map_err(|e| Error::data(archive, format!("cannot unpack ({e})")))?;
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// A minimal HTTP/1.1 server on 127.0.0.1 serving `files` (GET /NAME), 404 otherwise; it
    /// records the paths asked for.
    fn serve(files: Vec<(String, Vec<u8>)>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                log.lock().unwrap().push(path.clone());
                let body = files.iter().find(|(n, _)| format!("/{n}") == path);
                let (status, body) = match body {
                    Some((_, b)) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"not here".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        (url, asked)
    }

    fn sha(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    /// A small CIFAR-10 archive in the distributed layout (6 files of 2 records each).
    fn cifar_archive() -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for (k, name) in super::super::cifar::FILES.iter().enumerate() {
            let img: Vec<u8> = (0..2 * 3072).map(|i| (i + k) as u8).collect();
            let data = super::super::cifar::encode(&img, &[k as u8, 9]);
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(
                &mut header,
                format!("cifar-10-batches-bin/{name}"),
                &data[..],
            )
            .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn cifar_archive_is_downloaded_verified_unpacked_and_then_loads() {
        let archive = cifar_archive();
        let (url, asked) = serve(vec![(super::super::cifar::ARCHIVE.into(), archive.clone())]);
        let source = Source {
            mirrors: vec![url],
            files: vec![remote(super::super::cifar::ARCHIVE, &sha(&archive))],
            ..cifar10()
        };
        let dir = tempfile::tempdir().unwrap();
        let out = fetch(&source, dir.path(), &mut Silent).unwrap();
        assert!(
            matches!(&out[0], Outcome::Downloaded { bytes, .. } if *bytes == archive.len() as u64)
        );
        assert!(
            dir.path()
                .join("cifar-10-batches-bin/test_batch.bin")
                .is_file()
        );
        assert!(!dir.path().join("cifar-10-binary.tar.gz.part").exists());
        let pool = super::super::cifar::load_dir(dir.path()).unwrap();
        assert_eq!(pool.labels.len(), 12);
        assert_eq!(pool.labels[0], -1.0); // class 0 (airplane) in data_batch_1
        assert_eq!(pool.labels[4], 1.0); // class 2 (bird) in data_batch_3

        // A second fetch finds the verified file and downloads nothing.
        let before = asked.lock().unwrap().len();
        assert_eq!(
            fetch(&source, dir.path(), &mut Silent).unwrap(),
            [Outcome::Present]
        );
        assert_eq!(asked.lock().unwrap().len(), before);
    }

    #[test]
    fn a_bad_digest_keeps_nothing_and_the_next_mirror_is_tried() {
        let good = b"the real bytes".to_vec();
        let (bad_url, _) = serve(vec![("f.gz".into(), b"tampered bytes".to_vec())]);
        let (missing_url, _) = serve(vec![]);
        let (good_url, _) = serve(vec![("f.gz".into(), good.clone())]);
        let dir = tempfile::tempdir().unwrap();
        let mut source = Source {
            mirrors: vec![bad_url.clone()],
            files: vec![remote("f.gz", &sha(&good))],
            ..mnist()
        };
        let e = fetch(&source, dir.path(), &mut Silent)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("SHA-256 of the download") && e.contains(&sha(&good)),
            "{e}"
        );
        assert!(!e.contains('\n'));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing kept"
        );

        source.mirrors = vec![missing_url, bad_url, good_url.clone()];
        let out = fetch(&source, dir.path(), &mut Silent).unwrap();
        assert_eq!(
            out,
            [Outcome::Downloaded {
                url: format!("{good_url}/f.gz"),
                bytes: good.len() as u64
            }]
        );
        assert_eq!(std::fs::read(dir.path().join("f.gz")).unwrap(), good);
    }

    /// Issue #23, case 7: a `NAME.part` symlink to a user's file, or a FIFO, is left alone (the
    /// download neither writes through the link nor hangs opening the FIFO).
    #[test]
    fn a_part_symlink_or_fifo_is_never_opened() {
        let good = b"the real bytes".to_vec();
        let (url, _) = serve(vec![
            ("f.gz".into(), good.clone()),
            ("g.gz".into(), good.clone()),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("theirs.txt");
        std::fs::write(&theirs, b"a user's file").unwrap();
        std::os::unix::fs::symlink(&theirs, dir.path().join("f.gz.part")).unwrap();
        let fifo = std::ffi::CString::new(dir.path().join("g.gz.part").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
        let source = Source {
            mirrors: vec![url],
            files: vec![remote("f.gz", &sha(&good)), remote("g.gz", &sha(&good))],
            ..mnist()
        };
        fetch(&source, dir.path(), &mut Silent).unwrap();
        assert_eq!(std::fs::read(&theirs).unwrap(), b"a user's file");
        assert_eq!(std::fs::read(dir.path().join("f.gz")).unwrap(), good);
        assert_eq!(std::fs::read(dir.path().join("g.gz")).unwrap(), good);
        assert!(
            std::fs::symlink_metadata(dir.path().join("f.gz.part"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    /// Issue #23, case 14: a fetch that fails leaves no directory it created.
    #[test]
    fn a_failed_fetch_removes_the_directory_it_made() {
        let (url, _) = serve(vec![]);
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("new");
        let source = Source {
            mirrors: vec![url],
            files: vec![remote("f.gz", &sha(b"x"))],
            ..mnist()
        };
        assert!(fetch(&source, &dir, &mut Silent).is_err());
        assert!(!dir.exists());
    }

    #[test]
    fn a_mirror_that_never_answers_is_given_up_for_the_next() {
        // Accepts connections and reads the request, then says nothing.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let silent_url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                held.push(stream.unwrap());
            }
        });
        let good = b"the real bytes".to_vec();
        let (good_url, _) = serve(vec![("f.gz".into(), good.clone())]);
        let dir = tempfile::tempdir().unwrap();
        let source = Source {
            mirrors: vec![silent_url.clone(), good_url.clone()],
            files: vec![remote("f.gz", &sha(&good))],
            stall_timeout: std::time::Duration::from_millis(300),
            ..mnist()
        };
        let out = fetch(&source, dir.path(), &mut Silent).unwrap();
        assert_eq!(
            out,
            [Outcome::Downloaded {
                url: format!("{good_url}/f.gz"),
                bytes: good.len() as u64
            }]
        );
        let only_silent = Source {
            mirrors: vec![silent_url],
            ..source
        };
        let e = fetch(
            &only_silent,
            tempfile::tempdir().unwrap().path(),
            &mut Silent,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("could not fetch f.gz") && e.contains("imeout"),
            "{e}"
        );
    }

    #[test]
    fn official_sources_list_the_distributed_files() {
        let m = mnist();
        assert_eq!(m.files.len(), 4);
        assert!(
            m.files
                .iter()
                .all(|f| f.sha256.len() == 64 && f.name.ends_with(".gz"))
        );
        let c = cifar10();
        assert_eq!(c.files[0].name, "cifar-10-binary.tar.gz");
        assert!(c.unpack && c.mirrors[0].starts_with("https://"));
    }
}
