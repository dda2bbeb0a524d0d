//! What every job shares: a sweep over its items that a run may stop anywhere (its budget spent)
//! and the next run resumes, kept in the job-state item `JOB#<job>` / `STATE`.

use crm_domain::time::Millis;
use crm_store::repo::JobStateRepo;
use serde::{Deserialize, Serialize};

use crate::{JobError, JobReport};

/// The job-state item's content; `P` is where the job's sweep continues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SweepState<P> {
    /// Where the current sweep continues; `None`: the next run starts a new sweep.
    pub position: Option<P>,
    /// When the last complete sweep finished (for operators).
    pub last_sweep_finished_at: Option<Millis>,
}

impl<P> Default for SweepState<P> {
    fn default() -> SweepState<P> {
        SweepState {
            position: None,
            last_sweep_finished_at: None,
        }
    }
}

/// Saves the run's `state`, conditional on the `version` it read (which becomes the saved one);
/// returns false, and marks the report superseded, when another run of the job saved first.
pub(crate) async fn checkpoint<P: Serialize>(
    states: &JobStateRepo,
    state: &mut SweepState<P>,
    version: &mut i64,
    report: &mut JobReport,
) -> Result<bool, JobError> {
    if state.position.is_none() {
        state.last_sweep_finished_at = Some(report.now);
    }
    let job = report.job.name();
    match states.save(job, state, *version).await? {
        Some(saved) => {
            *version = saved;
            report.cursor_saved = state.position.is_some();
            Ok(true)
        }
        None => {
            tracing::warn!(job, "another run advanced the sweep; this one stops here");
            report.superseded = true;
            report.cursor_saved = false;
            Ok(false)
        }
    }
}
