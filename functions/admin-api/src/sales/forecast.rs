//! `GET /api/admin/crm/deals/forecast`: per currency, the five forecast figures of the deals
//! that close (or were won) in a period. A sales rep sees only their own deals' forecast.

use axum::extract::State;
use axum::response::Response;
use crm_domain::deals::{Date, ForecastQuery, Money, Period, forecast};
use crm_domain::records::{Access, Action, Resource};
use crm_store::repo::crm::deals::{AggregateError, DealRepo};
use crm_store::repo::crm::pipelines::PipelineRepo;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::support::invalid;
use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::routes::AdminState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastParams {
    pipeline_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    owner_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct Figures {
    currency: &'static str,
    won_count: u64,
    open_count: u64,
    worst_case: String,
    commit: String,
    best_case: String,
    pipeline: String,
    weighted: String,
}

#[utoipa::path(get, path = "/crm/deals/forecast", tag = "deals",
    params(("from" = String, Query, description = "first day, YYYY-MM-DD"),
           ("to" = String, Query, description = "last day (inclusive), YYYY-MM-DD"),
           ("pipeline_id" = Option<String>, Query, description = "only this pipeline"),
           ("owner_id" = Option<String>, Query, description = "only this owner (a sales rep: always themselves)")),
    responses((status = 200, description = "figures per currency as exact decimal strings", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn deal_forecast(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ForecastParams>,
) -> Result<Response, ApiError> {
    let access = caller.require(Action::Read, Resource::Forecast)?;
    let owner_id = match (access, params.owner_id) {
        (Access::Own, Some(owner)) if owner != caller.subject => {
            return Err(ApiError::Forbidden(
                "a sales rep sees the forecast of their own deals only".to_owned(),
            ));
        }
        (Access::Own, _) => Some(caller.subject.clone()),
        (_, owner) => owner,
    };
    let period = period(params.from.as_deref(), params.to.as_deref())?;
    let pipelines: Vec<_> = PipelineRepo::new(state.table.clone())
        .list()
        .await?
        .into_iter()
        .map(|stored| stored.record.pipeline)
        .collect();
    if let Some(pipeline) = params
        .pipeline_id
        .as_deref()
        .filter(|id| !pipelines.iter().any(|pipeline| pipeline.id == *id))
    {
        return Err(ApiError::NotFound(format!("no pipeline {pipeline}")));
    }
    let deals = DealRepo::new(state.table.clone())
        .aggregate_source(params.pipeline_id.as_deref(), owner_id.as_deref())
        .await
        .map_err(aggregate_error)?;
    let query = ForecastQuery {
        period,
        pipeline_id: params.pipeline_id.as_deref(),
        owner_id: owner_id.as_deref(),
    };
    let result = forecast(&deals, &pipelines, &query).map_err(|error| ApiError::Unprocessable {
        message: error.to_string(),
        details: serde_json::Value::Null,
    })?;
    let decimal = |money: Money| money.to_decimal();
    let currencies: Vec<Figures> = result
        .into_iter()
        .map(|f| Figures {
            currency: f.currency.code(),
            won_count: f.won_count,
            open_count: f.open_count,
            worst_case: decimal(f.worst_case),
            commit: decimal(f.commit),
            best_case: decimal(f.best_case),
            pipeline: decimal(f.pipeline),
            weighted: decimal(f.weighted),
        })
        .collect();
    Ok(envelope::ok(json!({
        "from": period.from,
        "to": period.to,
        "pipeline_id": params.pipeline_id,
        "owner_id": owner_id,
        "currencies": currencies,
    })))
}

fn period(from: Option<&str>, to: Option<&str>) -> Result<Period, ApiError> {
    let day = |name: &str, raw: Option<&str>| {
        let raw = raw.ok_or_else(|| ApiError::validation(name, "is required (YYYY-MM-DD)"))?;
        Date::parse(raw).map_err(|error| ApiError::validation(name, error.to_string()))
    };
    Period::new(day("from", from)?, day("to", to)?).map_err(invalid)
}

pub(super) fn aggregate_error(error: AggregateError) -> ApiError {
    match error {
        AggregateError::TooMany => ApiError::Unprocessable {
            message: error.to_string(),
            details: serde_json::Value::Null,
        },
        AggregateError::Table(error) => error.into(),
    }
}
