//! How a reproduction is listed: `sgd-regimes reproduce <name>` is built from
//! [`ALL`](super::ALL) (each one's arguments are its own `clap::Args`), which the
//! `reproductions!` call in `reproduce/mod.rs` writes, one line per reproduction.

use super::Reproduction;

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
pub const fn entry<R: clap::Args + Reproduction + 'static>(
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

/// Declares each reproduction's module and lists it in [`ALL`](super::ALL), one line each:
/// `module::Type => "subcommand", "help";`.
macro_rules! reproductions {
    ($($module:ident::$ty:ident => $name:literal, $about:literal;)*) => {
        $(pub mod $module;)*
        /// Every reproduction, in the order `reproduce --help` lists them.
        pub const ALL: &[registry::Entry] = &[$(registry::entry::<$module::$ty>($name, $about)),*];
    };
}
#[cfg(test)]
mod tests {
    use super::super::ALL;

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
