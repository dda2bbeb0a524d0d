//! Every job the schedule may name runs: on an empty store each one finishes its sweep at once,
//! with nothing done and its position cleared.

use scheduled_jobs::{JobKind, JobRequest, run_job};

use crate::common::{NOW, deps_at};
use crate::sqlite;

#[tokio::test]
async fn every_scheduled_job_finishes_at_once_on_an_empty_store() {
    for job in [
        JobKind::Retention,
        JobKind::Decay,
        JobKind::Segments,
        JobKind::Transitions,
    ] {
        let table = sqlite();
        let report = run_job(JobRequest::new(job), &deps_at(table.clone(), NOW))
            .await
            .unwrap();
        assert_eq!(report.job, job);
        assert!(report.sweep_finished, "{job}: {report:?}");
        assert!(
            !report.cursor_saved && !report.superseded,
            "{job}: {report:?}"
        );
        assert_eq!(
            (
                report.items_removed,
                report.contacts_rescored,
                report.members_added
            ),
            (0, 0, 0),
            "{job}"
        );
    }
}
