//! Friction points and intent signals, most frequent first.

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::records::{Action, Resource};
use crm_store::repo::behavior::FrictionPoint;
use serde::Serialize;

use super::known_site;
use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, PageParams, SiteParams, page_size};
use crate::routes::AdminState;
use crate::views::rfc3339;

#[derive(Serialize)]
struct FrictionPointView {
    id: String,
    page: String,
    element: String,
    kind: crm_domain::scoring::FrictionKind,
    count: i64,
    last_seen: String,
    resolved: bool,
    resolved_at: Option<String>,
}

impl From<FrictionPoint> for FrictionPointView {
    fn from(point: FrictionPoint) -> FrictionPointView {
        FrictionPointView {
            id: point.id,
            page: point.page,
            element: point.element,
            kind: point.kind,
            count: point.count,
            last_seen: rfc3339(point.last_seen),
            resolved: point.resolved,
            resolved_at: point.resolved_at.map(rfc3339),
        }
    }
}

#[derive(Serialize)]
struct IntentSignalView {
    id: String,
    page: String,
    kind: crm_domain::scoring::IntentKind,
    detail: String,
    count: i64,
    last_seen: String,
}

#[utoipa::path(
    get,
    path = "/behavior/friction-points",
    tag = "behavior",
    params(
        ("site" = String, Query, description = "site id"),
        ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
        ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")
    ),
    responses(
        (status = 200, description = "friction points, most frequent first", body = crate::openapi::Envelope),
        (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)
    )
)]
pub async fn list_friction_points(
    State(state): State<AdminState>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    let site = known_site(&state, params.site.as_deref()).await?;
    let points = state.behavior.ranked_friction_points(&site).await?;
    let views = points.into_iter().map(FrictionPointView::from);
    paginate(views.collect(), &params)
}

#[utoipa::path(
    get,
    path = "/behavior/intent-signals",
    tag = "behavior",
    params(
        ("site" = String, Query, description = "site id"),
        ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
        ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")
    ),
    responses(
        (status = 200, description = "intent signals, most frequent first", body = crate::openapi::Envelope),
        (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)
    )
)]
pub async fn list_intent_signals(
    State(state): State<AdminState>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Response, ApiError> {
    let site = known_site(&state, params.site.as_deref()).await?;
    let signals = state.behavior.ranked_intent_signals(&site).await?;
    let views = signals.into_iter().map(|signal| IntentSignalView {
        id: signal.id,
        page: signal.page,
        kind: signal.kind,
        detail: signal.detail,
        count: signal.count,
        last_seen: rfc3339(signal.last_seen),
    });
    paginate(views.collect(), &params)
}

#[utoipa::path(
    patch,
    path = "/behavior/friction-points/{id}/resolve",
    tag = "behavior",
    params(
        ("id" = String, Path, description = "id"),
        ("site" = String, Query, description = "site id")
    ),
    responses(
        (status = 200, description = "the resolved friction point", body = crate::openapi::Envelope),
        (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)
    )
)]
pub async fn resolve_friction_point(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<SiteParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Behavior)?;
    let site = known_site(&state, params.site.as_deref()).await?;
    let point = state
        .behavior
        .resolve_friction_point(&site, &id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no friction point {id} on site {site}")))?;
    Ok(envelope::ok(FrictionPointView::from(point)))
}

/// Pages through an already ranked list; the cursor is an opaque position in it.
fn paginate<T: Serialize>(mut items: Vec<T>, params: &PageParams) -> Result<Response, ApiError> {
    let limit = page_size(params.limit)?;
    let start = match &params.cursor {
        None => 0,
        Some(cursor) => decode_offset(cursor)
            .ok_or_else(|| ApiError::validation("cursor", "is not a cursor this API returned"))?,
    };
    let end = start.saturating_add(limit).min(items.len());
    let next = (end < items.len()).then(|| encode_offset(end));
    let page: Vec<T> = if start < items.len() {
        items.drain(start..end).collect()
    } else {
        Vec::new()
    };
    Ok(envelope::page(page, next))
}

fn encode_offset(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_offset(cursor: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}
