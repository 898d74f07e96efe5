//! `sgd-regimes data fetch mnist|cifar10`: download, verify and unpack the real data sets.

use crate::data::fetch::{self, Outcome, Progress, Silent};
use anyhow::Result;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a data set's official files, check their SHA-256, and unpack them.
    ///
    /// MNIST: the four IDX .gz files (train + t10k, 70,000 digits) into DIR (default
    /// data/mnist). CIFAR-10: cifar-10-binary.tar.gz (170 MB) into DIR (default data/cifar10),
    /// unpacked to DIR/cifar-10-batches-bin. Files already present with the right digest are
    /// kept; a download is renamed into place only once verified. Then train with
    /// `--data-dir DIR`.
    Fetch(FetchArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// MNIST digits (for --dataset mnist-parity).
    Mnist,
    /// CIFAR-10, binary version (for --dataset cifar-animals).
    Cifar10,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    pub which: Which,
    /// Directory to put the files in (created if needed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Base URL to fetch the files from instead of the official hosts (files are URL/NAME);
    /// repeat to try several in order. The SHA-256 digests are checked all the same.
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A byte progress bar per file on stderr (hidden when stderr is not a terminal).
#[derive(Default)]
struct Bytes {
    bar: Option<ProgressBar>,
}

impl Progress for Bytes {
    fn start(&mut self, name: &str, len: Option<u64>) {
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("static template"),
        );
        bar.set_message(name.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(b) = &self.bar {
            b.inc(bytes);
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

pub fn run(cmd: &DataCommand) -> Result<()> {
    let DataCommand::Fetch(args) = cmd;
    let mut source = match args.which {
        Which::Mnist => fetch::mnist(),
        Which::Cifar10 => fetch::cifar10(),
    };
    if !args.mirrors.is_empty() {
        source.mirrors = args.mirrors.clone();
    }
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(source.default_dir));
    let outcomes = if args.quiet {
        fetch::fetch(&source, &dir, &mut Silent)?
    } else {
        fetch::fetch(&source, &dir, &mut Bytes::default())?
    };
    for (file, outcome) in source.files.iter().zip(&outcomes) {
        match outcome {
            Outcome::Present => println!("{}: already present, SHA-256 verified", file.name),
            Outcome::Downloaded { url, bytes } => {
                println!("{}: {bytes} bytes from {url}, SHA-256 verified", file.name)
            }
        }
    }
    if source.unpack {
        println!("unpacked into {}", dir.display());
    }
    println!(
        "{} is ready: train with --dataset {} --data-dir {} (or set {}={})",
        source.label,
        source.dataset,
        dir.display(),
        source
            .dataset
            .data_dir_env()
            .unwrap_or("the data directory"),
        dir.display()
    );
    Ok(())
}
