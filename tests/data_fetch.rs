//! `sgd-regimes data fetch` through the binary against a local HTTP server: a mirror serving
//! other bytes than the official files is refused with one line, and nothing is left behind.

use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::process::Command;

/// Serves `body` for every GET.
fn serve(body: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    url
}

#[test]
fn a_mirror_with_other_bytes_is_refused_and_nothing_is_kept() {
    let url = serve(b"these are not the MNIST files");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("mnist");
    let o = Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args([
            "data", "fetch", "mnist", "--quiet", "--mirror", &url, "--dir",
        ])
        .arg(&target)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("could not fetch train-images-idx3-ubyte.gz")
            && err.contains("SHA-256 of the download")
            && err.contains("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        "{err}"
    );
    // Nothing kept, not even the directory the fetch made.
    assert!(!target.exists());
}

#[test]
fn fetch_help_names_the_data_sets_and_the_default_directories() {
    let o = Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args(["data", "fetch", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for needle in ["mnist", "cifar10", "data/cifar10", "--mirror", "SHA-256"] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}
