//! Contacts, timeline entries and segments written the way the admin API writes them, for the
//! retention and segments job tests.

use std::sync::Arc;

use crm_domain::contacts::Contact;
use crm_domain::records::Role;
use crm_domain::segments::{Segment, SegmentKind, parse_rules};
use crm_domain::time::Millis;
use crm_store::repo::crm::audit::Actor;
use crm_store::repo::crm::segments::{SegmentRecord, SegmentRepo, segment_item};
use crm_store::repo::crm::{AuditEntry, Change, ContactRepo, Expect, TimelineEntry, commit};
use crm_store::table::{Item, Query, SortKeyCondition, Table};
use serde_json::{Value, json};

use super::NOW;

/// The audit entry of a record's creation by an admin, as the API writes it.
pub fn audited(change: &mut Change, entity: &str, id: &str) {
    let actor = Actor {
        subject: "test".to_owned(),
        role: Role::Admin,
    };
    let entry = AuditEntry::new(
        uuid::Uuid::now_v7().simple().to_string(),
        NOW,
        &actor,
        entity,
        id,
        "create",
        &Value::Null,
        &json!({ "id": id }),
    );
    change.audit(&entry).unwrap();
}

/// A contact with `company` and `lead_score`, created as the API does (record, creation-order
/// copy, email claim, stage counter, audit).
pub async fn add_contact(table: &Arc<dyn Table>, id: &str, company: &str, lead_score: u8) {
    let contact: Contact = serde_json::from_value(json!({
        "id": id,
        "email": format!("{id}@example.com"),
        "company": company,
        "lifecycle_stage": "lead",
        "lead_score": lead_score,
        "created_at": NOW.0 - 1_000,
        "updated_at": NOW.0 - 1_000,
    }))
    .unwrap();
    let mut change = Change::new();
    ContactRepo::new(Arc::clone(table))
        .add_create(&mut change, &contact)
        .unwrap();
    audited(&mut change, "contact", id);
    commit(table.as_ref(), change).await.unwrap();
}

/// Replaces a contact's lead score as an update would.
pub async fn set_lead_score(table: &Arc<dyn Table>, id: &str, lead_score: u8) {
    let repo = ContactRepo::new(Arc::clone(table));
    let current = repo.get(id).await.unwrap().unwrap();
    let mut after = current.record.clone();
    after.lead_score = lead_score;
    let mut change = Change::new();
    repo.add_update(&mut change, &current, &after).unwrap();
    audited(&mut change, "contact", id);
    commit(table.as_ref(), change).await.unwrap();
}

/// Deletes a contact's record as a plain delete does (its memberships stay behind).
pub async fn delete_contact(table: &Arc<dyn Table>, id: &str) {
    let repo = ContactRepo::new(Arc::clone(table));
    let current = repo.get(id).await.unwrap().unwrap();
    let mut change = Change::new();
    repo.add_delete(&mut change, &current);
    audited(&mut change, "contact", id);
    commit(table.as_ref(), change).await.unwrap();
}

/// A timeline entry of `kind` on a contact, `age_ms` before [`NOW`].
pub async fn add_timeline_entry(table: &Arc<dyn Table>, contact: &str, kind: &str, age_ms: i64) {
    let entry = TimelineEntry {
        id: format!("{kind}-{age_ms}"),
        contact_id: contact.to_owned(),
        at: Millis(NOW.0 - age_ms),
        kind: kind.to_owned(),
        summary: format!("{kind} {age_ms}"),
        detail: json!({ "old": 10.0, "new": 30.0 }),
        actor: "system".to_owned(),
    };
    let mut change = Change::new();
    change.put(entry.item().unwrap(), Expect::Absent);
    audited(&mut change, "contact", contact);
    commit(table.as_ref(), change).await.unwrap();
}

/// A dynamic segment over `rules` (JSON, as the API takes them), or a static one.
pub async fn add_segment(table: &Arc<dyn Table>, id: &str, rules: Option<Value>) {
    let segment = Segment {
        id: id.to_owned(),
        name: id.to_owned(),
        description: None,
        kind: if rules.is_some() {
            SegmentKind::Dynamic
        } else {
            SegmentKind::Static
        },
        rules: rules.map(|rules| parse_rules(&rules).unwrap()),
        refreshed_at: None,
    };
    let record = SegmentRecord {
        segment,
        created_at: NOW,
        updated_at: NOW,
    };
    let mut change = Change::new();
    change.put(segment_item(&record, 1).unwrap(), Expect::Absent);
    audited(&mut change, "segment", id);
    commit(table.as_ref(), change).await.unwrap();
}

pub async fn members(table: &Arc<dyn Table>, segment: &str) -> Vec<String> {
    SegmentRepo::new(Arc::clone(table))
        .all_members(segment, 10_000)
        .await
        .unwrap()
}

/// Every item of a partition.
pub async fn partition(table: &Arc<dyn Table>, pk: &str) -> Vec<Item> {
    table
        .query(Query {
            sk: SortKeyCondition::Any,
            limit: 1000,
            ..Query::partition(pk)
        })
        .await
        .unwrap()
        .items
}
