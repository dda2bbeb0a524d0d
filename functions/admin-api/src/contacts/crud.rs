//! Contacts: list (filters and sorts), create, read, replace, patch, delete.

use axum::extract::State;
use axum::response::Response;
use crm_domain::contacts::{Contact, ContactPatch, LifecycleStage, apply_patch, new_contact};
use crm_domain::records::{Action, Resource, is_record_id};
use crm_store::repo::crm::keys::{INTERACTION_SK_PREFIX, TIMELINE_SK_PREFIX};
use crm_store::repo::crm::scores::ContactScores;
use crm_store::repo::crm::segments::SegmentRepo;
use crm_store::repo::crm::visitor_claims::VisitorClaims;
use crm_store::repo::crm::{Change, ContactSort, delete_all};
use crm_store::table::Cursor;
use serde::Deserialize;
use serde_json::json;

use super::{
    MAX_EXAMINED, MAX_PERSON_ITEMS, contact_audit, contact_view, finish, invalid, list_view,
    load_contact, put_transition, save_update, transition_entry,
};
use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, page_size};
use crate::routes::AdminState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    q: Option<String>,
    lifecycle_stage: Option<String>,
    owner_id: Option<String>,
    segment_id: Option<String>,
    tag: Option<String>,
    min_lead_score: Option<u8>,
    sort: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/crm/contacts", tag = "contacts",
    params(("q" = Option<String>, Query, description = "text in name, email or company"),
           ("lifecycle_stage" = Option<String>, Query, description = "lead, prospect, customer, retention, advocacy, lost, churned"),
           ("owner_id" = Option<String>, Query, description = "owner's token subject"),
           ("segment_id" = Option<String>, Query, description = "members of this segment, in membership order"),
           ("tag" = Option<String>, Query, description = "has this tag"),
           ("min_lead_score" = Option<u8>, Query, description = "0..=100"),
           ("sort" = Option<String>, Query, description = "-updated_at (default), -lead_score, created_at"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "a page of contacts", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_contacts(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Contact)?;
    let limit = page_size(params.limit)?;
    let sort = match params.sort.as_deref() {
        None | Some("-updated_at") => ContactSort::UpdatedDesc,
        Some("-lead_score") => ContactSort::LeadScoreDesc,
        Some("created_at") => ContactSort::CreatedAsc,
        Some(_) => {
            return Err(ApiError::validation(
                "sort",
                "must be -updated_at, -lead_score or created_at",
            ));
        }
    };
    let stage = match params.lifecycle_stage.as_deref() {
        None => None,
        Some(raw) => Some(
            LifecycleStage::parse(raw)
                .ok_or_else(|| ApiError::validation("lifecycle_stage", "is not a stage"))?,
        ),
    };
    if params.min_lead_score.is_some_and(|score| score > 100) {
        return Err(ApiError::validation("min_lead_score", "must be 0 to 100"));
    }
    let q = params
        .q
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    let keep = |contact: &Contact| {
        stage.is_none_or(|stage| contact.lifecycle_stage == stage)
            && params
                .owner_id
                .as_deref()
                .is_none_or(|owner| contact.owner_id.as_deref() == Some(owner))
            && params
                .tag
                .as_deref()
                .is_none_or(|tag| contact.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
            && q.as_deref().is_none_or(|q| matches_text(contact, q))
    };
    let cursor = params.cursor.map(Cursor);
    let (contacts, next) = match &params.segment_id {
        // A segment's members page in membership (contact id) order; `sort` does not apply.
        Some(segment) => {
            let (contacts, next) = segment_member_page(&state, segment, limit, cursor).await?;
            let min = params.min_lead_score.unwrap_or(0);
            let kept = contacts
                .into_iter()
                .filter(|contact| contact.lead_score >= min && keep(contact))
                .collect();
            (kept, next)
        }
        None => {
            state
                .contacts
                .list(
                    sort,
                    params.min_lead_score,
                    limit,
                    cursor,
                    MAX_EXAMINED,
                    keep,
                )
                .await?
        }
    };
    let views = contacts.iter().map(list_view).collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

/// A page of a segment's members, in membership (contact id) order; 404 for an unknown segment.
pub async fn segment_member_page(
    state: &AdminState,
    segment: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Contact>, Option<Cursor>), ApiError> {
    let members = SegmentRepo::new(state.table.clone());
    if !is_record_id(segment) || members.get(segment).await?.is_none() {
        return Err(ApiError::NotFound(format!("no segment {segment}")));
    }
    let (ids, next) = members.member_page(segment, limit, cursor).await?;
    Ok((state.contacts.get_many(&ids).await?, next))
}

fn matches_text(contact: &Contact, q: &str) -> bool {
    [
        Some(contact.email.as_str().to_owned()),
        Some(contact.full_name()),
        contact.company.clone(),
    ]
    .into_iter()
    .flatten()
    .any(|text| text.to_lowercase().contains(q))
}

#[utoipa::path(post, path = "/crm/contacts", tag = "contacts",
    request_body(content = super::schema::ContactBody, description = "contact fields; email required"),
    responses((status = 201, description = "the contact; ETag header", body = crate::openapi::Envelope),
              (status = 409, description = "the email is taken", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn create_contact(
    State(state): State<AdminState>,
    caller: Caller,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Response, ApiError> {
    caller.require(Action::Create, Resource::Contact)?;
    let contact = create(&state, &caller, patch).await?;
    Ok(envelope::created(contact_view(&contact, 1), 1))
}

/// Creates a contact from a patch (also the CSV import's insert).
pub async fn create(
    state: &AdminState,
    caller: &Caller,
    patch: ContactPatch,
) -> Result<Contact, ApiError> {
    let now = state.clock.now();
    // The creator owns what it creates unless the body names another owner.
    let contact =
        new_contact(new_id(), patch, Some(caller.subject.clone()), now).map_err(invalid)?;
    let mut change = Change::new();
    let mut write = state.contacts.add_create(&mut change, &contact)?;
    write.visitor_claims = VisitorClaims::new(state.table.clone())
        .add_changes(&mut change, None, &contact)
        .await?;
    SegmentRepo::new(state.table.clone())
        .add_membership_updates(&mut change, None, &contact, now)
        .await?;
    let entry = transition_entry(
        &contact.id,
        None,
        contact.lifecycle_stage,
        "created",
        &caller.subject,
        now,
    );
    put_transition(&mut change, &entry)?;
    change.audit(&contact_audit(
        caller,
        &contact.id,
        "create",
        None,
        Some(&contact),
        now,
    ))?;
    finish(state, change, write, IfMatch(None)).await?;
    Ok(contact)
}

#[utoipa::path(get, path = "/crm/contacts/{id}", tag = "contacts",
    params(("id" = String, Path, description = "contact id")),
    responses((status = 200, description = "the contact; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn get_contact(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Contact)?;
    let current = load_contact(&state, &id).await?;
    let mut view = contact_view(&current.record, current.version);
    // The stored score is the last materialized one; a read is exact as of now (decayed).
    if let Some(lead) = ContactScores::new(state.table.clone())
        .lead_score_at(&id, state.clock.now())
        .await?
    {
        view["lead_score"] = json!(lead.whole());
    }
    Ok(envelope::versioned(view, current.version))
}

#[utoipa::path(put, path = "/crm/contacts/{id}", tag = "contacts",
    request_body(content = super::schema::ContactBody, description = "every field; left out = cleared; email required"),
    params(("id" = String, Path, description = "contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the contact; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn replace_contact(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Response, ApiError> {
    if patch.email.is_none() {
        return Err(ApiError::validation("email", "is required"));
    }
    update(&state, &caller, &id, if_match, patch.replacing()).await
}

#[utoipa::path(patch, path = "/crm/contacts/{id}", tag = "contacts",
    request_body(content = super::schema::ContactPatchBody, description = "fields to change; null clears"),
    params(("id" = String, Path, description = "contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the contact; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn patch_contact(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Response, ApiError> {
    update(&state, &caller, &id, if_match, patch).await
}

/// Applies a patch to a stored contact (also the CSV import's update).
pub async fn update(
    state: &AdminState,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
    patch: ContactPatch,
) -> Result<Response, ApiError> {
    let current = load_contact(state, id).await?;
    let action = if patch.only_health() {
        Action::UpdateHealth
    } else {
        Action::Update
    };
    caller.require_on(
        action,
        Resource::Contact,
        current.record.owner_id.as_deref(),
    )?;
    if_match.check(current.version)?;
    let mut updated = current.record.clone();
    apply_patch(&mut updated, patch).map_err(invalid)?;
    updated.updated_at = state.clock.now();
    let version = save_update(
        state,
        caller,
        &current,
        &updated,
        "update",
        Change::new(),
        if_match,
    )
    .await?;
    Ok(envelope::versioned(
        contact_view(&updated, version),
        version,
    ))
}

#[utoipa::path(delete, path = "/crm/contacts/{id}", tag = "contacts",
    params(("id" = String, Path, description = "contact id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "deleted", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn delete_contact(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    caller.require(Action::Delete, Resource::Contact)?;
    let current = load_contact(&state, &id).await?;
    if_match.check(current.version)?;
    let now = state.clock.now();
    let mut change = Change::new();
    let record = state.contacts.add_delete(&mut change, &current);
    change.audit(&contact_audit(
        &caller,
        &id,
        "delete",
        Some(&current.record),
        None,
        now,
    ))?;
    let write = crm_store::repo::crm::ContactWrite {
        record,
        ..Default::default()
    };
    finish(&state, change, write, if_match).await?;
    // Interactions and timeline go with the contact; links to audit entries stay, so the
    // entries can still be redacted by an erase (delete is not erase: see docs/crm-api.md).
    let leftovers = state.contacts.partition(&id, MAX_PERSON_ITEMS).await?;
    let keys = leftovers
        .into_iter()
        .map(|item| item.key)
        .filter(|key| {
            key.sk.starts_with(INTERACTION_SK_PREFIX) || key.sk.starts_with(TIMELINE_SK_PREFIX)
        })
        .collect();
    delete_all(&*state.table, keys).await?;
    Ok(envelope::ok(json!({ "id": id, "deleted": true })))
}
