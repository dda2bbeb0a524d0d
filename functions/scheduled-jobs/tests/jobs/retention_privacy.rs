//! Retention beyond raw events, on SQLite: sessions anonymized after their site's session
//! retention, score-change records deleted after two years, contacts and deals untouched,
//! idempotent, and bounded runs resuming from the saved cursor.

use std::collections::BTreeMap;
use std::sync::Arc;

use crm_domain::retention::{
    AnonymizedSession, DEFAULT_SCORE_CHANGE_RETENTION_DAYS, anonymize_session,
    expires_at_epoch_seconds,
};
use crm_domain::scoring::SessionState;
use crm_domain::site::SiteConfig;
use crm_domain::time::Millis;
use crm_store::repo::codec::decode;
use crm_store::repo::crm::keys as crm_keys;
use crm_store::repo::{BehaviorRepo, SiteRepo, keys};
use crm_store::table::{Item, Key, TTL_ATTR, Table, Value};
use scheduled_jobs::{JobError, JobKind, JobRequest, run_job};

use crate::common::crm::{add_contact, add_timeline_entry, partition};
use crate::common::*;
use crate::faults::{AtCheckpoint, CheckpointFault};
use crate::sqlite;

const RAW_DAYS: u32 = 7;

async fn sessions(table: &Arc<dyn Table>, site: &str, visitor: &str) -> Vec<SessionState> {
    BehaviorRepo::new(Arc::clone(table))
        .list_sessions(&site_id(site), visitor, 100)
        .await
        .unwrap()
}

async fn anonymized(table: &Arc<dyn Table>, site: &str) -> Vec<Item> {
    partition(table, &keys::anonymized_sessions_partition(&site_id(site))).await
}

/// Every item of the partitions, by key.
async fn snapshot(table: &Arc<dyn Table>, pks: &[String]) -> BTreeMap<(String, String), Item> {
    let mut items = BTreeMap::new();
    for pk in pks {
        for item in partition(table, pk).await {
            items.insert((item.key.pk.clone(), item.key.sk.clone()), item);
        }
    }
    items
}

#[tokio::test]
async fn old_sessions_are_anonymized_old_score_changes_removed_and_nothing_else_changes() {
    // The scenario lives in `common` so that the DynamoDB test target runs it unchanged.
    crate::common::privacy::old_sessions_are_anonymized_old_score_changes_removed_and_nothing_else_changes(
        sqlite(),
    )
    .await;
}

#[tokio::test]
async fn a_session_past_its_retention_is_anonymized_and_a_younger_one_is_untouched() {
    let table = sqlite();
    add_site(&table, "shop", RAW_DAYS).await;
    record_visit(&table, "shop", RAW_DAYS, "ann", 200 * DAY).await;
    record_visit(&table, "shop", RAW_DAYS, "ann", 170 * DAY).await;
    let before = sessions(&table, "shop", "ann").await;
    assert_eq!(before.len(), 2);
    let (old, young) = (before[0].clone(), before[1].clone());
    assert!(old.last_seen < young.last_seen);

    let report = retention(&deps_at(table.clone(), NOW), None).await;

    assert_eq!(report.sessions_anonymized, 1, "{report:?}");
    assert!(report.sweep_finished);
    assert_eq!(sessions(&table, "shop", "ann").await, vec![young]);
    let by_id = BehaviorRepo::new(table.clone())
        .get_session(&site_id("shop"), &old.session)
        .await
        .unwrap();
    assert_eq!(by_id, None, "the session-id index no longer finds it");
    let copies = anonymized(&table, "shop").await;
    assert_eq!(copies.len(), 1);
    let copy: AnonymizedSession = decode(&copies[0]).unwrap();
    assert_eq!(copy, anonymize_session(&old));
    assert_eq!(copy.totals, old.totals, "aggregates kept");
    assert_eq!(copy.scores, old.scores);
    let stored = format!("{:?}", copies[0]);
    for linked in ["ann", old.session.as_str(), "/pricing", "shop.example"] {
        assert!(!stored.contains(linked), "{linked} left in {stored}");
    }
    // The profile stays: only the session lost its link.
    let profile = table.get(&keys::profile(&site_id("shop"), "ann")).await;
    assert!(profile.unwrap().is_some());
}

#[tokio::test]
async fn a_site_with_a_shorter_session_retention_anonymizes_sooner() {
    let table = sqlite();
    SiteRepo::new(table.clone())
        .put(&SiteConfig {
            id: site_id("brief"),
            name: "brief".to_owned(),
            allowed_origins: vec!["*".to_owned()],
            retention_days: RAW_DAYS,
            session_retention_days: 30,
            enabled: true,
        })
        .await
        .unwrap();
    add_site(&table, "default", RAW_DAYS).await;
    for site in ["brief", "default"] {
        record_visit(&table, site, RAW_DAYS, "bob", 40 * DAY).await;
    }

    let report = retention(&deps_at(table.clone(), NOW), None).await;

    assert_eq!(report.sessions_anonymized, 1);
    assert!(sessions(&table, "brief", "bob").await.is_empty());
    assert_eq!(anonymized(&table, "brief").await.len(), 1);
    assert_eq!(sessions(&table, "default", "bob").await.len(), 1);
    assert!(anonymized(&table, "default").await.is_empty());
}

#[tokio::test]
async fn a_deleted_sites_raw_events_go_and_its_sessions_are_anonymized_on_the_next_run() {
    let table = sqlite();
    for site in ["gone", "kept"] {
        add_site(&table, site, RAW_DAYS).await;
        record_visit(&table, site, RAW_DAYS, "ann", HOUR).await;
    }
    let sites = SiteRepo::new(table.clone());
    let live = sites.get_stored(&site_id("gone")).await.unwrap().unwrap();
    table
        .put(live.tombstone(NOW).item().unwrap(), None)
        .await
        .unwrap();

    let report = retention(&deps_at(table.clone(), NOW), None).await;

    assert_eq!(report.sites_visited, 2, "{report:?}");
    assert!(raw_event_ages(&table, "gone", "ann").await.is_empty());
    assert!(sessions(&table, "gone", "ann").await.is_empty());
    assert_eq!(anonymized(&table, "gone").await.len(), 1);
    assert_eq!(raw_event_ages(&table, "kept", "ann").await, vec![HOUR]);
    assert_eq!(sessions(&table, "kept", "ann").await.len(), 1);
    assert!(anonymized(&table, "kept").await.is_empty());
}

#[tokio::test]
async fn score_changes_older_than_two_years_go_and_nothing_else_of_the_contact_or_deals_changes() {
    let table = sqlite();
    add_contact(&table, "c1", "Acme", 40).await;
    add_timeline_entry(&table, "c1", "score_change", 731 * DAY).await;
    add_timeline_entry(&table, "c1", "score_change", 729 * DAY).await;
    add_timeline_entry(&table, "c1", "lifecycle", 1_000 * DAY).await;
    add_timeline_entry(&table, "c1", "note", 800 * DAY).await;
    let deal = Item::new(Key::new("D#deal-1", "META")).with("data", Value::S("{}".to_owned()));
    table.put(deal.clone(), None).await.unwrap();
    let pks = vec![crm_keys::contact_partition("c1"), "D#deal-1".to_owned()];
    let mut expected = snapshot(&table, &pks).await;
    let old_sk = crm_keys::timeline("c1", Millis(NOW.0 - 731 * DAY), "score_change-63158400000").sk;
    assert!(
        expected
            .remove(&(crm_keys::contact_partition("c1"), old_sk.clone()))
            .is_some(),
        "{old_sk}"
    );

    let report = retention(&deps_at(table.clone(), NOW), None).await;

    assert_eq!(
        (report.contacts_scanned, report.score_changes_removed),
        (1, 1),
        "{report:?}"
    );
    assert_eq!(report.items_removed, 1);
    assert_eq!(snapshot(&table, &pks).await, expected);

    let again = retention(&deps_at(table.clone(), NOW), None).await;
    assert_eq!((again.score_changes_removed, again.items_removed), (0, 0));
    assert_eq!(snapshot(&table, &pks).await, expected);
}

#[tokio::test]
async fn a_score_change_record_carries_the_ttl_of_its_retention() {
    let table = sqlite();
    add_contact(&table, "c1", "Acme", 40).await;
    add_timeline_entry(&table, "c1", "score_change", DAY).await;
    add_timeline_entry(&table, "c1", "note", DAY).await;
    let at = Millis(NOW.0 - DAY);
    let timeline = partition(&table, &crm_keys::contact_partition("c1")).await;
    let ttl = |kind: &str| {
        timeline
            .iter()
            .find(|item| item.key.sk.ends_with(&format!("#{kind}-{DAY}")))
            .and_then(|item| item.get_i64(TTL_ATTR))
    };
    assert_eq!(
        ttl("score_change"),
        Some(expires_at_epoch_seconds(
            at,
            DEFAULT_SCORE_CHANGE_RETENTION_DAYS
        ))
    );
    assert_eq!(ttl("note"), None, "other entries never expire");
}

#[tokio::test]
async fn running_the_whole_retention_twice_changes_nothing_the_second_time() {
    let table = sqlite();
    add_site(&table, "shop", RAW_DAYS).await;
    for visitor in ["ann", "bob"] {
        record_visit(&table, "shop", RAW_DAYS, visitor, 300 * DAY).await;
        record_visit(&table, "shop", RAW_DAYS, visitor, DAY).await;
    }
    add_contact(&table, "c1", "Acme", 40).await;
    add_timeline_entry(&table, "c1", "score_change", 800 * DAY).await;
    let deps = deps_at(table.clone(), NOW);
    let first = retention(&deps, None).await;
    assert_eq!(
        (
            first.sessions_anonymized,
            first.score_changes_removed,
            first.items_removed
        ),
        (2, 1, 2 + 1),
        "{first:?}"
    );
    let pks = vec![
        keys::visitor_partition(&site_id("shop"), "ann"),
        keys::visitor_partition(&site_id("shop"), "bob"),
        keys::anonymized_sessions_partition(&site_id("shop")),
        crm_keys::contact_partition("c1"),
    ];
    let after_first = snapshot(&table, &pks).await;

    let second = retention(&deps, None).await;

    assert_eq!(
        (
            second.sessions_anonymized,
            second.score_changes_removed,
            second.items_removed
        ),
        (0, 0, 0)
    );
    assert_eq!(snapshot(&table, &pks).await, after_first);
}

#[tokio::test]
async fn a_run_stopped_by_its_budget_resumes_over_the_contacts_from_the_cursor() {
    let table = sqlite();
    add_site(&table, "shop", RAW_DAYS).await;
    record_visit(&table, "shop", RAW_DAYS, "ann", 200 * DAY).await;
    for contact in ["c1", "c2", "c3"] {
        add_contact(&table, contact, "Acme", 40).await;
        add_timeline_entry(&table, contact, "score_change", 800 * DAY).await;
    }
    let deps = deps_at(table.clone(), NOW);

    let mut reports = vec![retention(&deps, Some(2)).await];
    while !reports.last().unwrap().sweep_finished {
        assert!(reports.len() < 10, "the sweep never finishes: {reports:?}");
        reports.push(retention(&deps, Some(2)).await);
    }

    // One visitor and three contacts, two per run.
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert!(reports[0].cursor_saved && !reports[1].cursor_saved);
    let total =
        |count: fn(&scheduled_jobs::JobReport) -> u64| -> u64 { reports.iter().map(count).sum() };
    assert_eq!(total(|r| r.visitors_scanned), 1);
    assert_eq!(total(|r| r.contacts_scanned), 3, "each contact once");
    assert_eq!(total(|r| r.score_changes_removed), 3);
    assert_eq!(total(|r| r.sessions_anonymized), 1);
    for contact in ["c1", "c2", "c3"] {
        let left = partition(&table, &crm_keys::contact_partition(contact)).await;
        assert!(
            left.iter().all(|item| !item.key.sk.starts_with("T#")),
            "{contact}"
        );
    }
}

#[tokio::test]
async fn a_run_that_dies_mid_contacts_is_redone_without_removing_twice() {
    let table = sqlite();
    for contact in ["c1", "c2"] {
        add_contact(&table, contact, "Acme", 40).await;
        add_timeline_entry(&table, contact, "score_change", 800 * DAY).await;
    }
    let crashing = deps_at(
        CheckpointFault::once(table.clone(), AtCheckpoint::Unavailable),
        NOW,
    );
    let request =
        JobRequest::new(JobKind::Retention).with_budget(scheduled_jobs::Budget::new(1).unwrap());

    let error = run_job(request, &crashing).await.unwrap_err();
    assert!(matches!(error, JobError::Store(_)) && error.is_retryable());

    let deps = deps_at(table.clone(), NOW);
    let redo = retention(&deps, Some(1)).await;
    assert_eq!((redo.contacts_scanned, redo.score_changes_removed), (1, 0));
    let rest = retention(&deps, Some(1)).await;
    assert_eq!((rest.contacts_scanned, rest.score_changes_removed), (1, 1));
    assert!(rest.sweep_finished, "{rest:?}");
}
