//! GDPR: everything held about a person as one JSON document, and erasure that leaves no
//! personal data anywhere in the store (only an audit entry saying an erasure happened).
//!
//! What belongs to a person is found without a scan: the contact's partition (`C#{id}`: the
//! record, interactions, timeline, links to items elsewhere) and the partitions of its linked
//! visitors (`SITE#{site}#V#{visitor}`: profile, sessions, raw events, identify requests).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use crm_domain::contacts::{Contact, VisitorLink};
use crm_domain::records::{Action, FieldChange, Resource};
use crm_domain::site::SiteId;
use crm_store::repo::codec::decode;
use crm_store::repo::crm::keys::{
    INTERACTION_SK_PREFIX, META_SK, PERSON_REF_SK_PREFIX, TIMELINE_SK_PREFIX,
};
use crm_store::repo::crm::{
    AuditEntry, Change, OnErase, PersonRef, commit, delete_all, read_partition,
};
use crm_store::repo::keys::{RAW_EVENTS_SK_PREFIX, SESSION_SK_PREFIX, visitor_partition};
use crm_store::table::{Item, Key};
use serde_json::{Value, json};

use super::MAX_PERSON_ITEMS;
use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::routes::AdminState;
use crate::views::rfc3339;

/// What one person's data consists of.
struct Holdings {
    contact: Option<Contact>,
    partition: Vec<Item>,
}

async fn holdings(state: &AdminState, id: &str) -> Result<Holdings, ApiError> {
    let partition = state.contacts.partition(id, MAX_PERSON_ITEMS).await?;
    if partition.is_empty() {
        return Err(ApiError::NotFound(format!("no contact {id}")));
    }
    let contact = partition
        .iter()
        .find(|item| item.key.sk == META_SK)
        .map(decode::<Contact>)
        .transpose()?;
    Ok(Holdings { contact, partition })
}

fn with_prefix<'a>(items: &'a [Item], prefix: &'a str) -> impl Iterator<Item = &'a Item> {
    items
        .iter()
        .filter(move |item| item.key.sk.starts_with(prefix))
}

fn linked_visitors(holdings: &Holdings) -> Vec<VisitorLink> {
    holdings
        .contact
        .as_ref()
        .map(|contact| contact.linked_visitors.clone())
        .unwrap_or_default()
}

fn visitor_pk(link: &VisitorLink) -> Option<String> {
    SiteId::parse(&link.site)
        .ok()
        .map(|site| visitor_partition(&site, &link.visitor))
}

#[utoipa::path(get, path = "/crm/contacts/{id}/export", tag = "privacy",
    params(("id" = String, Path, description = "contact id")),
    responses((status = 200, description = "everything held about the person, including linked visitors' sessions and raw events", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn export_person(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::PersonalDataExport, Resource::Contact)?;
    let holdings = holdings(&state, &id).await?;
    let data = |items: Vec<&Item>| -> Result<Vec<Value>, ApiError> {
        items
            .into_iter()
            .map(|item| decode::<Value>(item).map_err(ApiError::from))
            .collect()
    };
    let interactions = data(with_prefix(&holdings.partition, INTERACTION_SK_PREFIX).collect())?;
    let timeline = data(with_prefix(&holdings.partition, TIMELINE_SK_PREFIX).collect())?;
    let mut audit = Vec::new();
    let mut linked_records = Vec::new();
    for item in with_prefix(&holdings.partition, PERSON_REF_SK_PREFIX) {
        let link = PersonRef::from_item(item)?;
        let Some(target) = state.table.get(&link.target).await? else {
            continue;
        };
        let value: Value = decode(&target)?;
        match link.on_erase {
            OnErase::RedactAudit => audit.push(value),
            _ => linked_records.push(json!({ "key": link.target, "record": value })),
        }
    }
    let mut visitors = Vec::new();
    for link in linked_visitors(&holdings) {
        let Some(pk) = visitor_pk(&link) else {
            continue;
        };
        let items = read_partition(&*state.table, &pk, MAX_PERSON_ITEMS).await?;
        let mut profile = Value::Null;
        let (mut sessions, mut raw_events, mut other) = (Vec::new(), Vec::new(), Vec::new());
        for item in &items {
            let value: Value = decode(item).unwrap_or(Value::Null);
            if item.key.sk == crm_store::repo::keys::PROFILE_SK {
                profile = value;
            } else if item.key.sk.starts_with(SESSION_SK_PREFIX) {
                sessions.push(value);
            } else if item.key.sk.starts_with(RAW_EVENTS_SK_PREFIX) {
                raw_events.push(value);
            } else {
                other.push(json!({ "sk": item.key.sk, "data": value }));
            }
        }
        visitors.push(json!({
            "site": link.site, "visitor": link.visitor, "profile": profile,
            "sessions": sessions, "raw_events": raw_events, "other": other,
        }));
    }
    Ok(envelope::ok(json!({
        "exported_at": rfc3339(state.clock.now()),
        "contact": holdings.contact,
        "interactions": interactions,
        "timeline": timeline,
        "audit": audit,
        "linked_records": linked_records,
        "visitors": visitors,
    })))
}

#[utoipa::path(post, path = "/crm/contacts/{id}/erase", tag = "privacy",
    params(("id" = String, Path, description = "contact id")),
    responses((status = 200, description = "what was removed, by kind; the erasure's audit id", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn erase_person(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Erase, Resource::Contact)?;
    let holdings = holdings(&state, &id).await?;
    // The erasure's own id stands in for the person's ids in what remains (audit entries).
    let erasure = format!("erased-{}", new_id());
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();

    // Everything outside the contact's partition first, so that a failure part-way leaves the
    // contact (and its links) in place and the erase can simply be repeated.
    for link in linked_visitors(&holdings) {
        let Some(pk) = visitor_pk(&link) else {
            continue;
        };
        let items = read_partition(&*state.table, &pk, MAX_PERSON_ITEMS).await?;
        *counts.entry("visitors").or_default() += 1;
        *counts.entry("visitor_items").or_default() += items.len() as u64;
        delete_all(
            &*state.table,
            items.into_iter().map(|item| item.key).collect(),
        )
        .await?;
    }
    for item in with_prefix(&holdings.partition, PERSON_REF_SK_PREFIX) {
        let link = PersonRef::from_item(item)?;
        if link.apply_erase(&*state.table, &erasure).await? {
            let kind = match link.on_erase {
                OnErase::RedactAudit => "audit_entries_redacted",
                OnErase::Scrub { .. } => "linked_records_scrubbed",
                OnErase::Delete => "linked_records_deleted",
            };
            *counts.entry(kind).or_default() += 1;
        }
    }
    *counts.entry("interactions").or_default() +=
        with_prefix(&holdings.partition, INTERACTION_SK_PREFIX).count() as u64;
    *counts.entry("timeline_entries").or_default() +=
        with_prefix(&holdings.partition, TIMELINE_SK_PREFIX).count() as u64;
    let rest: Vec<Key> = holdings
        .partition
        .iter()
        .filter(|item| item.key.sk != META_SK)
        .map(|item| item.key.clone())
        .collect();
    delete_all(&*state.table, rest).await?;

    // Last, atomically: the contact itself, its email claim, its stage count, and the audit
    // entry — which names the erasure, never the person.
    let now = state.clock.now();
    let mut change = Change::new();
    if let Some(contact) = &holdings.contact {
        state.contacts.add_delete_any_version(&mut change, contact);
        *counts.entry("contacts").or_default() += 1;
    }
    let mut entry = AuditEntry::new(
        new_id(),
        now,
        &caller.actor(),
        "contact",
        &erasure,
        "erase",
        &Value::Null,
        &Value::Null,
    );
    entry.changes = counts
        .iter()
        .map(|(kind, count)| {
            let change = FieldChange {
                before: json!(count),
                after: json!(0),
            };
            ((*kind).to_owned(), change)
        })
        .collect();
    change.audit(&entry)?;
    commit(&*state.table, change).await?;
    tracing::info!(erasure = %erasure, "contact erased");
    Ok(envelope::ok(
        json!({ "erasure_id": erasure, "removed": counts }),
    ))
}
