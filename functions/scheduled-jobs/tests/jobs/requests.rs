//! Jobs the schedule may name but that are not available yet fail clearly, and do nothing.

use scheduled_jobs::{JobError, JobKind, JobRequest, run_job};

use crate::common::{NOW, deps_at};
use crate::sqlite;

#[tokio::test]
async fn decay_is_refused_as_not_available_yet() {
    let table = sqlite();
    let error = run_job(
        JobRequest::new(JobKind::Decay),
        &deps_at(table.clone(), NOW),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, JobError::NotYetAvailable(named) if named == "decay"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(error.to_string(), "the decay job is not available yet");
    let state = table
        .get(&crm_store::repo::keys::job_state("decay"))
        .await
        .unwrap();
    assert_eq!(state, None, "decay wrote nothing");
}
