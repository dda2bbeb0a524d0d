//! Visitors and sessions.

use axum::extract::{Path, State};
use axum::response::Response;
use crm_store::table::Cursor;
use serde_json::json;

use super::known_site;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiQuery, PageParams, SiteParams, page_size};
use crate::routes::AdminState;
use crate::views::{SessionView, VisitorView};

/// How many sessions a visitor's detail shows.
const SESSIONS_IN_DETAIL: usize = 100;

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

pub async fn get_visitor(
    State(state): State<AdminState>,
    Path(id): Path<String>,
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

pub async fn get_session(
    State(state): State<AdminState>,
    Path(id): Path<String>,
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
