//! The retention job on SQLite: per-site retention, bounded resumable sweeps, crashes and
//! overlapping runs.

use std::sync::Arc;

use crm_domain::time::Millis;
use crm_store::repo::{JobStateRepo, keys};
use crm_store::table::Table;
use scheduled_jobs::{Budget, JobError, JobKind, JobRequest, run_job};

use crate::common::*;
use crate::faults::{AtCheckpoint, CheckpointFault};
use crate::sqlite;

const EXPIRED: i64 = 10 * DAY;
const RETENTION_DAYS: u32 = 7;

/// `count` visitors of `site` (`{site}-0` least recently active), each with one beacon past the
/// site's retention and one within it.
async fn visitors(table: &Arc<dyn Table>, site: &str, count: usize) -> Vec<String> {
    add_site(table, site, RETENTION_DAYS).await;
    let mut names = Vec::new();
    for n in 0..count {
        let name = format!("{site}-{n}");
        record_visit(table, site, RETENTION_DAYS, &name, EXPIRED).await;
        let recent = DAY + i64::try_from(count - n).unwrap() * HOUR;
        record_visit(table, site, RETENTION_DAYS, &name, recent).await;
        names.push(name);
    }
    names
}

async fn expired_left(table: &Arc<dyn Table>, site: &str, visitor: &str) -> bool {
    raw_event_ages(table, site, visitor)
        .await
        .contains(&EXPIRED)
}

#[tokio::test]
async fn each_site_keeps_raw_events_for_its_own_retention_and_nothing_else_changes() {
    // The scenario lives in `common` so that the DynamoDB test target runs it unchanged.
    crate::common::each_site_keeps_raw_events_for_its_own_retention_and_nothing_else_changes(
        sqlite(),
    )
    .await;
}

#[tokio::test]
async fn a_small_budget_sweeps_in_several_runs_resuming_exactly_where_the_last_stopped() {
    let table = sqlite();
    let alpha = visitors(&table, "alpha", 5).await;
    let beta = visitors(&table, "beta", 3).await;
    let deps = deps_at(table.clone(), NOW);

    let first = retention(&deps, Some(2)).await;
    assert_eq!(
        (first.visitors_scanned, first.items_removed),
        (2, 2),
        "{first:?}"
    );
    assert!(first.cursor_saved && !first.sweep_finished);
    // Least recently active first: exactly the first two are done.
    for (n, visitor) in alpha.iter().enumerate() {
        assert_eq!(
            expired_left(&table, "alpha", visitor).await,
            n >= 2,
            "{visitor}"
        );
    }

    let mut reports = vec![first];
    while !reports.last().unwrap().sweep_finished {
        assert!(reports.len() < 10, "the sweep never finishes: {reports:?}");
        reports.push(retention(&deps, Some(2)).await);
    }

    assert_eq!(reports.len(), 4, "{reports:?}");
    let scanned: u64 = reports.iter().map(|report| report.visitors_scanned).sum();
    let removed: u64 = reports.iter().map(|report| report.items_removed).sum();
    assert_eq!(scanned, 8, "every visitor exactly once: {reports:?}");
    assert_eq!(removed, 8);
    assert!(reports[..3].iter().all(|report| report.cursor_saved));
    assert!(!reports[3].cursor_saved);
    assert_eq!(
        reports.iter().map(|r| r.sites_visited).collect::<Vec<_>>(),
        [1, 1, 2, 1]
    );
    for visitor in &alpha {
        assert_eq!(raw_event_ages(&table, "alpha", visitor).await.len(), 1);
    }
    for visitor in &beta {
        assert_eq!(raw_event_ages(&table, "beta", visitor).await.len(), 1);
    }

    let next_sweep = retention(&deps, Some(2)).await;
    assert_eq!(
        (next_sweep.visitors_scanned, next_sweep.items_removed),
        (2, 0)
    );
}

#[tokio::test]
async fn a_later_sweep_removes_what_has_expired_since() {
    let table = sqlite();
    add_site(&table, "shop", RETENTION_DAYS).await;
    record_visit(&table, "shop", RETENTION_DAYS, "ann", 6 * DAY).await;
    record_visit(&table, "shop", RETENTION_DAYS, "ann", HOUR).await;

    let today = retention(&deps_at(table.clone(), NOW), None).await;
    assert_eq!(today.items_removed, 0);

    let in_two_days = deps_at(table.clone(), Millis(NOW.0 + 2 * DAY));
    let later = retention(&in_two_days, None).await;
    assert_eq!(later.items_removed, 1);
    assert_eq!(raw_event_ages(&table, "shop", "ann").await, vec![HOUR]);
}

#[tokio::test]
async fn a_run_that_dies_before_saving_its_cursor_is_redone_harmlessly_by_the_next() {
    let table = sqlite();
    let names = visitors(&table, "shop", 4).await;
    let crashing = deps_at(
        CheckpointFault::once(table.clone(), AtCheckpoint::Unavailable),
        NOW,
    );
    let request = JobRequest::new(JobKind::Retention).with_budget(Budget::new(2).unwrap());

    let error = run_job(request, &crashing).await.unwrap_err();
    assert!(matches!(error, JobError::Store(_)), "{error}");
    assert!(error.is_retryable());
    // It deleted before it died, and saved no cursor.
    assert!(!expired_left(&table, "shop", &names[0]).await);
    let state = JobStateRepo::new(table.clone())
        .load::<serde_json::Value>("retention")
        .await
        .unwrap();
    assert_eq!(state.version, 0);

    let deps = deps_at(table.clone(), NOW);
    let redo = retention(&deps, Some(2)).await;
    assert_eq!((redo.visitors_scanned, redo.items_removed), (2, 0));
    let rest = retention(&deps, Some(2)).await;
    assert_eq!((rest.visitors_scanned, rest.items_removed), (2, 2));
    assert!(rest.sweep_finished);
    for visitor in &names {
        assert!(!expired_left(&table, "shop", visitor).await, "{visitor}");
    }
}

#[tokio::test]
async fn a_run_overtaken_by_another_stops_without_moving_the_cursor() {
    let table = sqlite();
    let names = visitors(&table, "shop", 3).await;
    let deps = deps_at(table.clone(), NOW);
    let first = retention(&deps, Some(1)).await;
    assert!(first.cursor_saved);
    let saved = JobStateRepo::new(table.clone())
        .load::<serde_json::Value>("retention")
        .await
        .unwrap();

    let overtaken = deps_at(
        CheckpointFault::once(table.clone(), AtCheckpoint::AnotherRunSavesFirst),
        NOW,
    );
    let report = retention(&overtaken, Some(1)).await;
    assert!(report.superseded, "{report:?}");
    assert!(!report.cursor_saved);
    assert_eq!(report.visitors_scanned, 1);
    let after = JobStateRepo::new(table.clone())
        .load::<serde_json::Value>("retention")
        .await
        .unwrap();
    assert_eq!(after.state, saved.state, "the position did not move");

    let mut rest = retention(&deps, None).await;
    assert!(rest.sweep_finished);
    // The overtaken run's visitor is visited again (harmless): it found nothing left to remove.
    assert_eq!(rest.visitors_scanned, 2);
    rest.items_removed += report.items_removed;
    assert_eq!(rest.items_removed, 2);
    for visitor in &names {
        assert!(!expired_left(&table, "shop", visitor).await, "{visitor}");
    }
}

#[tokio::test]
async fn a_visitor_active_during_a_sweep_is_not_skipped() {
    let table = sqlite();
    let names = visitors(&table, "shop", 3).await;
    let deps = deps_at(table.clone(), NOW);
    retention(&deps, Some(1)).await;

    // The next visitor in line becomes the most recently active one meanwhile.
    record_visit(&table, "shop", RETENTION_DAYS, &names[1], 0).await;
    let rest = retention(&deps, None).await;

    assert!(rest.sweep_finished);
    for visitor in &names {
        assert!(!expired_left(&table, "shop", visitor).await, "{visitor}");
    }
}

#[tokio::test]
async fn a_cursor_into_a_site_deleted_since_moves_on_to_the_next_site() {
    let table = sqlite();
    visitors(&table, "a", 1).await;
    visitors(&table, "b", 2).await;
    let c = visitors(&table, "c", 1).await;
    let deps = deps_at(table.clone(), NOW);
    let first = retention(&deps, Some(2)).await;
    assert!(first.cursor_saved, "{first:?}");

    table
        .delete(&keys::site_config(&site_id("b")), None)
        .await
        .unwrap();
    let rest = retention(&deps, None).await;

    assert!(rest.sweep_finished);
    assert_eq!((rest.sites_visited, rest.visitors_scanned), (1, 1));
    assert!(!expired_left(&table, "c", &c[0]).await);
}

#[tokio::test]
async fn a_store_without_sites_finishes_its_sweep_at_once() {
    let report = retention(&deps_at(sqlite(), NOW), None).await;
    assert!(report.sweep_finished);
    assert_eq!(
        (
            report.sites_visited,
            report.visitors_scanned,
            report.items_removed
        ),
        (0, 0, 0)
    );
}
