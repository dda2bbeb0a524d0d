//! Jobs the schedule may name but that are not available yet fail clearly, and do nothing.

use scheduled_jobs::{JobError, JobKind, JobRequest, run_job};

use crate::common::{NOW, deps_at};
use crate::sqlite;

#[tokio::test]
async fn decay_and_segments_are_refused_as_not_available_yet() {
    for (job, name) in [(JobKind::Decay, "decay"), (JobKind::Segments, "segments")] {
        let table = sqlite();
        let error = run_job(JobRequest::new(job), &deps_at(table.clone(), NOW))
            .await
            .unwrap_err();
        assert!(
            matches!(error, JobError::NotYetAvailable(named) if named == name),
            "{error:?}"
        );
        assert!(!error.is_retryable());
        assert_eq!(
            error.to_string(),
            format!("the {name} job is not available yet")
        );
        let state = table
            .get(&crm_store::repo::keys::job_state(name))
            .await
            .unwrap();
        assert_eq!(state, None, "{name} wrote nothing");
    }
}
