//! scheduled-jobs: the store's scheduled maintenance, one bounded and resumable run at a time.
//!
//! A run is named by a [`JobRequest`] (the EventBridge Scheduler payload `{"job": "retention"}`)
//! and moves data through the `Table` port only, so it does the same on DynamoDB (the Lambda in
//! [`lambda`]) and on the embedded SQLite store (crm-local). Each job saves where it stopped in
//! a job-state item and continues from there on its next run; re-running after a crash at any
//! point is harmless.
//!
//! | job | what it does |
//! |---|---|
//! | `retention` | deletes raw events older than their site's retention ([`retention`]) |
//! | `decay` | not available yet (issue 6): fails with [`JobError::NotYetAvailable`] |
//! | `segments` | not available yet (issue 6): fails with [`JobError::NotYetAvailable`] |
//!
//! Never depends on a runtime or an SDK outside the `lambda` feature: crm-local builds it with
//! `default-features = false`.

mod error;
#[cfg(feature = "lambda")]
pub mod lambda;
mod request;
pub mod retention;

use std::sync::Arc;

use crm_domain::time::Millis;
use crm_store::clock::Clock;
use crm_store::table::Table;
use serde::{Deserialize, Serialize};

pub use error::JobError;
pub use request::{Budget, InvalidBudget, JobKind, JobRequest};

/// What every job runs against.
#[derive(Clone)]
pub struct JobDeps {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
}

/// What one run did. Serializes to the JSON the Lambda returns and crm-local prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobReport {
    pub job: JobKind,
    /// The instant the run took as now (ms since the epoch).
    pub now: Millis,
    /// The budget the run had (for `retention`: visitors).
    pub budget: u32,
    /// Sites the run worked on (a site split across runs counts in each).
    pub sites_visited: u64,
    /// Visitors whose data the run examined.
    pub visitors_scanned: u64,
    /// Items the run deleted.
    pub items_removed: u64,
    /// The run completed a sweep over every site; the next run starts a new one.
    pub sweep_finished: bool,
    /// The run saved a cursor that the next run resumes from.
    pub cursor_saved: bool,
    /// Another run of the same job saved its progress meanwhile, so this one stopped early and
    /// left the cursor to it (what it did was harmless: the work is idempotent).
    pub superseded: bool,
}

impl JobReport {
    fn new(job: JobKind, now: Millis, budget: Budget) -> JobReport {
        JobReport {
            job,
            now,
            budget: budget.get(),
            sites_visited: 0,
            visitors_scanned: 0,
            items_removed: 0,
            sweep_finished: false,
            cursor_saved: false,
            superseded: false,
        }
    }
}

/// Runs one bounded step of the requested job.
pub async fn run_job(request: JobRequest, deps: &JobDeps) -> Result<JobReport, JobError> {
    match request.job {
        JobKind::Retention => retention::run(deps, request.budget()).await,
        JobKind::Decay | JobKind::Segments => Err(JobError::NotYetAvailable(request.job.name())),
    }
}
