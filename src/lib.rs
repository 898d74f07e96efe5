//! sgd-regimes: how the noise of SGD changes what neural networks learn in the lazy and
//! feature-learning regimes. Doc comments cite `docs/method.md` by section (`method §N`).
//!
//! Layout follows the data: [`data`] → [`model`] → [`train`] → (sweeps, analysis, plots) → `cli`.

pub mod analysis;
pub mod bench;
pub mod cli;
pub mod config;
pub mod data;
pub mod error;
pub mod fuzz;
pub mod io;
pub mod model;
pub mod plot;
pub mod reproduce;
pub mod rng;
pub mod sweep;
pub mod table;
pub mod train;

pub use config::RunConfig;
pub use error::{Error, Result};
