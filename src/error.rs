//! The crate's error type. Every variant renders as one line that names the field or file at
//! fault and, where there is one, the fix: the CLI prints it after `error: ` and exits non-zero.

use std::path::Path;

/// Everything that can go wrong in a run that is not a property of the dynamics (divergence and
/// budget exhaustion are run *statuses*, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A run or sweep parameter is missing, out of range or inconsistent; `field` names the
    /// config field at fault when there is one (a sweep file finds its line from it).
    #[error("invalid config: {message}")]
    Config {
        field: Option<&'static str>,
        message: String,
    },
    /// A data file is missing, unreadable or malformed.
    #[error("{path}: {message}")]
    Data { path: String, message: String },
    /// An external program (sbatch, squeue) is missing or refused.
    #[error("{0}")]
    External(String),
    /// Drawing a figure failed (the font, the plotting backend, the PNG encoder), or a figure
    /// has nothing to draw.
    #[error("{0}")]
    Plot(String),
    /// Encoding a table or a record (`format`: CSV, Parquet, JSON) failed.
    #[error("encoding {format}: {message}")]
    Encode {
        format: &'static str,
        message: String,
    },
    /// An I/O failure on a file the tool reads or writes.
    #[error("{path}: {err}")]
    Io { path: String, err: std::io::Error },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            field: None,
            message: message.into(),
        }
    }

    /// A config error in the field `field` (the name of the TOML key).
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Error::Config {
            field: Some(field),
            message: message.into(),
        }
    }

    pub fn plot(message: impl Into<String>) -> Self {
        Error::Plot(message.into())
    }

    pub fn encode(format: &'static str, message: impl std::fmt::Display) -> Self {
        Error::Encode {
            format,
            message: message.to_string(),
        }
    }

    pub fn data(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Data {
            path: path.as_ref().display().to_string(),
            message: message.into(),
        }
    }

    pub fn io(path: impl AsRef<Path>, err: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            err,
        }
    }
}

/// The message a panic carried (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}
