//! The site dashboard: totals over a window of days, score averages, top pages.

use axum::extract::State;
use axum::response::Response;
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use serde::Deserialize;
use serde_json::json;

use super::known_site;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::routes::AdminState;
use crate::views::rfc3339;

const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 366;
const TOP_PAGES: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardParams {
    site: Option<String>,
    days: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/behavior/dashboard",
    tag = "behavior",
    params(
        ("site" = String, Query, description = "site id"),
        ("days" = Option<i64>, Query, description = "1..=366, default 30")
    ),
    responses(
        (status = 200, description = "totals, averages, top pages", body = crate::openapi::Envelope),
        (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)
    )
)]
pub async fn dashboard(
    State(state): State<AdminState>,
    ApiQuery(params): ApiQuery<DashboardParams>,
) -> Result<Response, ApiError> {
    let site = known_site(&state, params.site.as_deref()).await?;
    let days = params.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::validation(
            "days",
            format!("must be between 1 and {MAX_DAYS}"),
        ));
    }
    let now = state.clock.now();
    let to_day = now.day();
    let from_day = to_day - days + 1;
    let totals = state.behavior.totals(&site, from_day, to_day).await?;
    let averages = state.behavior.score_averages(&site).await?;
    let top_pages = state.behavior.top_pages(&site, TOP_PAGES).await?;
    let friction = state.behavior.ranked_friction_points(&site).await?;
    let intent = state.behavior.ranked_intent_signals(&site).await?;
    Ok(envelope::ok(json!({
        "site": site,
        "period": {
            "days": days,
            "from": rfc3339(Millis(from_day * MILLIS_PER_DAY)),
            "to": rfc3339(now),
        },
        "totals": totals,
        "score_averages": averages,
        "top_pages": top_pages,
        "friction_points": {
            "total": friction.len(),
            "open": friction.iter().filter(|point| !point.resolved).count(),
            "occurrences": friction.iter().map(|point| point.count).sum::<i64>(),
        },
        "intent_signals": {
            "total": intent.len(),
            "occurrences": intent.iter().map(|signal| signal.count).sum::<i64>(),
        },
    })))
}
