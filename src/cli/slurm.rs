//! `sgd-regimes slurm FILE --results DIR`: write (and with `--submit`, submit) a Slurm job
//! array for the runs of a sweep that are still missing.

use crate::sweep::slurm::{ArrayOptions, node_local, prepare, submit};
use crate::sweep::{RunStore, SweepSpec, pending};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  sgd-regimes slurm sweep.toml --results /scratch/me/fc --tasks 32 --cpus-per-task 4 --time 04:00:00 --submit\n\n\
The script (DIR/slurm/batch-K.sbatch) runs `sgd-regimes sweep run` on the shard $SLURM_ARRAY_TASK_ID of the runs\n\
missing now (listed in DIR/slurm/batch-K.runs). Rerun this command after preemptions or failures: it submits only\n\
what is still missing. `sgd-regimes status DIR` shows the array's tasks."
)]
pub struct SlurmArgs {
    /// The sweep file (TOML).
    pub file: PathBuf,
    /// Results directory, on a filesystem every node can write.
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,
    /// Most array tasks (fewer if fewer runs are missing).
    #[arg(long, default_value_t = 16)]
    pub tasks: usize,
    /// CPUs per task; each task runs this many runs at a time.
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: usize,
    /// Time limit per task (HH:MM:SS, D-HH:MM:SS or minutes).
    #[arg(long, value_parser = crate::sweep::slurm::check_time)]
    pub time: Option<String>,
    #[arg(long)]
    pub partition: Option<String>,
    /// Memory per task (e.g. 4G).
    #[arg(long)]
    pub mem: Option<String>,
    /// An extra line for the script, e.g. "#SBATCH --account=lab" (repeatable).
    #[arg(long)]
    pub extra: Vec<String>,
    /// Do not ask Slurm to requeue preempted tasks.
    #[arg(long)]
    pub no_requeue: bool,
    /// Submit the script with sbatch and print the job id.
    #[arg(long)]
    pub submit: bool,
}

pub fn run(a: &SlurmArgs) -> Result<()> {
    let spec = SweepSpec::load(&a.file)?;
    let runs = spec.runs()?;
    let store = RunStore::create_or_open(&a.results, &spec)?;
    if let Some(note) = store.adopted_note() {
        eprintln!("{note}");
    }
    let todo = pending(&store, &runs, None, false);
    let opts = ArrayOptions {
        tasks: a.tasks,
        cpus_per_task: a.cpus_per_task,
        jobs_per_task: crate::sweep::runner::default_jobs(
            a.cpus_per_task,
            crate::sweep::runner::threads_per_run(todo.iter().copied()),
        ),
        time: a.time.clone(),
        partition: a.partition.clone(),
        mem: a.mem.clone(),
        extra: a.extra.clone(),
        requeue: !a.no_requeue,
    };
    let binary = std::env::current_exe()?;
    let Some(batch) = prepare(&store, &todo, &opts, &binary)? else {
        println!(
            "nothing to submit: all {} runs of {} have a result",
            runs.len(),
            a.results.display()
        );
        return Ok(());
    };
    if node_local(&std::fs::canonicalize(&a.results)?) {
        eprintln!(
            "warning: {} is usually local to each node; on a multi-node cluster put the results on a shared filesystem",
            a.results.display()
        );
    }
    println!(
        "{} of {} runs missing: {} array task(s) of {} CPU(s); script {}",
        batch.runs,
        runs.len(),
        batch.tasks,
        a.cpus_per_task,
        batch.script.display()
    );
    if a.submit {
        let id = submit(&store.dir, &batch.script)?;
        println!("submitted job {id}");
    } else {
        println!("\n{}", std::fs::read_to_string(&batch.script)?);
        println!(
            "submit with: sbatch {}   (or rerun with --submit)",
            batch.script.display()
        );
    }
    Ok(())
}
