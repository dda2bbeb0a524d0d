//! `/api/admin/crm/segments`: static segments (members added by hand) and dynamic ones (rules
//! over contact fields and scores). Rule errors are 422 with the offending path.

use axum::extract::State;
use axum::response::Response;
use crm_domain::records::{Action, Resource};
use crm_domain::segments::{SegmentInput, SegmentPatch};
use crm_store::repo::crm::segments::{SegmentRecord, SegmentRepo, StoredSegment, segment_item};
use crm_store::repo::crm::{Change, Expect};
use crm_store::table::Cursor;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::support::{audit_entry, unprocessable};
use super::views::SegmentView;
use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, page_size};
use crate::routes::AdminState;
use crate::write::commit_record;

/// A segment to create.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct NewSegment {
    name: String,
    description: Option<String>,
    /// `static` or `dynamic`.
    kind: String,
    /// Dynamic only: `{"all": [{"field": "lead_score", "op": "gte", "value": 70}, {"any": […]}]}`.
    #[schema(value_type = Option<Object>)]
    rules: Option<serde_json::Value>,
}

/// Fields to change; the kind never changes.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SegmentChanges {
    name: Option<String>,
    description: Option<String>,
    #[schema(value_type = Option<Object>)]
    rules: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub(super) limit: Option<usize>,
    pub(super) cursor: Option<String>,
}

#[utoipa::path(get, path = "/crm/segments", tag = "segments",
    params(("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "segments, oldest first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_segments(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Segment)?;
    let limit = page_size(params.limit)?;
    let (segments, next) = SegmentRepo::new(state.table.clone())
        .list(limit, params.cursor.map(Cursor))
        .await?;
    let views: Vec<SegmentView> = segments.iter().map(SegmentView::from).collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

#[utoipa::path(post, path = "/crm/segments", tag = "segments", request_body = NewSegment,
    responses((status = 201, description = "the segment, with its ETag", body = crate::openapi::Envelope),
              (status = 422, description = "invalid rules; details name each offending path", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn create_segment(
    State(state): State<AdminState>,
    caller: Caller,
    ApiJson(input): ApiJson<SegmentInput>,
) -> Result<Response, ApiError> {
    caller.require(Action::Create, Resource::Segment)?;
    let segment = input.validate(new_id()).map_err(unprocessable)?;
    let now = state.clock.now();
    let record = SegmentRecord {
        segment,
        created_at: now,
        updated_at: now,
    };
    let mut change = Change::new();
    let index = change.put(segment_item(&record, 1)?, Expect::Absent);
    change.audit(&audit_entry(
        &caller,
        "segment",
        &record.segment.id,
        "create",
        None,
        Some(&record.segment),
        now,
    ))?;
    commit_record(&*state.table, change, index, IfMatch(None)).await?;
    let stored = StoredSegment { record, version: 1 };
    Ok(envelope::created(SegmentView::from(&stored), 1))
}

#[utoipa::path(get, path = "/crm/segments/{id}", tag = "segments",
    params(("id" = String, Path, description = "segment id")),
    responses((status = 200, description = "the segment; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn get_segment(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Segment)?;
    let stored = load(&state, &id).await?;
    Ok(envelope::versioned(
        SegmentView::from(&stored),
        stored.version,
    ))
}

#[utoipa::path(patch, path = "/crm/segments/{id}", tag = "segments", request_body = SegmentChanges,
    params(("id" = String, Path, description = "segment id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the segment; ETag header", body = crate::openapi::Envelope),
              (status = 412, description = "If-Match is stale", body = crate::openapi::ErrorEnvelope),
              (status = 422, description = "invalid rules", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn update_segment(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<SegmentPatch>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Segment)?;
    let current = load(&state, &id).await?;
    if_match.check(current.version)?;
    let mut segment = current.record.segment.clone();
    segment.apply(patch).map_err(unprocessable)?;
    let now = state.clock.now();
    let record = SegmentRecord {
        segment,
        created_at: current.record.created_at,
        updated_at: now,
    };
    let mut change = Change::new();
    let index = change.put(
        segment_item(&record, current.version + 1)?,
        Expect::Version(current.version),
    );
    change.audit(&audit_entry(
        &caller,
        "segment",
        &id,
        "update",
        Some(&current.record.segment),
        Some(&record.segment),
        now,
    ))?;
    commit_record(&*state.table, change, index, if_match).await?;
    let stored = StoredSegment {
        record,
        version: current.version + 1,
    };
    Ok(envelope::versioned(
        SegmentView::from(&stored),
        stored.version,
    ))
}

#[utoipa::path(delete, path = "/crm/segments/{id}", tag = "segments",
    params(("id" = String, Path, description = "segment id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "deleted, with its memberships", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn delete_segment(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    caller.require(Action::Delete, Resource::Segment)?;
    let current = load(&state, &id).await?;
    if_match.check(current.version)?;
    let now = state.clock.now();
    let mut change = Change::new();
    let index = change.delete(
        crm_store::repo::crm::sales_keys::segment(&id),
        Expect::Version(current.version),
    );
    change.audit(&audit_entry(
        &caller,
        "segment",
        &id,
        "delete",
        Some(&current.record.segment),
        None,
        now,
    ))?;
    commit_record(&*state.table, change, index, if_match).await?;
    SegmentRepo::new(state.table.clone())
        .delete_members(&id)
        .await?;
    Ok(envelope::ok(json!({ "id": id, "deleted": true })))
}

pub(super) async fn load(state: &AdminState, id: &str) -> Result<StoredSegment, ApiError> {
    SegmentRepo::new(state.table.clone())
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no segment {id}")))
}
