//! `/api/admin/crm/contacts`, `/crm/leads` and `/crm/analytics/lifecycle`: contacts and what
//! hangs off them (interactions, timeline, lifecycle, CSV, GDPR).

mod activity;
mod crud;
mod csv_io;
mod leads;
mod lifecycle;
mod privacy;
mod schema;

pub use activity::*;
pub use crud::*;
pub use csv_io::*;
pub use leads::*;
pub use lifecycle::*;
pub use privacy::*;

use crm_domain::contacts::{Contact, LifecycleStage, Transition};
use crm_domain::time::Millis;
use crm_store::repo::crm::outbox::{TransitionMessage, add_transition};
use crm_store::repo::crm::visitor_claims::VisitorClaims;
use crm_store::repo::crm::{
    AuditEntry, Change, CommitError, ContactWrite, TimelineEntry, Versioned, commit,
};
use crm_store::table::TableError;
use serde_json::{Value, json};

use crate::caller::{Caller, new_id};
use crate::error::ApiError;
use crate::extract::IfMatch;
use crate::routes::{AdminState, ApiRouter, Operations, routes};
use crate::views::rfc3339;

/// Adds the contact, lead and lifecycle analytics routes.
pub fn register<O: Operations>(router: ApiRouter<O>) -> ApiRouter<O> {
    router
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(
            get_contact,
            replace_contact,
            patch_contact,
            delete_contact
        ))
        .routes(routes!(list_interactions, create_interaction))
        .routes(routes!(timeline))
        .routes(routes!(get_lifecycle, put_lifecycle))
        .routes(routes!(recalculate_score))
        .routes(routes!(import_contacts))
        .routes(routes!(export_contacts))
        .routes(routes!(at_risk_contacts))
        .routes(routes!(high_value_contacts))
        .routes(routes!(export_person))
        .routes(routes!(erase_person))
        .routes(routes!(list_leads))
        .routes(routes!(qualify_lead))
        .routes(routes!(convert_lead))
        .routes(routes!(schedule_follow_up))
        .routes(routes!(lifecycle_analytics))
}

/// How many index items one filtered list request may read.
pub const MAX_EXAMINED: usize = 1000;
/// The most items one person's partition may hold for export and erase.
pub const MAX_PERSON_ITEMS: usize = 20_000;

/// The contact as the API shows it: RFC 3339 times and its version.
pub fn contact_view(contact: &Contact, version: i64) -> Value {
    let mut view = serde_json::to_value(contact).unwrap_or(Value::Null);
    view["created_at"] = json!(rfc3339(contact.created_at));
    view["updated_at"] = json!(rfc3339(contact.updated_at));
    view["version"] = json!(version);
    if let Some(follow_up) = view.get_mut("follow_up").and_then(Value::as_object_mut) {
        follow_up.remove("due_at");
    }
    view
}

/// A list entry (the version is not in the index copy's view; GET one record for its ETag).
pub fn list_view(contact: &Contact) -> Value {
    let mut view = contact_view(contact, 0);
    if let Some(object) = view.as_object_mut() {
        object.remove("version");
    }
    view
}

pub async fn load_contact(state: &AdminState, id: &str) -> Result<Versioned<Contact>, ApiError> {
    state
        .contacts
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no contact {id}")))
}

pub fn contact_audit(
    caller: &Caller,
    id: &str,
    action: &str,
    before: Option<&Contact>,
    after: Option<&Contact>,
    now: Millis,
) -> AuditEntry {
    let json = |contact: Option<&Contact>| {
        contact
            .and_then(|contact| serde_json::to_value(contact).ok())
            .unwrap_or(Value::Null)
    };
    AuditEntry::new(
        new_id(),
        now,
        &caller.actor(),
        "contact",
        id,
        action,
        &json(before),
        &json(after),
    )
    .about_person(id)
}

/// A lifecycle transition as a timeline entry.
pub fn transition_entry(
    contact: &str,
    from: Option<LifecycleStage>,
    to: LifecycleStage,
    reason: &str,
    actor: &str,
    now: Millis,
) -> TimelineEntry {
    let transition = Transition {
        id: new_id(),
        from,
        to,
        at: now,
        reason: reason.to_owned(),
        actor: actor.to_owned(),
    };
    TimelineEntry {
        id: transition.id.clone(),
        contact_id: contact.to_owned(),
        at: now,
        kind: "lifecycle".to_owned(),
        summary: format!(
            "{} → {}",
            from.map_or("(new)", LifecycleStage::as_str),
            to.as_str()
        ),
        detail: serde_json::to_value(&transition).unwrap_or(Value::Null),
        actor: actor.to_owned(),
    }
}

/// Adds a transition's timeline entry and, in the same transaction, its outbox item: the relay
/// publishes it on the transitions queue once committed (see `crm_store::repo::crm::outbox`).
pub fn put_transition(change: &mut Change, entry: &TimelineEntry) -> Result<(), ApiError> {
    change.put(entry.item()?, crm_store::repo::crm::Expect::Absent);
    let transition: Transition = serde_json::from_value(entry.detail.clone())
        .map_err(|error| TableError::Invalid(format!("a transition entry: {error}")))?;
    let message = TransitionMessage::new(&entry.contact_id, &transition, None);
    add_transition(change, &message)?;
    Ok(())
}

/// Writes an updated contact (with its audit entry and any extra items already in `change`).
pub async fn save_update(
    state: &AdminState,
    caller: &Caller,
    current: &Versioned<Contact>,
    updated: &Contact,
    action: &str,
    mut change: Change,
    if_match: IfMatch,
) -> Result<i64, ApiError> {
    let mut write = state.contacts.add_update(&mut change, current, updated)?;
    write.visitor_claims = VisitorClaims::new(state.table.clone())
        .add_changes(&mut change, Some(&current.record), updated)
        .await?;
    // Dynamic segments the write makes the contact join or leave, in the same transaction.
    crm_store::repo::crm::segments::SegmentRepo::new(state.table.clone())
        .add_membership_updates(
            &mut change,
            Some(&current.record),
            updated,
            updated.updated_at,
        )
        .await?;
    if current.record.lifecycle_stage != updated.lifecycle_stage && !change_has_transition(action) {
        let entry = transition_entry(
            &updated.id,
            Some(current.record.lifecycle_stage),
            updated.lifecycle_stage,
            "changed with the contact",
            &caller.subject,
            updated.updated_at,
        );
        put_transition(&mut change, &entry)?;
    }
    change.audit(&contact_audit(
        caller,
        &updated.id,
        action,
        Some(&current.record),
        Some(updated),
        updated.updated_at,
    ))?;
    finish(state, change, write, if_match).await?;
    Ok(current.version + 1)
}

/// Actions that write their own transition entry.
fn change_has_transition(action: &str) -> bool {
    matches!(action, "lifecycle_change" | "qualify" | "convert")
}

/// Commits a contact write: a failed email or visitor claim is 409 on its field, a failed version
/// 412/409.
pub async fn finish(
    state: &AdminState,
    change: Change,
    write: ContactWrite,
    if_match: IfMatch,
) -> Result<(), ApiError> {
    match commit(&*state.table, change).await {
        Ok(()) => Ok(()),
        Err(error)
            if write
                .email_claim
                .is_some_and(|index| error.failed_at(index)) =>
        {
            Err(ApiError::field_conflict(
                "email",
                "another contact has this email",
            ))
        }
        Err(error)
            if write
                .visitor_claims
                .iter()
                .any(|&index| error.failed_at(index)) =>
        {
            Err(ApiError::field_conflict(
                "linked_visitors",
                "a visitor was linked or unlinked by another request meanwhile; retry",
            ))
        }
        Err(error) if error.failed_at(write.record) && if_match.given() => Err(
            ApiError::PreconditionFailed("the contact changed since it was read".to_owned()),
        ),
        Err(error @ CommitError::Conflict { .. }) => Err(error.into()),
        Err(error) => Err(error.into()),
    }
}

/// Problems from the domain as a 400 with details per field.
pub fn invalid(problems: crm_domain::contacts::Problems) -> ApiError {
    ApiError::fields(problems).unwrap_or_else(|| ApiError::validation("body", "is invalid"))
}
