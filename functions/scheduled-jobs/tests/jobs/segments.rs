//! The segments job on SQLite: dynamic segments re-evaluated over every contact, memberships
//! added and removed, static segments left alone, idempotent, bounded runs resuming.

use std::sync::Arc;

use crm_domain::time::Millis;
use crm_store::repo::crm::segments::SegmentRepo;
use crm_store::repo::crm::{AuditFilter, AuditRepo};
use crm_store::table::Table;
use scheduled_jobs::{Budget, JobDeps, JobKind, JobReport, JobRequest, run_job};
use serde_json::json;

use crate::common::crm::{add_contact, add_segment, delete_contact, members, set_lead_score};
use crate::common::{NOW, deps_at};
use crate::sqlite;

async fn segments(deps: &JobDeps, budget: Option<u32>) -> JobReport {
    let mut request = JobRequest::new(JobKind::Segments);
    if let Some(budget) = budget {
        request = request.with_budget(Budget::new(budget.into()).unwrap());
    }
    run_job(request, deps).await.unwrap()
}

async fn hot_leads(table: &Arc<dyn Table>) {
    add_segment(
        table,
        "hot",
        Some(json!({"all": [{"field": "lead_score", "op": "gte", "value": 70}]})),
    )
    .await;
}

#[tokio::test]
async fn the_segments_job_adds_and_removes_members_and_a_second_run_changes_nothing() {
    // The scenario lives in `common` so that the DynamoDB test target runs it unchanged.
    crate::common::privacy::the_segments_job_adds_and_removes_members_and_a_second_run_changes_nothing(
        sqlite(),
    )
    .await;
}

#[tokio::test]
async fn the_job_adds_matching_contacts_and_removes_those_that_no_longer_match() {
    let table = sqlite();
    add_contact(&table, "a", "Acme", 80).await;
    add_contact(&table, "b", "Beta", 20).await;
    add_contact(&table, "c", "Core", 90).await;
    hot_leads(&table).await;
    let deps = deps_at(table.clone(), NOW);

    let first = segments(&deps, None).await;

    assert_eq!(members(&table, "hot").await, ["a", "c"]);
    assert_eq!(
        (
            first.segments_visited,
            first.contacts_scanned,
            first.members_added,
            first.members_removed
        ),
        (1, 3, 2, 0),
        "{first:?}"
    );
    assert!(first.sweep_finished && !first.cursor_saved);

    set_lead_score(&table, "c", 10).await;
    set_lead_score(&table, "b", 75).await;
    let second = segments(&deps_at(table.clone(), Millis(NOW.0 + 1)), None).await;

    assert_eq!(members(&table, "hot").await, ["a", "b"]);
    assert_eq!((second.members_added, second.members_removed), (1, 1));
}

#[tokio::test]
async fn running_the_job_again_changes_nothing_and_records_nothing() {
    let table = sqlite();
    add_contact(&table, "a", "Acme", 80).await;
    add_contact(&table, "b", "Beta", 20).await;
    hot_leads(&table).await;
    let deps = deps_at(table.clone(), NOW);
    segments(&deps, None).await;
    let audit = AuditRepo::new(table.clone());
    let filter = AuditFilter::Entity {
        entity_type: "segment".to_owned(),
        entity_id: "hot".to_owned(),
    };
    let recorded = audit.list(&filter, 100, None).await.unwrap().0;
    assert_eq!(recorded.len(), 2, "the create and the job's refresh");
    let refresh = recorded
        .iter()
        .find(|entry| entry.action == "refresh")
        .unwrap();
    assert_eq!(refresh.actor, "system");

    let again = segments(&deps, None).await;

    assert_eq!((again.members_added, again.members_removed), (0, 0));
    assert_eq!(again.contacts_scanned, 2);
    assert_eq!(members(&table, "hot").await, ["a"]);
    assert_eq!(audit.list(&filter, 100, None).await.unwrap().0.len(), 2);
}

#[tokio::test]
async fn static_segments_keep_their_hand_picked_members() {
    let table = sqlite();
    add_contact(&table, "a", "Acme", 80).await;
    add_contact(&table, "b", "Beta", 20).await;
    add_segment(&table, "picked", None).await;
    SegmentRepo::new(table.clone())
        .write_members("picked", &["b".to_owned()], &[], NOW)
        .await
        .unwrap();

    let report = segments(&deps_at(table.clone(), NOW), None).await;

    assert_eq!(report.segments_visited, 0);
    assert!(report.sweep_finished);
    assert_eq!(members(&table, "picked").await, ["b"]);
}

#[tokio::test]
async fn a_small_budget_refreshes_in_several_runs_resuming_where_the_last_stopped() {
    let table = sqlite();
    for (n, score) in [95, 10, 80, 75, 5].into_iter().enumerate() {
        add_contact(&table, &format!("c{n}"), "Acme", score).await;
    }
    hot_leads(&table).await;
    add_segment(
        &table,
        "acme",
        Some(json!({"all": [{"field": "company", "op": "eq", "value": "acme"}]})),
    )
    .await;
    let deps = deps_at(table.clone(), NOW);

    let mut reports = vec![segments(&deps, Some(2)).await];
    assert_eq!(
        members(&table, "acme").await,
        ["c0", "c1"],
        "the first two only"
    );
    while !reports.last().unwrap().sweep_finished {
        assert!(reports.len() < 10, "the sweep never finishes: {reports:?}");
        reports.push(segments(&deps, Some(2)).await);
    }

    // Per segment: 5 contacts, then its members (5 and 3), 2 per run.
    assert_eq!(reports.len(), 9, "{reports:?}");
    let last = reports.len() - 1;
    assert!(reports[..last].iter().all(|report| report.cursor_saved));
    assert!(!reports[last].cursor_saved);
    let scanned: u64 = reports.iter().map(|report| report.contacts_scanned).sum();
    let added: u64 = reports.iter().map(|report| report.members_added).sum();
    assert_eq!(scanned, 10, "every contact once per segment");
    assert_eq!(added, 5 + 3);
    assert_eq!(
        members(&table, "acme").await,
        ["c0", "c1", "c2", "c3", "c4"]
    );
    assert_eq!(members(&table, "hot").await, ["c0", "c2", "c3"]);
}

#[tokio::test]
async fn a_segment_whose_rules_changed_mid_refresh_is_evaluated_again_from_the_start() {
    let table = sqlite();
    for (n, score) in [95, 10, 80].into_iter().enumerate() {
        add_contact(&table, &format!("c{n}"), "Acme", score).await;
    }
    hot_leads(&table).await;
    let deps = deps_at(table.clone(), NOW);
    let first = segments(&deps, Some(2)).await;
    assert!(first.cursor_saved);
    assert_eq!(members(&table, "hot").await, ["c0"]);

    // The segment is replaced by a newer version with other rules.
    let repo = SegmentRepo::new(table.clone());
    let mut stored = repo.get("hot").await.unwrap().unwrap();
    stored.record.segment.rules = Some(
        crm_domain::segments::parse_rules(
            &json!({"all": [{"field": "lead_score", "op": "lt", "value": 50}]}),
        )
        .unwrap(),
    );
    let item =
        crm_store::repo::crm::segments::segment_item(&stored.record, stored.version + 1).unwrap();
    table.put(item, None).await.unwrap();

    let rest = segments(&deps, None).await;

    assert!(rest.sweep_finished);
    assert_eq!(rest.contacts_scanned, 3, "from the first contact: {rest:?}");
    assert_eq!(members(&table, "hot").await, ["c1"]);
}

#[tokio::test]
async fn a_membership_whose_contact_was_deleted_is_removed() {
    let table = sqlite();
    add_contact(&table, "a", "Acme", 80).await;
    add_contact(&table, "b", "Beta", 90).await;
    hot_leads(&table).await;
    let deps = deps_at(table.clone(), NOW);
    segments(&deps, None).await;
    assert_eq!(members(&table, "hot").await, ["a", "b"]);

    // A plain delete (not an erase) leaves the membership behind.
    delete_contact(&table, "b").await;
    assert_eq!(members(&table, "hot").await, ["a", "b"]);
    let report = segments(&deps, None).await;

    assert_eq!(
        (report.members_added, report.members_removed),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(members(&table, "hot").await, ["a"]);
    let again = segments(&deps, None).await;
    assert_eq!((again.members_added, again.members_removed), (0, 0));
}

#[tokio::test]
async fn a_store_without_segments_finishes_at_once() {
    let report = segments(&deps_at(sqlite(), NOW), None).await;
    assert!(report.sweep_finished);
    assert_eq!(report.segments_visited, 0);
}
