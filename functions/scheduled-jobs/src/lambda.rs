//! The EventBridge Scheduler trigger: the schedule's JSON payload in, the run's [`JobReport`] out.
//!
//! Failures become a Lambda error whose type says whether trying again can help:
//! `JobError.Retryable` (the store was unavailable; the next run resumes from the saved cursor)
//! or `JobError.Permanent` (a malformed payload, a refused request).

use std::sync::Arc;

use crm_store::queue::Queue;
use crm_store::repo::crm::outbox::TransitionOutbox;
use lambda_runtime::{Diagnostic, LambdaEvent};
use tracing::Instrument;

use crate::{JobDeps, JobError, JobReport, JobRequest, run_job};

pub const RETRYABLE_ERROR_TYPE: &str = "JobError.Retryable";
pub const PERMANENT_ERROR_TYPE: &str = "JobError.Permanent";
/// The environment variable naming the transitions queue (its URL). Optional: without it the
/// outbox is not relayed by this function.
pub const TRANSITIONS_QUEUE_URL_VAR: &str = "TRANSITIONS_QUEUE_URL";
/// Transition messages one invocation relays at most (the rest wait for the next one).
pub const RELAY_MAX: usize = 1000;

/// Runs the job ([`handle`]), then relays the transitions outbox to `transitions`: every
/// lifecycle transition committed before (by this job, the admin API or the scorer) is
/// published on the transitions queue, at least once (consumers deduplicate on the message's
/// `id`). A relay failure is logged and left to the next invocation; it never fails the job.
pub async fn handle_and_relay(
    event: LambdaEvent<serde_json::Value>,
    deps: &JobDeps,
    transitions: Option<&dyn Queue>,
) -> Result<JobReport, Diagnostic> {
    let result = handle(event, deps).await;
    let Some(queue) = transitions else {
        return result;
    };
    let published = match TransitionOutbox::new(Arc::clone(&deps.table))
        .relay(queue, RELAY_MAX)
        .await
    {
        Ok(relayed) => {
            if relayed.failed > 0 {
                tracing::warn!(failed = relayed.failed, "transitions left in the outbox");
            }
            relayed.published
        }
        Err(error) => {
            tracing::warn!(%error, retryable = error.is_retryable(), "transitions relay failed");
            0
        }
    };
    result.map(|mut report| {
        report.transitions_published = published;
        report
    })
}

pub async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &JobDeps,
) -> Result<JobReport, Diagnostic> {
    let request_id = event.context.request_id;
    let request =
        JobRequest::from_json(event.payload).map_err(|error| failed(&request_id, error))?;
    let span = tracing::info_span!("job", job = %request.job, request_id = %request_id);
    run_job(request, deps)
        .instrument(span)
        .await
        .map_err(|error| failed(&request_id, error))
}

fn failed(request_id: &str, error: JobError) -> Diagnostic {
    let retryable = error.is_retryable();
    tracing::error!(request_id, retryable, %error, "scheduled job failed");
    Diagnostic {
        error_type: if retryable {
            RETRYABLE_ERROR_TYPE
        } else {
            PERMANENT_ERROR_TYPE
        }
        .to_owned(),
        error_message: error.to_string(),
    }
}
