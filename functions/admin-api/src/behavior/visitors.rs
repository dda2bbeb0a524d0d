//! Visitors and sessions.

use axum::extract::State;
use axum::response::Response;
use crm_store::table::Cursor;
use serde_json::json;

use super::known_site;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, PageParams, SiteParams, page_size};
use crate::routes::AdminState;
use crate::views::{SessionView, VisitorView};

/// How many sessions a visitor's detail shows.
const SESSIONS_IN_DETAIL: usize = 100;

#[utoipa::path(
    get,
    path = "/behavior/visitors",
    tag = "behavior",
    params(
        ("site" = String, Query, description = "site id"),
        ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
        ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")
    ),
    responses(
        (status = 200, description = "visitors, most recently active first", body = crate::openapi::Envelope),
        (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)
    )
)]
pub async fn list_visitors(
    State(state): State<AdminState>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    let site = known_site(&state, params.site.as_deref()).await?;
    let limit = page_size(params.limit)?;
    let (profiles, next) = state
        .behavior
        .list_visitors(&site, limit, params.cursor.map(Cursor))
        .await?;
    let now = state.clock.now();
    let views: Vec<VisitorView> = profiles
        .iter()
        .map(|profile| VisitorView::new(profile, now))
        .collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

#[utoipa::path(
    get,
    path = "/behavior/visitors/{id}",
    tag = "behavior",
    params(
        ("id" = String, Path, description = "id"),
        ("site" = String, Query, description = "site id")
    ),
    responses(
        (status = 200, description = "one visitor with its sessions", body = crate::openapi::Envelope),
        (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)
    )
)]
pub async fn get_visitor(
    State(state): State<AdminState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<SiteParams>,
) -> Result<Response, ApiError> {
    let site = known_site(&state, params.site.as_deref()).await?;
    let profile = state
        .behavior
        .get_profile(&site, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no visitor {id} on site {site}")))?;
    let sessions = state
        .behavior
        .list_sessions(&site, &id, SESSIONS_IN_DETAIL)
        .await?;
    let mut view = serde_json::to_value(VisitorView::new(&profile, state.clock.now()))
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    view["session_list"] = json!(sessions.iter().map(SessionView::new).collect::<Vec<_>>());
    Ok(envelope::ok(view))
}

#[utoipa::path(
    get,
    path = "/behavior/sessions/{id}",
    tag = "behavior",
    params(
        ("id" = String, Path, description = "id"),
        ("site" = String, Query, description = "site id")
    ),
    responses(
        (status = 200, description = "one session", body = crate::openapi::Envelope),
        (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)
    )
)]
pub async fn get_session(
    State(state): State<AdminState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<SiteParams>,
) -> Result<Response, ApiError> {
    let site = known_site(&state, params.site.as_deref()).await?;
    let session = state
        .behavior
        .get_session(&site, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no session {id} on site {site}")))?;
    Ok(envelope::ok(SessionView::new(&session)))
}
