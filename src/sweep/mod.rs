//! Sweeps (method §4): grids of runs from a TOML file, a results directory with one atomically
//! written file per run (keyed by a hash of the run's normalized config), local parallel
//! execution or a shard `I/N` of the run list, status counts, and runs trained by a user's
//! own command (`external`).

pub mod adopt;
pub mod axis;
pub mod collect;
pub mod external;
pub mod id;
pub mod runner;
pub mod runs_file;
pub mod slurm;
pub mod spec;
pub mod status;
pub mod store;

pub use runner::{Event, Outcome, Shard, Task, execute, execute_tasks, pending, queue};
pub use spec::{PlannedRun, SweepSpec};
pub use store::{RunStore, Stored};
