//! Helpers shared by the integration tests that drive the binary (each test crate uses a
//! subset, hence the allow).
#![allow(dead_code)]

use std::process::{Command, Output};

/// Run the binary with `args`, without the data-directory variables of the environment.
pub fn sgd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sgd-regimes"))
        .args(args)
        .env_remove("SGD_REGIMES_DATA")
        .env_remove("SGD_REGIMES_CIFAR10")
        .output()
        .expect("the binary runs")
}

/// Run the binary, require success, return its stdout.
pub fn ok(args: &[&str]) -> String {
    let o = sgd(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}
