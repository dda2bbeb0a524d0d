//! `/api/admin/crm/pipelines`: pipelines and their stages. A new store gets the default
//! pipeline on first use; one pipeline is always the default; a pipeline (or a stage) that
//! holds deals cannot be removed (409).

use axum::extract::State;
use axum::response::Response;
use crm_domain::deals::{PipelineInput, StageInput};
use crm_domain::records::{Action, Resource, is_record_id};
use crm_store::repo::crm::pipelines::{
    self, PipelineRecord, PipelineRepo, PipelineWrite, StoredPipeline,
};
use crm_store::repo::crm::{Change, CommitError, commit};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::support::{audit_entry, invalid, pipelines_seeded};
use super::views::PipelineView;
use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, IfMatch};
use crate::routes::AdminState;

/// A pipeline to create or replace. Without `stages`, a new pipeline gets the default six and a
/// replaced one keeps its own.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PipelineBody {
    name: String,
    is_default: Option<bool>,
    /// In board order; name an existing stage by `id` to keep it (and its deals).
    #[schema(value_type = Option<Vec<Object>>)]
    stages: Option<Vec<serde_json::Value>>,
}

/// A stage to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStage {
    name: String,
    /// Win probability, 0–100. Required; an `Option` so that its absence is reported with the
    /// stage's other problems.
    #[schema(required = true, nullable = false)]
    probability: Option<i64>,
    #[serde(default)]
    closed_won: bool,
    #[serde(default)]
    closed_lost: bool,
    /// 0-based position; by default just before the closed stages.
    position: Option<usize>,
}

#[utoipa::path(get, path = "/crm/pipelines", tag = "pipelines",
    responses((status = 200, description = "every pipeline, oldest first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_pipelines(
    State(state): State<AdminState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Pipeline)?;
    let pipelines = pipelines_seeded(&state).await?;
    let views: Vec<PipelineView> = pipelines
        .iter()
        .map(|stored| PipelineView::new(stored, None))
        .collect();
    Ok(envelope::page(views, None))
}

#[utoipa::path(post, path = "/crm/pipelines", tag = "pipelines", request_body = PipelineBody,
    responses((status = 201, description = "the pipeline, with its ETag", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn create_pipeline(
    State(state): State<AdminState>,
    caller: Caller,
    ApiJson(input): ApiJson<PipelineInput>,
) -> Result<Response, ApiError> {
    caller.require(Action::Create, Resource::Pipeline)?;
    let existing = pipelines_seeded(&state).await?;
    let pipeline = input.validate(new_id(), None, new_id).map_err(invalid)?;
    let now = state.clock.now();
    let record = PipelineRecord {
        pipeline,
        created_at: now,
        updated_at: now,
    };
    let mut change = Change::new();
    let index = pipelines::create_items(&mut change, &record)?;
    change.audit(&audit_entry(
        &caller,
        "pipeline",
        &record.pipeline.id,
        "create",
        None,
        Some(&record.pipeline),
        now,
    ))?;
    if record.pipeline.is_default {
        demote_default(&mut change, &caller, &existing, &record.pipeline.id, now)?;
    }
    commit(&*state.table, change).await.map_err(|error| {
        if error.failed_at(index) {
            ApiError::conflict("a pipeline with that id exists")
        } else {
            error.into()
        }
    })?;
    let stored = StoredPipeline { record, version: 1 };
    Ok(envelope::created(PipelineView::new(&stored, None), 1))
}

#[utoipa::path(get, path = "/crm/pipelines/{id}", tag = "pipelines",
    params(("id" = String, Path, description = "pipeline id")),
    responses((status = 200, description = "the pipeline with deal counts per stage; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn get_pipeline(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Pipeline)?;
    let stored = load(&state, &id).await?;
    let counts = PipelineRepo::new(state.table.clone())
        .deal_counts(&id)
        .await?;
    Ok(envelope::versioned(
        PipelineView::new(&stored, Some(&counts)),
        stored.version,
    ))
}

#[utoipa::path(put, path = "/crm/pipelines/{id}", tag = "pipelines", request_body = PipelineBody,
    params(("id" = String, Path, description = "pipeline id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the pipeline; ETag header", body = crate::openapi::Envelope),
              (status = 409, description = "a removed stage still holds deals", body = crate::openapi::ErrorEnvelope),
              (status = 412, description = "If-Match is stale", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn replace_pipeline(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<PipelineInput>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Pipeline)?;
    let current = load(&state, &id).await?;
    if_match.check(current.version)?;
    let pipeline = input
        .validate(id.clone(), Some(&current.record.pipeline), new_id)
        .map_err(invalid)?;
    if current.record.pipeline.is_default && !pipeline.is_default {
        return Err(ApiError::validation(
            "is_default",
            "one pipeline is always the default: make another pipeline the default instead",
        ));
    }
    let existing = PipelineRepo::new(state.table.clone()).list().await?;
    save(&state, &caller, &current, pipeline, &existing, if_match).await
}

#[utoipa::path(post, path = "/crm/pipelines/{id}/stages", tag = "pipelines", request_body = NewStage,
    params(("id" = String, Path, description = "pipeline id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 201, description = "the pipeline with the new stage; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn add_stage(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<NewStage>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Pipeline)?;
    let current = load(&state, &id).await?;
    if_match.check(current.version)?;
    let stage = StageInput {
        id: None,
        name: input.name,
        probability: input.probability,
        closed_won: input.closed_won,
        closed_lost: input.closed_lost,
    };
    let pipeline = current
        .record
        .pipeline
        .with_stage(stage, input.position, new_id)
        .map_err(invalid)?;
    let mut response = save(&state, &caller, &current, pipeline, &[], if_match).await?;
    *response.status_mut() = axum::http::StatusCode::CREATED;
    Ok(response)
}

#[utoipa::path(delete, path = "/crm/pipelines/{id}", tag = "pipelines",
    params(("id" = String, Path, description = "pipeline id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "deleted", body = crate::openapi::Envelope),
              (status = 409, description = "the pipeline holds deals, or is the default", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn delete_pipeline(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    caller.require(Action::Delete, Resource::Pipeline)?;
    let current = load(&state, &id).await?;
    if_match.check(current.version)?;
    if current.record.pipeline.is_default {
        return Err(ApiError::conflict(
            "the default pipeline cannot be deleted: make another pipeline the default first",
        ));
    }
    let now = state.clock.now();
    let mut change = Change::new();
    let write = pipelines::delete_items(&mut change, &current);
    change.audit(&audit_entry(
        &caller,
        "pipeline",
        &id,
        "delete",
        Some(&current.record.pipeline),
        None,
        now,
    ))?;
    commit_pipeline(&state, change, write, if_match).await?;
    Ok(envelope::ok(json!({ "id": id, "deleted": true })))
}

/// Writes `pipeline` over `current` (demoting the previous default when it becomes one).
async fn save(
    state: &AdminState,
    caller: &Caller,
    current: &StoredPipeline,
    pipeline: crm_domain::deals::Pipeline,
    others: &[StoredPipeline],
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let becomes_default = pipeline.is_default && !current.record.pipeline.is_default;
    let record = PipelineRecord {
        pipeline,
        created_at: current.record.created_at,
        updated_at: now,
    };
    let mut change = Change::new();
    let write = pipelines::replace_items(&mut change, current, &record)?;
    change.audit(&audit_entry(
        caller,
        "pipeline",
        &record.pipeline.id,
        "update",
        Some(&current.record.pipeline),
        Some(&record.pipeline),
        now,
    ))?;
    if becomes_default {
        demote_default(&mut change, caller, others, &record.pipeline.id, now)?;
    }
    commit_pipeline(state, change, write, if_match).await?;
    let stored = StoredPipeline {
        record,
        version: current.version + 1,
    };
    let counts = PipelineRepo::new(state.table.clone())
        .deal_counts(&stored.record.pipeline.id)
        .await?;
    Ok(envelope::versioned(
        PipelineView::new(&stored, Some(&counts)),
        stored.version,
    ))
}

/// Makes the current default pipeline (other than `new_default`) not the default, in `change`.
fn demote_default(
    change: &mut Change,
    caller: &Caller,
    pipelines: &[StoredPipeline],
    new_default: &str,
    now: crm_domain::time::Millis,
) -> Result<(), ApiError> {
    for previous in pipelines
        .iter()
        .filter(|p| p.record.pipeline.is_default && p.record.pipeline.id != new_default)
    {
        let mut record = previous.record.clone();
        record.pipeline.is_default = false;
        record.updated_at = now;
        pipelines::replace_items(change, previous, &record)?;
        change.audit(&audit_entry(
            caller,
            "pipeline",
            &record.pipeline.id,
            "update",
            Some(&previous.record.pipeline),
            Some(&record.pipeline),
            now,
        ))?;
    }
    Ok(())
}

async fn commit_pipeline(
    state: &AdminState,
    change: Change,
    write: PipelineWrite,
    if_match: IfMatch,
) -> Result<(), ApiError> {
    match commit(&*state.table, change).await {
        Ok(()) => Ok(()),
        Err(error) if write.counters.is_some_and(|i| error.failed_at(i)) => {
            Err(ApiError::conflict(
                "the pipeline (or a stage being removed) still holds deals: move or delete them first",
            ))
        }
        Err(error) if error.failed_at(write.record) && if_match.given() => Err(
            ApiError::PreconditionFailed("the pipeline changed since it was read".to_owned()),
        ),
        Err(error @ CommitError::Conflict { .. }) => Err(error.into()),
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn load(state: &AdminState, id: &str) -> Result<StoredPipeline, ApiError> {
    if !is_record_id(id) {
        return Err(ApiError::NotFound(format!("no pipeline {id}")));
    }
    PipelineRepo::new(state.table.clone())
        .get(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pipeline {id}")))
}
