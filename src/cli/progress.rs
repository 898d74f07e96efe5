//! Progress on stderr: a bar over the runs of a sweep or a reproduction, and a spinner for
//! one run longer than a second (hidden when stderr is not a terminal).

use crate::train::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// Shows training progress once a run has lasted a second.
#[derive(Default)]
pub struct RunSpinner {
    bar: Option<ProgressBar>,
}

impl RunSpinner {
    pub fn update(&mut self, p: &Progress) {
        if p.elapsed < Duration::from_secs(1) {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .expect("static template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let unfitted = p.unfitted.map_or("?".to_string(), |u| u.to_string());
        bar.set_message(format!(
            "step {}  t = {:.4e}  unfitted {unfitted}/{} at last check",
            p.step, p.t, p.p
        ));
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// A bar over `total` runs with the elapsed time, an ETA and a message (hidden when `quiet`).
pub fn run_bar(total: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} runs  {elapsed_precise} ETA {eta}  {msg}",
        )
        .expect("static template"),
    );
    bar
}
