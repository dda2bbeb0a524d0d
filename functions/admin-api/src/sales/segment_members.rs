//! Members of a segment: `GET …/segments/{id}/contacts` (any segment), and for static segments
//! `POST …/segments/{id}/contacts` (add) and `DELETE …/segments/{id}/contacts/{contact_id}`.

use axum::extract::State;
use axum::response::Response;
use crm_domain::records::{Action, Resource};
use crm_domain::segments::{SegmentKind, validate_member_ids};
use crm_store::repo::crm::segments::{SegmentRepo, add_member_items, remove_member_items};
use crm_store::repo::crm::{Change, commit};
use crm_store::table::Cursor;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::segments::{PageParams, load};
use super::support::{audit_entry, invalid};
use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, page_size};
use crate::routes::AdminState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIds {
    /// 1 to 20 contact ids.
    contact_ids: Vec<String>,
}

#[utoipa::path(get, path = "/crm/segments/{id}/contacts", tag = "segments",
    params(("id" = String, Path, description = "segment id"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "member contact ids, in id order", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_segment_contacts(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Segment)?;
    load(&state, &id).await?;
    let limit = page_size(params.limit)?;
    let (members, next) = SegmentRepo::new(state.table.clone())
        .member_page(&id, limit, params.cursor.map(Cursor))
        .await?;
    let views: Vec<Value> = members
        .into_iter()
        .map(|contact| json!({ "contact_id": contact }))
        .collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

#[utoipa::path(post, path = "/crm/segments/{id}/contacts", tag = "segments", request_body = MemberIds,
    params(("id" = String, Path, description = "a static segment's id")),
    responses((status = 200, description = "the contacts were added", body = crate::openapi::Envelope),
              (status = 409, description = "the segment is dynamic", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn add_segment_contacts(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MemberIds>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Segment)?;
    validate_member_ids(&body.contact_ids).map_err(invalid)?;
    require_static(&state, &id).await?;
    let now = state.clock.now();
    let mut change = Change::new();
    let mut checks = Vec::new();
    for contact in &body.contact_ids {
        checks.push(add_member_items(&mut change, &id, contact, now)?);
        let entry = audit_entry(
            &caller,
            "segment",
            &id,
            "add_member",
            None,
            Some(&json!({ "contact_id": contact })),
            now,
        );
        change.audit(&entry.about_person(contact))?;
    }
    if let Err(error) = commit(&*state.table, change).await {
        let missing: Vec<String> = checks
            .iter()
            .enumerate()
            .filter(|(_, check)| error.failed_at(**check))
            .map(|(index, _)| format!("contact_ids[{index}]"))
            .collect();
        if let Some(first) = missing.first() {
            return Err(ApiError::validation(
                first,
                "is not a contact of this store",
            ));
        }
        return Err(error.into());
    }
    Ok(envelope::ok(
        json!({ "segment_id": id, "added": body.contact_ids }),
    ))
}

#[utoipa::path(delete, path = "/crm/segments/{id}/contacts/{contact_id}", tag = "segments",
    params(("id" = String, Path, description = "a static segment's id"),
           ("contact_id" = String, Path, description = "the member to remove")),
    responses((status = 200, description = "removed (or was not a member)", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn remove_segment_contact(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath((id, contact)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Segment)?;
    require_static(&state, &id).await?;
    let now = state.clock.now();
    let mut change = Change::new();
    remove_member_items(&mut change, &id, &contact);
    let entry = audit_entry(
        &caller,
        "segment",
        &id,
        "remove_member",
        Some(&json!({ "contact_id": contact })),
        None,
        now,
    );
    change.audit(&entry.about_person(&contact))?;
    commit(&*state.table, change).await?;
    Ok(envelope::ok(
        json!({ "segment_id": id, "removed": contact }),
    ))
}

async fn require_static(state: &AdminState, id: &str) -> Result<(), ApiError> {
    let segment = load(state, id).await?;
    if segment.record.segment.kind != SegmentKind::Static {
        return Err(ApiError::conflict(
            "a dynamic segment's members come from its rules: refresh it instead",
        ));
    }
    Ok(())
}
