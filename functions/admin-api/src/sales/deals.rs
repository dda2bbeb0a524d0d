//! Reading deals: `GET /api/admin/crm/deals` (filters, cursor pages) and
//! `GET /api/admin/crm/deals/{id}` (with its stage history).

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use crm_domain::deals::{DealStatus, Pipeline};
use crm_domain::records::{Action, Resource, is_record_id};
use crm_store::repo::crm::deals::{DealFilter, DealRepo, StoredDeal};
use crm_store::repo::crm::pipelines::PipelineRepo;
use crm_store::table::Cursor;
use serde::Deserialize;

use super::views::DealView;
use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, page_size};
use crate::routes::AdminState;

/// A deal's stage history is returned up to this many entries.
pub const HISTORY_LIMIT: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealListParams {
    pipeline_id: Option<String>,
    stage_id: Option<String>,
    owner_id: Option<String>,
    status: Option<String>,
    contact_id: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/crm/deals", tag = "deals",
    params(("pipeline_id" = Option<String>, Query, description = "only this pipeline's deals"),
           ("stage_id" = Option<String>, Query, description = "only deals in this stage"),
           ("owner_id" = Option<String>, Query, description = "only this owner's deals"),
           ("status" = Option<String>, Query, description = "open, won or lost"),
           ("contact_id" = Option<String>, Query, description = "only this contact's deals"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "deals in creation order", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_deals(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<DealListParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Deal)?;
    let limit = page_size(params.limit)?;
    let status = match params.status.as_deref() {
        None => None,
        Some(raw) => Some(
            DealStatus::parse(raw)
                .ok_or_else(|| ApiError::validation("status", "must be open, won or lost"))?,
        ),
    };
    let pipelines = pipelines_by_id(&state).await?;
    if let Some(pipeline) = params
        .pipeline_id
        .as_deref()
        .filter(|id| !pipelines.contains_key(*id))
    {
        return Err(ApiError::NotFound(format!("no pipeline {pipeline}")));
    }
    // Deals of a deleted contact stay listable by its id; one no contact can have is not.
    if let Some(contact) = params.contact_id.as_deref().filter(|id| !is_record_id(id)) {
        return Err(ApiError::NotFound(format!("no contact {contact}")));
    }
    let filter = DealFilter {
        pipeline_id: params.pipeline_id,
        stage_id: params.stage_id,
        owner_id: params.owner_id,
        status,
        contact_id: params.contact_id,
    };
    let (deals, next) = DealRepo::new(state.table.clone())
        .list(&filter, limit, params.cursor.map(Cursor))
        .await?;
    let now = state.clock.now();
    let views: Vec<DealView> = deals
        .iter()
        .map(|deal| DealView::new(deal, pipelines.get(&deal.record.deal.pipeline_id), now))
        .collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

#[utoipa::path(get, path = "/crm/deals/{id}", tag = "deals",
    params(("id" = String, Path, description = "deal id")),
    responses((status = 200, description = "the deal with its stage history; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn get_deal(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Deal)?;
    let stored = load(&state, &id).await?;
    let pipeline = PipelineRepo::new(state.table.clone())
        .get(&stored.record.deal.pipeline_id)
        .await?;
    view_with_history(
        &state,
        &stored,
        pipeline.map(|p| p.record.pipeline).as_ref(),
    )
    .await
}

pub(super) async fn view_with_history(
    state: &AdminState,
    stored: &StoredDeal,
    pipeline: Option<&Pipeline>,
) -> Result<Response, ApiError> {
    let (events, _) = DealRepo::new(state.table.clone())
        .history(&stored.record.deal.id, HISTORY_LIMIT, None)
        .await?;
    let view = DealView::new(stored, pipeline, state.clock.now()).with_history(&events);
    Ok(envelope::versioned(view, stored.version))
}

pub(super) async fn load(state: &AdminState, id: &str) -> Result<StoredDeal, ApiError> {
    DealRepo::new(state.table.clone())
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no deal {id}")))
}

pub(super) async fn pipelines_by_id(
    state: &AdminState,
) -> Result<HashMap<String, Pipeline>, ApiError> {
    Ok(PipelineRepo::new(state.table.clone())
        .list()
        .await?
        .into_iter()
        .map(|stored| (stored.record.pipeline.id.clone(), stored.record.pipeline))
        .collect())
}
