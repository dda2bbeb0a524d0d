//! A consented `identify` links the pseudonymous visitor to a contact: found by email
//! (case-insensitively) or created as a website lead; redelivery links once; a visitor already
//! another contact's is a conflict, recorded and not merged.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{NOW, beacon, messages, site, sqlite_deps};
use crm_domain::contacts::{Contact, Email, LifecycleStage, VisitorLink};
use crm_domain::message::{BeaconEnvelope, IdentifyRequest};
use crm_domain::records::Role;
use crm_domain::time::Millis;
use crm_store::repo::BehaviorRepo;
use crm_store::repo::codec::decode;
use crm_store::repo::crm::audit::Actor;
use crm_store::repo::crm::keys::TIMELINE_SK_PREFIX;
use crm_store::repo::crm::{AuditEntry, AuditFilter, AuditRepo, Change, ContactRepo, commit};
use crm_store::repo::crm::{TimelineEntry, identity::IdentityRepo};
use crm_store::sqlite::SqliteTable;
use crm_store::table::Table;
use event_scorer::{ScorerDeps, process_batch};
use serde_json::{Value, json};

fn identify(id: &str, visitor: &str, traits: Value) -> BeaconEnvelope {
    let mut envelope = beacon(id, visitor, &format!("{visitor}-session"), 0);
    envelope.identify = Some(IdentifyRequest {
        ts: Millis(NOW.0 - 30_000),
        traits: traits.as_object().cloned().unwrap(),
    });
    envelope
}

async fn deliver(deps: &ScorerDeps, envelopes: &[BeaconEnvelope], attempt: usize) {
    let report = process_batch(deps, &messages(envelopes, attempt)).await;
    assert!(report.failed.is_empty(), "{report:?}");
}

async fn contact_by_email(table: &Arc<dyn Table>, email: &str) -> Option<(Contact, i64)> {
    let contacts = ContactRepo::new(table.clone());
    let id = contacts.id_by_email(email).await.unwrap()?;
    let stored = contacts.get(&id).await.unwrap().unwrap();
    Some((stored.record, stored.version))
}

async fn timeline(table: &Arc<dyn Table>, contact: &str) -> Vec<TimelineEntry> {
    let items = ContactRepo::new(table.clone())
        .partition_before(contact, TIMELINE_SK_PREFIX, "T#~", 100)
        .await
        .unwrap();
    items.iter().map(|item| decode(item).unwrap()).collect()
}

async fn identify_audit(table: &Arc<dyn Table>) -> Vec<AuditEntry> {
    let filter = AuditFilter::Actor("system:identify".to_owned());
    let (entries, _) = AuditRepo::new(table.clone())
        .list(&filter, 100, None)
        .await
        .unwrap();
    entries
}

/// A contact created the way the API does, before any identify.
async fn existing_contact(table: &Arc<dyn Table>, id: &str, email: &str) {
    existing_contact_with(table, id, email, Vec::new()).await;
}

async fn existing_contact_with(
    table: &Arc<dyn Table>,
    id: &str,
    email: &str,
    linked_visitors: Vec<VisitorLink>,
) {
    let contacts = ContactRepo::new(table.clone());
    let mut contact = Contact::new(id.to_owned(), Email::parse(email).unwrap(), None, Millis(1));
    contact.linked_visitors = linked_visitors;
    let mut change = Change::new();
    contacts.add_create(&mut change, &contact).unwrap();
    let actor = Actor {
        subject: "admin-1".to_owned(),
        role: Role::Admin,
    };
    let entry = AuditEntry::new(
        format!("audit-{id}"),
        Millis(1),
        &actor,
        "contact",
        id,
        "create",
        &Value::Null,
        &serde_json::to_value(&contact).unwrap(),
    )
    .about_person(id);
    change.audit(&entry).unwrap();
    commit(&**table, change).await.unwrap();
}

fn link(visitor: &str) -> VisitorLink {
    VisitorLink {
        site: "demo".to_owned(),
        visitor: visitor.to_owned(),
    }
}

async fn all_texts(sqlite: &SqliteTable) -> Vec<String> {
    sqlite
        .all_items()
        .await
        .unwrap()
        .iter()
        .map(|item| {
            let data = decode::<Value>(item)
                .map(|v| v.to_string())
                .unwrap_or_default();
            format!("{item:?} {data}")
        })
        .collect()
}

#[tokio::test]
async fn an_identify_with_an_unknown_email_creates_a_website_lead_linked_to_the_visitor() {
    let (sqlite, deps) = sqlite_deps();
    deliver(&deps, &[beacon("m0", "alice", "s0", -5_000)], 1).await;
    let traits = json!({"email": "Ann.Lee@Example.io", "name": "Ann Lee", "company": "Acme"});
    deliver(&deps, &[identify("m1", "alice", traits)], 1).await;

    let (contact, version) = contact_by_email(&deps.table, "ann.lee@example.io")
        .await
        .unwrap();
    // Created (1), then rescored from the visitor's behavior by the score service (2).
    assert_eq!(version, 2);
    assert!(contact.lead_score > 0, "{contact:?}");
    assert_eq!(contact.lifecycle_stage, LifecycleStage::Lead);
    assert_eq!(contact.source.as_deref(), Some("website"));
    assert_eq!(
        (contact.first_name.as_deref(), contact.last_name.as_deref()),
        (Some("Ann"), Some("Lee"))
    );
    assert_eq!(contact.company.as_deref(), Some("Acme"));
    assert_eq!(contact.linked_visitors, vec![link("alice")]);
    assert_eq!(contact.created_at, NOW);

    let kinds: Vec<String> = timeline(&deps.table, &contact.id)
        .await
        .into_iter()
        .map(|entry| entry.kind)
        .collect();
    assert!(kinds.contains(&"lifecycle".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"visitor_linked".to_owned()), "{kinds:?}");
    let audit = identify_audit(&deps.table).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].action.as_str(), audit[0].entity_id.as_str()),
        ("create", contact.id.as_str())
    );

    // What the admin API's contact timeline reads: the sessions of the linked visitors.
    let sessions = BehaviorRepo::new(deps.table.clone())
        .list_sessions(&site(), &contact.linked_visitors[0].visitor, 10)
        .await
        .unwrap();
    let mut ids: Vec<&str> = sessions.iter().map(|s| s.session.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["alice-session", "s0"]);

    // The `lead` transition is queued in the outbox with the contact. The request item is
    // gone, and no key holds the address.
    let texts = all_texts(&sqlite).await;
    assert_eq!(
        texts
            .iter()
            .filter(|text| text.contains("pk: \"OUTBOX#TRANSITIONS\"") && text.contains(&contact.id))
            .count(),
        1
    );
    for text in texts {
        assert!(!text.contains("IDENTIFY#"), "{text}");
        let key = text
            .split(" attrs")
            .next()
            .unwrap_or_default()
            .to_lowercase();
        assert!(!key.contains("ann.lee"), "{text}");
    }
}

#[tokio::test]
async fn an_existing_contact_is_matched_case_insensitively_and_no_second_contact_is_made() {
    let (_, deps) = sqlite_deps();
    existing_contact(&deps.table, "c-ann", "ann@example.io").await;
    deliver(
        &deps,
        &[identify(
            "m1",
            "alice",
            json!({"email": " ANN@Example.IO ", "first_name": "X"}),
        )],
        1,
    )
    .await;

    let (contact, version) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();
    assert_eq!(contact.id, "c-ann");
    // Linked (2), then rescored (3).
    assert_eq!(version, 3);
    assert!(contact.lead_score > 0, "{contact:?}");
    assert_eq!(contact.linked_visitors, vec![link("alice")]);
    assert_eq!(
        contact.first_name, None,
        "an existing contact keeps its own fields"
    );
    let counts = ContactRepo::new(deps.table.clone())
        .stage_counts()
        .await
        .unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 1);
    let audit = identify_audit(&deps.table).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "link_visitor");
    assert!(audit[0].changes.contains_key("linked_visitors"));
}

#[tokio::test]
async fn redelivered_identifies_link_once() {
    let (_, deps) = sqlite_deps();
    let batch = [
        identify("m1", "alice", json!({"email": "ann@example.io"})),
        // The same person again from the same visitor, in a later beacon.
        identify("m2", "alice", json!({"email": "Ann@example.io"})),
    ];
    deliver(&deps, &batch, 1).await;
    let (first, first_version) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();
    let first_timeline = timeline(&deps.table, &first.id).await;
    for attempt in 2..5 {
        deliver(&deps, &batch, attempt).await;
        deliver(&deps, &batch[1..], attempt).await;
    }
    let (again, version) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();
    assert_eq!((again.clone(), version), (first, first_version));
    assert_eq!(again.linked_visitors, vec![link("alice")]);
    assert_eq!(timeline(&deps.table, &again.id).await, first_timeline);
    assert_eq!(identify_audit(&deps.table).await.len(), 1);
}

#[tokio::test]
async fn a_visitor_linked_to_another_contact_is_recorded_as_a_conflict_not_merged() {
    let (sqlite, deps) = sqlite_deps();
    existing_contact(&deps.table, "c-bob", "bob@example.io").await;
    deliver(
        &deps,
        &[identify("m1", "alice", json!({"email": "ann@example.io"}))],
        1,
    )
    .await;
    let (ann, _) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();

    // The same browser identifies as Bob (an existing contact), then as Carol (unknown).
    let conflicts = [
        identify("m2", "alice", json!({"email": "bob@example.io"})),
        identify("m3", "alice", json!({"email": "carol@example.io"})),
    ];
    for attempt in 1..3 {
        deliver(&deps, &conflicts, attempt).await;
    }

    let (ann_after, _) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();
    assert_eq!(ann_after.linked_visitors, ann.linked_visitors);
    let (bob, bob_version) = contact_by_email(&deps.table, "bob@example.io")
        .await
        .unwrap();
    assert!(bob.linked_visitors.is_empty());
    assert_eq!(bob_version, 1);
    let (carol, _) = contact_by_email(&deps.table, "carol@example.io")
        .await
        .unwrap();
    assert!(carol.linked_visitors.is_empty(), "created, but not linked");
    assert_eq!(carol.source.as_deref(), Some("website"));

    let conflict_entries = |entries: Vec<TimelineEntry>| {
        entries
            .into_iter()
            .filter(|entry| entry.kind == "identity_conflict")
            .count()
    };
    assert_eq!(conflict_entries(timeline(&deps.table, "c-bob").await), 1);
    assert_eq!(conflict_entries(timeline(&deps.table, &carol.id).await), 1);
    assert_eq!(conflict_entries(timeline(&deps.table, &ann.id).await), 2);
    let audit = identify_audit(&deps.table).await;
    let conflicts: Vec<&AuditEntry> = audit
        .iter()
        .filter(|entry| entry.action == "conflict")
        .collect();
    assert_eq!(conflicts.len(), 2);
    assert!(
        conflicts
            .iter()
            .any(|entry| entry.changes["identified"].after == "c-bob"
                && entry.changes["linked_to"].after == json!(ann.id))
    );
    // Each conflict's audit entry is linked from both contacts, for erasure.
    let refs = all_texts(&sqlite)
        .await
        .into_iter()
        .filter(|text| text.contains("REF#AUDIT#identity_conflict"))
        .count();
    assert_eq!(refs, 4);
}

#[tokio::test]
async fn an_identify_without_an_email_links_nothing_and_is_not_kept() {
    let (sqlite, deps) = sqlite_deps();
    deliver(&deps, &[identify("m1", "alice", json!({"name": "Ann"}))], 1).await;
    let texts = all_texts(&sqlite).await;
    assert!(!texts.iter().any(|text| text.contains("IDENTIFY#")));
    assert!(!texts.iter().any(|text| text.contains("C#")));
    let linked = IdentityRepo::new(deps.table.clone())
        .contacts_of_visitors(&[(&site(), "alice")])
        .await
        .unwrap();
    assert!(linked.is_empty());
}

/// Linking, redelivery and a conflict on any store: the conditions and transactions it relies
/// on behave the same on DynamoDB.
async fn links_once_and_records_a_conflict(table: Arc<dyn Table>) {
    let deps = ScorerDeps {
        table: table.clone(),
        clock: Arc::new(common::FixedClock(NOW)),
    };
    let first = [identify("m1", "alice", json!({"email": "Ann@example.io"}))];
    for attempt in 1..4 {
        deliver(&deps, &first, attempt).await;
    }
    let (ann, version) = contact_by_email(&table, "ann@example.io").await.unwrap();
    assert_eq!(
        (ann.linked_visitors.clone(), version),
        (vec![link("alice")], 2),
        "created, then rescored once"
    );
    let second = [identify("m2", "alice", json!({"email": "bob@example.io"}))];
    for attempt in 1..3 {
        deliver(&deps, &second, attempt).await;
    }
    let (bob, _) = contact_by_email(&table, "bob@example.io").await.unwrap();
    assert!(bob.linked_visitors.is_empty());
    let conflicts: Vec<TimelineEntry> = timeline(&table, &bob.id)
        .await
        .into_iter()
        .filter(|entry| entry.kind == "identity_conflict")
        .collect();
    assert_eq!(conflicts.len(), 1);
    let linked = IdentityRepo::new(table.clone())
        .contacts_of_visitors(&[(&site(), "alice"), (&site(), "nobody")])
        .await
        .unwrap();
    assert_eq!(linked, vec![ann.id]);
}

#[tokio::test]
async fn on_the_embedded_store_identify_links_once_and_records_a_conflict() {
    let (_, deps) = sqlite_deps();
    links_once_and_records_a_conflict(deps.table).await;
}

#[cfg(feature = "aws-tests")]
#[tokio::test]
async fn on_dynamodb_identify_links_once_and_records_a_conflict() {
    use crm_store::test_support::{dynamodb_client, fresh_dynamo_table};

    let table = fresh_dynamo_table(&dynamodb_client().await, "scorer-identity").await;
    links_once_and_records_a_conflict(Arc::new(table)).await;
}

#[tokio::test]
async fn a_linked_visitors_later_behavior_rescores_its_contact() {
    let (_, deps) = sqlite_deps();
    deliver(
        &deps,
        &[identify("m1", "alice", json!({"email": "ann@example.io"}))],
        1,
    )
    .await;
    let (before, _) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();

    let later: Vec<BeaconEnvelope> = (2..6)
        .map(|n| beacon(&format!("m{n}"), "alice", &format!("s{n}"), n * 1_000))
        .collect();
    deliver(&deps, &later, 1).await;

    let (after, _) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();
    assert!(
        after.lead_score > before.lead_score,
        "{} -> {}",
        before.lead_score,
        after.lead_score
    );
}

#[tokio::test]
async fn a_rescore_that_fails_does_not_fail_the_behavior_commit() {
    let (_, deps) = sqlite_deps();
    // A claim naming a contact that does not exist: its rescore fails (not found).
    let claim =
        crm_store::table::Item::new(crm_store::repo::crm::keys::visitor_claim(&site(), "bob"))
            .with("contact", crm_store::table::Value::S("ghost".to_owned()));
    deps.table.put(claim, None).await.unwrap();

    let report = process_batch(&deps, &messages(&[beacon("m1", "bob", "s1", 0)], 1)).await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(report.applied, 1);
    let profile = BehaviorRepo::new(deps.table.clone())
        .get_profile(&site(), "bob")
        .await
        .unwrap();
    assert!(profile.is_some());
}

#[tokio::test]
async fn a_visitor_linked_by_hand_gets_its_claim_from_an_identify_and_is_not_linked_twice() {
    let (_, deps) = sqlite_deps();
    existing_contact_with(&deps.table, "c-ann", "ann@example.io", vec![link("alice")]).await;
    let identity = IdentityRepo::new(deps.table.clone());
    let claimed = |identity: IdentityRepo| async move {
        identity
            .contacts_of_visitors(&[(&site(), "alice")])
            .await
            .unwrap()
    };
    assert!(claimed(identity.clone()).await.is_empty());

    deliver(
        &deps,
        &[identify("m1", "alice", json!({"email": "ann@example.io"}))],
        1,
    )
    .await;

    assert_eq!(claimed(identity).await, vec!["c-ann".to_owned()]);
    let (contact, _) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();
    assert_eq!(contact.linked_visitors, vec![link("alice")]);
    assert!(
        identify_audit(&deps.table).await.is_empty(),
        "the contact itself is not changed"
    );
}

#[tokio::test]
async fn two_scorers_identifying_one_new_email_at_once_make_one_contact_linked_to_both_visitors() {
    let (_, deps) = sqlite_deps();
    let from_alice = [identify("m1", "alice", json!({"email": "ann@example.io"}))];
    let from_bob = [identify("m2", "bob", json!({"email": "ANN@example.io"}))];
    tokio::join!(deliver(&deps, &from_alice, 1), deliver(&deps, &from_bob, 1));
    let (contact, _) = contact_by_email(&deps.table, "ann@example.io")
        .await
        .unwrap();
    let mut visitors: Vec<&str> = contact
        .linked_visitors
        .iter()
        .map(|link| link.visitor.as_str())
        .collect();
    visitors.sort_unstable();
    assert_eq!(visitors, ["alice", "bob"]);
    let counts = ContactRepo::new(deps.table.clone())
        .stage_counts()
        .await
        .unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 1);
}
