//! The retention and segments jobs against DynamoDB, on a local AWS API emulator (moto): the
//! same scenarios as on SQLite (raw events per site; sessions anonymized and score changes
//! removed; segment memberships), plus a bounded sweep resuming from the cursor DynamoDB hands
//! out.
//!
//! Needs the emulator (see `moto_table`):
//!
//! ```text
//! source tests/aws/moto.sh
//! cargo test -p scheduled-jobs --all-features --test aws_retention
//! ```

#![allow(clippy::unwrap_used)]

// Helpers shared with the SQLite tests; not every one is used here.
#[allow(dead_code)]
mod common;
mod moto_table;

use moto_table::fresh_table;

use common::*;

#[tokio::test]
async fn each_site_keeps_raw_events_for_its_own_retention_and_nothing_else_changes() {
    common::each_site_keeps_raw_events_for_its_own_retention_and_nothing_else_changes(
        fresh_table().await,
    )
    .await;
}

#[tokio::test]
async fn old_sessions_are_anonymized_old_score_changes_removed_and_nothing_else_changes() {
    common::privacy::old_sessions_are_anonymized_old_score_changes_removed_and_nothing_else_changes(
        fresh_table().await,
    )
    .await;
}

#[tokio::test]
async fn the_segments_job_adds_and_removes_members_and_a_second_run_changes_nothing() {
    common::privacy::the_segments_job_adds_and_removes_members_and_a_second_run_changes_nothing(
        fresh_table().await,
    )
    .await;
}

#[tokio::test]
async fn a_small_budget_sweeps_in_several_runs_and_misses_nothing() {
    let table = fresh_table().await;
    fill_scenario(&table).await;
    let deps = deps_at(table.clone(), NOW);

    let mut reports = Vec::new();
    loop {
        let report = retention(&deps, Some(1)).await;
        let finished = report.sweep_finished;
        reports.push(report);
        if finished {
            break;
        }
        assert!(reports.len() < 10, "the sweep never finishes: {reports:?}");
    }

    // DynamoDB may hand out a cursor after a site's last visitor, so a run can find nothing
    // left; still every visitor is examined exactly once.
    let scanned: u64 = reports.iter().map(|report| report.visitors_scanned).sum();
    let removed: u64 = reports.iter().map(|report| report.items_removed).sum();
    assert_eq!(scanned, 4, "{reports:?}");
    assert_eq!(removed, 8, "{reports:?}");
    for (site, visitor) in SCENARIO_VISITORS {
        let ages = raw_event_ages(&table, site, visitor).await;
        assert!(
            ages.iter().all(|age| *age < 30 * DAY),
            "{site}/{visitor}: {ages:?}"
        );
    }
}
