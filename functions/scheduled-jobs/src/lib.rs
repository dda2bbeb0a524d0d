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
//! | `retention` | deletes raw events and score-change records past their retention, anonymizes old sessions ([`retention`]) |
//! | `decay` | rescores every contact as of now, so stored scores, risk and stages follow time ([`decay`]) |
//! | `transitions` | nothing by itself: a frequent schedule for the outbox relay that follows every run |
//! | `segments` | re-evaluates every dynamic segment over the contacts ([`segments`]) |
//!
//! Never depends on a runtime or an SDK outside the `lambda` feature: crm-local builds it with
//! `default-features = false`.

pub mod decay;
mod error;
#[cfg(feature = "lambda")]
pub mod lambda;
mod request;
pub mod retention;
pub mod segments;
mod sweep;

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
    /// The budget the run had (for `retention`: visitors; for `decay`: contacts).
    pub budget: u32,
    /// Sites the run worked on (a site split across runs counts in each).
    pub sites_visited: u64,
    /// Visitors whose data the run examined.
    pub visitors_scanned: u64,
    /// Items the run deleted.
    pub items_removed: u64,
    /// Sessions the run anonymized (`retention`).
    #[serde(default)]
    pub sessions_anonymized: u64,
    /// Score-change records the run deleted (`retention`; also counted in `items_removed`).
    #[serde(default)]
    pub score_changes_removed: u64,
    /// Contacts the run examined (`retention`: their score changes; `segments`: memberships).
    #[serde(default)]
    pub contacts_scanned: u64,
    /// Dynamic segments the run worked on (`segments`; one split across runs counts in each).
    #[serde(default)]
    pub segments_visited: u64,
    /// Memberships the run added and removed (`segments`).
    #[serde(default)]
    pub members_added: u64,
    #[serde(default)]
    pub members_removed: u64,
    /// Contacts the run rescored, and those whose record changed (`decay`).
    #[serde(default)]
    pub contacts_rescored: u64,
    #[serde(default)]
    pub contacts_updated: u64,
    /// Score-change records and automatic lifecycle transitions the run wrote (`decay`).
    #[serde(default)]
    pub score_changes_written: u64,
    #[serde(default)]
    pub transitions_written: u64,
    /// Transition messages relayed from the outbox to the transitions queue after the run.
    #[serde(default)]
    pub transitions_published: u64,
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
            sessions_anonymized: 0,
            score_changes_removed: 0,
            contacts_scanned: 0,
            segments_visited: 0,
            members_added: 0,
            members_removed: 0,
            contacts_rescored: 0,
            contacts_updated: 0,
            score_changes_written: 0,
            transitions_written: 0,
            transitions_published: 0,
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
        JobKind::Segments => segments::run(deps, request.budget()).await,
        JobKind::Decay => decay::run(deps, request.budget()).await,
        // The relay is the Lambda's step after every run (`lambda::handle_and_relay`).
        JobKind::Transitions => {
            let mut report = JobReport::new(request.job, deps.clock.now(), request.budget());
            report.sweep_finished = true;
            Ok(report)
        }
    }
}
