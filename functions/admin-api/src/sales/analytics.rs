//! `GET /api/admin/crm/analytics/pipeline`: per stage value and count, stage-to-stage
//! conversion, win rate, average deal size and cycle length of one pipeline's deals.

use axum::extract::State;
use axum::response::Response;
use crm_domain::deals::{Money, pipeline_analytics};
use crm_domain::records::{Action, Resource};
use crm_store::repo::crm::deals::DealRepo;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::forecast::aggregate_error;
use super::pipelines::load as load_pipeline;
use super::support::default_pipeline;
use super::views::MoneyView;
use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::routes::AdminState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsParams {
    pipeline_id: Option<String>,
}

#[derive(Debug, Serialize)]
struct StageFigures {
    stage_id: String,
    name: String,
    closed_won: bool,
    closed_lost: bool,
    count: u64,
    value: Vec<MoneyView>,
    reached: Option<u64>,
    conversion_to_next: Option<f64>,
}

#[utoipa::path(get, path = "/crm/analytics/pipeline", tag = "analytics",
    params(("pipeline_id" = Option<String>, Query, description = "the default pipeline when left out")),
    responses((status = 200, description = "the pipeline's figures", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn pipeline_analytics_report(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<AnalyticsParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Analytics)?;
    let pipeline = match params.pipeline_id.as_deref() {
        Some(id) => load_pipeline(&state, id).await?,
        None => default_pipeline(&state).await?,
    };
    let pipeline = pipeline.record.pipeline;
    let deals = DealRepo::new(state.table.clone())
        .aggregate_source(Some(&pipeline.id), None)
        .await
        .map_err(aggregate_error)?;
    let report = pipeline_analytics(&pipeline, &deals);
    let money = |amounts: Vec<Money>| amounts.into_iter().map(MoneyView::from).collect::<Vec<_>>();
    let stages: Vec<StageFigures> = report
        .stages
        .into_iter()
        .map(|stage| StageFigures {
            stage_id: stage.stage_id,
            name: stage.name,
            closed_won: stage.closed_won,
            closed_lost: stage.closed_lost,
            count: stage.count,
            value: money(stage.value),
            reached: stage.reached,
            conversion_to_next: stage.conversion_to_next,
        })
        .collect();
    Ok(envelope::ok(json!({
        "pipeline_id": report.pipeline_id,
        "deal_count": report.deal_count,
        "open_count": report.open_count,
        "won_count": report.won_count,
        "lost_count": report.lost_count,
        "win_rate": report.win_rate,
        "average_deal_size": money(report.average_deal_size),
        "average_cycle_days": report.average_cycle_days,
        "stages": stages,
    })))
}
