//! Retention of sessions and score changes, and the segments job: whole scenarios run on every
//! store adapter (SQLite in `tests/jobs`, DynamoDB on moto in `aws_retention`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crm_domain::retention::{AnonymizedSession, anonymize_session};
use crm_domain::time::Millis;
use crm_store::repo::codec::decode;
use crm_store::repo::crm::keys as crm_keys;
use crm_store::repo::{BehaviorRepo, keys};
use crm_store::table::{Item, Key, Table, Value};
use scheduled_jobs::{JobKind, JobRequest, run_job};
use serde_json::json;

use super::crm::{
    add_contact, add_segment, add_timeline_entry, members, partition, set_lead_score,
};
use super::{DAY, NOW, add_site, deps_at, record_visit, retention, site_id};

/// Every item of the partitions, by key.
pub async fn snapshot(table: &Arc<dyn Table>, pks: &[String]) -> BTreeMap<(String, String), Item> {
    let mut items = BTreeMap::new();
    for pk in pks {
        for item in partition(table, pk).await {
            items.insert((item.key.pk.clone(), item.key.sk.clone()), item);
        }
    }
    items
}

/// A visitor with a session past the default 180 days and one within; a contact with a
/// score change past two years, a younger one and older entries of other kinds; a deal.
pub async fn old_sessions_are_anonymized_old_score_changes_removed_and_nothing_else_changes(
    table: Arc<dyn Table>,
) {
    add_site(&table, "shop", 7).await;
    record_visit(&table, "shop", 7, "ann", 200 * DAY).await;
    record_visit(&table, "shop", 7, "ann", 170 * DAY).await;
    add_contact(&table, "c1", "Acme", 40).await;
    add_timeline_entry(&table, "c1", "score_change", 731 * DAY).await;
    add_timeline_entry(&table, "c1", "score_change", 729 * DAY).await;
    add_timeline_entry(&table, "c1", "lifecycle", 1_000 * DAY).await;
    let deal = Item::new(Key::new("D#deal-1", "META")).with("data", Value::S("{}".to_owned()));
    table.put(deal, None).await.expect("put the deal");
    let behavior = BehaviorRepo::new(Arc::clone(&table));
    let before = behavior
        .list_sessions(&site_id("shop"), "ann", 10)
        .await
        .expect("sessions");
    assert_eq!(before.len(), 2);
    let (old, young) = (before[0].clone(), before[1].clone());
    let crm = vec![crm_keys::contact_partition("c1"), "D#deal-1".to_owned()];
    let mut expected_crm = snapshot(&table, &crm).await;
    let old_change = crm_keys::timeline(
        "c1",
        Millis(NOW.0 - 731 * DAY),
        &format!("score_change-{}", 731 * DAY),
    );
    assert!(
        expected_crm
            .remove(&(old_change.pk, old_change.sk))
            .is_some()
    );
    let deps = deps_at(Arc::clone(&table), NOW);

    let report = retention(&deps, None).await;

    assert_eq!(report.sessions_anonymized, 1, "{report:?}");
    assert_eq!(report.score_changes_removed, 1, "{report:?}");
    assert_eq!(report.contacts_scanned, 1);
    assert!(report.sweep_finished);
    let after = behavior
        .list_sessions(&site_id("shop"), "ann", 10)
        .await
        .expect("sessions");
    assert_eq!(after, vec![young], "the younger session is untouched");
    let by_id = behavior
        .get_session(&site_id("shop"), &old.session)
        .await
        .expect("session lookup");
    assert_eq!(by_id, None);
    let copies = partition(
        &table,
        &keys::anonymized_sessions_partition(&site_id("shop")),
    )
    .await;
    assert_eq!(copies.len(), 1);
    let copy: AnonymizedSession = decode(&copies[0]).expect("an anonymized session");
    assert_eq!(copy, anonymize_session(&old));
    let stored = format!("{:?}", copies[0]);
    for linked in ["ann", old.session.as_str(), "/pricing"] {
        assert!(!stored.contains(linked), "{linked} left in {stored}");
    }
    assert_eq!(snapshot(&table, &crm).await, expected_crm);

    let mut everything = crm.clone();
    everything.push(keys::visitor_partition(&site_id("shop"), "ann"));
    everything.push(keys::anonymized_sessions_partition(&site_id("shop")));
    let settled = snapshot(&table, &everything).await;
    let again = retention(&deps, None).await;
    assert_eq!(
        (
            again.sessions_anonymized,
            again.score_changes_removed,
            again.items_removed
        ),
        (0, 0, 0)
    );
    assert_eq!(snapshot(&table, &everything).await, settled);
}

/// Three contacts, one dynamic segment: members follow the scores, a second run changes nothing.
pub async fn the_segments_job_adds_and_removes_members_and_a_second_run_changes_nothing(
    table: Arc<dyn Table>,
) {
    add_contact(&table, "a", "Acme", 80).await;
    add_contact(&table, "b", "Beta", 20).await;
    add_contact(&table, "c", "Core", 90).await;
    add_segment(
        &table,
        "hot",
        Some(json!({"all": [{"field": "lead_score", "op": "gte", "value": 70}]})),
    )
    .await;
    let deps = deps_at(Arc::clone(&table), NOW);
    let run = || async {
        run_job(JobRequest::new(JobKind::Segments), &deps)
            .await
            .expect("the segments run")
    };

    let first = run().await;
    assert_eq!((first.members_added, first.members_removed), (2, 0));
    assert_eq!(members(&table, "hot").await, ["a", "c"]);

    set_lead_score(&table, "c", 10).await;
    set_lead_score(&table, "b", 75).await;
    let second = run().await;
    assert_eq!((second.members_added, second.members_removed), (1, 1));
    assert_eq!(members(&table, "hot").await, ["a", "b"]);

    let third = run().await;
    assert_eq!((third.members_added, third.members_removed), (0, 0));
    assert_eq!(third.contacts_scanned, 3);
    assert!(third.sweep_finished);
    assert_eq!(members(&table, "hot").await, ["a", "b"]);
}
