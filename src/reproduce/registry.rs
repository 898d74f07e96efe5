//! Every reproduction, by its subcommand name: `sgd-regimes reproduce <name>` is built from
//! this list (its arguments are the reproduction's own `clap::Args`), so adding a
//! reproduction is one file and one line here.

use super::Reproduction;
use super::{
    decision_boundary::DecisionBoundary, eta_over_b::EtaOverB, fc_mnist::FcMnist,
    hinge_vs_ce::HingeVsCe, perceptron::Perceptron, sgd_vs_sde::SgdVsSde, table1::Table1,
};

/// One reproduction: its subcommand, its one-paragraph help, and how clap builds it.
pub struct Entry {
    pub name: &'static str,
    pub about: &'static str,
    /// Adds the reproduction's arguments to its subcommand.
    pub args: fn(clap::Command) -> clap::Command,
    /// Builds the reproduction from its parsed arguments.
    pub build: fn(&clap::ArgMatches) -> Result<Box<dyn Reproduction>, clap::Error>,
}

fn build<R: clap::Args + Reproduction + 'static>(
    m: &clap::ArgMatches,
) -> Result<Box<dyn Reproduction>, clap::Error> {
    Ok(Box::new(R::from_arg_matches(m)?))
}

/// The entry of the reproduction `R`, whose arguments are `R` itself.
const fn entry<R: clap::Args + Reproduction + 'static>(
    name: &'static str,
    about: &'static str,
) -> Entry {
    Entry {
        name,
        about,
        args: R::augment_args,
        build: build::<R>,
    }
}

/// The reproductions, in the order `reproduce --help` lists them.
pub const ALL: &[Entry] = &[
    entry::<Perceptron>(
        "perceptron",
        "The teacher-student perceptron (d=128, B=2, chi in {0,1,3}): sweep, fits, extreme-value check, figures and report. Resumable: rerun to finish an interrupted sweep.",
    ),
    entry::<FcMnist>(
        "fc-mnist",
        "The paper's fully-connected results on MNIST parity: Table 1's lazy and feature FC rows and the (alpha, T) phase diagram of Fig. 1a. Runs the missing runs of three sweeps (resumable: interrupt and rerun), then fits, draws and writes report.md.",
    ),
    entry::<Table1>(
        "table1",
        "Every row of the paper's Table 1 that the data here allows: FC (from `reproduce fc-mnist`), mnas and simple-cnn lazy on MNIST parity, perceptron at chi = 1.5 and 4, and with CIFAR-10 the CIFAR rows and Fig. 1b. Resumable; --dry-run estimates the time per row.",
    ),
    entry::<EtaOverB>(
        "eta-over-b",
        "SGD's effect is set by T = eta/B (the paper's Figs. 18-19): fc on MNIST parity, P = 1024, temperatures x batch sizes 4 .. 128 at alpha = 1 and alpha = 32768; figures of test error, dw and t* against T (one colour per B) and a verdict per observable. About 10 minutes on 2 cores; resumable.",
    ),
    entry::<SgdVsSde>(
        "sgd-vs-sde",
        "SGD against its SDE (full-batch gradient plus Gaussian noise with SGD's mini-batch covariance) at equal T: fc on MNIST parity, B = 16, lazy (P = 1024) and alpha = 1 (P = 256); figures of test error, dw and t* against T and a verdict per observable. Resumable.",
    ),
    entry::<DecisionBoundary>(
        "decision-boundary",
        "The paper's Fig. 5: decision boundaries learnt at increasing T in two dimensions (32 points; the perceptron and a one-hidden-layer fc net), drawn over the true boundary. A few seconds.",
    ),
    entry::<HingeVsCe>(
        "hinge-vs-ce",
        "The lazy fc exponents with the hinge loss and with cross-entropy stopped early (the paper's Fig. 17): the same grid, the same analysis; Table 1's row per loss and figures. Resumable.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_every_entry_builds_with_its_defaults() {
        let mut names: Vec<&str> = ALL.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        for e in ALL {
            let m = (e.args)(clap::Command::new(e.name))
                .try_get_matches_from([e.name])
                .unwrap();
            let r = (e.build)(&m).unwrap();
            assert!(r.command().starts_with(&format!("reproduce {}", e.name)));
        }
    }
}
