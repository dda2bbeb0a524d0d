//! The EventBridge Scheduler trigger: the schedule's JSON payload in, the run's [`JobReport`] out.
//!
//! Failures become a Lambda error whose type says whether trying again can help:
//! `JobError.Retryable` (the store was unavailable; the next run resumes from the saved cursor)
//! or `JobError.Permanent` (a malformed payload, a job not available yet, a refused request).

use lambda_runtime::{Diagnostic, LambdaEvent};
use tracing::Instrument;

use crate::{JobDeps, JobError, JobReport, JobRequest, run_job};

pub const RETRYABLE_ERROR_TYPE: &str = "JobError.Retryable";
pub const PERMANENT_ERROR_TYPE: &str = "JobError.Permanent";

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
