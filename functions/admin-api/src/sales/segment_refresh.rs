//! `POST …/segments/{id}/refresh`: recomputes a dynamic segment's members from its rules, in
//! bounded steps. Each request reads at most [`MAX_CONTACTS_PER_REFRESH`] contacts (creation
//! order), adds those that match and removes those that no longer do; `meta.complete` says
//! whether every contact has been seen, `meta.next_cursor` where the next request resumes.
//! The last step stamps the segment's `refreshed_at`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use crm_domain::records::{Action, Resource};
use crm_domain::segments::SegmentKind;
use crm_store::repo::crm::segments::{
    MAX_CONTACTS_PER_REFRESH, SegmentRecord, SegmentRepo, StoredSegment, segment_item,
};
use crm_store::repo::crm::{Change, Expect, commit};
use crm_store::table::Cursor;
use serde::Deserialize;
use serde_json::{Value, json};

use super::segments::load;
use super::support::audit_entry;
use super::views::SegmentView;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, IfMatch};
use crate::routes::AdminState;
use crate::write::commit_record;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshParams {
    cursor: Option<String>,
}

#[utoipa::path(post, path = "/crm/segments/{id}/refresh", tag = "segments",
    params(("id" = String, Path, description = "a dynamic segment's id"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous step; none to start")),
    responses((status = 200, description = "one step: counts in data; meta.complete, and meta.next_cursor until complete", body = crate::openapi::Envelope),
              (status = 409, description = "the segment is static, or changed since the refresh began", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn refresh_segment(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<RefreshParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Segment)?;
    let current = load(&state, &id).await?;
    let Some(rules) = current.record.segment.rules.clone() else {
        return Err(ApiError::conflict(
            "a static segment's members are added by hand; only dynamic segments refresh",
        ));
    };
    debug_assert_eq!(current.record.segment.kind, SegmentKind::Dynamic);
    let resume = match params.cursor {
        Some(cursor) => Some(resume_at(&cursor, current.version)?),
        None => None,
    };
    let now = state.clock.now();
    let step = SegmentRepo::new(state.table.clone())
        .refresh_step(&id, &rules, resume, MAX_CONTACTS_PER_REFRESH, now)
        .await?;

    let complete = step.next.is_none();
    let summary = json!({
        "examined": step.examined,
        "matched": step.matched,
        "added": step.added.len(),
        "removed": step.removed.len(),
        "complete": complete,
    });
    let segment = if complete {
        stamp_refreshed(&state, &caller, &current, &summary).await?
    } else {
        let mut change = Change::new();
        change.audit(&audit_entry(
            &caller,
            "segment",
            &id,
            "refresh",
            None,
            Some(&summary),
            now,
        ))?;
        commit(&*state.table, change).await?;
        SegmentView::from(&current)
    };
    let next_cursor = step
        .next
        .map(|cursor| format!("{}.{}", current.version, cursor.0));
    Ok(Json(json!({
        "success": true,
        "data": { "segment": segment, "step": summary },
        "meta": { "complete": complete, "next_cursor": next_cursor },
    }))
    .into_response())
}

/// A refresh cursor is `{segment version}.{contact cursor}`: a refresh resumes only over the
/// rules it began with.
fn resume_at(cursor: &str, version: i64) -> Result<Cursor, ApiError> {
    let (started_at, contacts) = cursor
        .split_once('.')
        .and_then(|(started, rest)| Some((started.parse::<i64>().ok()?, rest)))
        .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API returned"))?;
    if started_at != version {
        return Err(ApiError::conflict(
            "the segment changed since this refresh began: start again without a cursor",
        ));
    }
    Ok(Cursor(contacts.to_owned()))
}

/// The last step: `refreshed_at` on the segment, versioned and audited like any update.
async fn stamp_refreshed(
    state: &AdminState,
    caller: &Caller,
    current: &StoredSegment,
    summary: &Value,
) -> Result<SegmentView, ApiError> {
    let now = state.clock.now();
    let mut segment = current.record.segment.clone();
    segment.refreshed_at = Some(now);
    let record = SegmentRecord {
        segment,
        created_at: current.record.created_at,
        updated_at: now,
    };
    let version = current.version + 1;
    let mut change = Change::new();
    let index = change.put(
        segment_item(&record, version)?,
        Expect::Version(current.version),
    );
    change.audit(&audit_entry(
        caller,
        "segment",
        &record.segment.id,
        "refresh",
        Some(&json!({ "refreshed_at": current.record.segment.refreshed_at })),
        Some(&json!({ "refreshed_at": now, "step": summary })),
        now,
    ))?;
    commit_record(&*state.table, change, index, IfMatch(None)).await?;
    Ok(SegmentView::from(&StoredSegment { record, version }))
}
