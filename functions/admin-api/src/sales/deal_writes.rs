//! Writing deals: create, update, delete, and the stage transitions (`PATCH …/stage`,
//! `POST …/win`, `POST …/lose`), each audited and recorded as stage history.

use axum::extract::State;
use axum::response::Response;
use crm_domain::deals::{Deal, DealError, DealEvent, DealInput, DealPatch};
use crm_domain::engine::ScoreCause;
use crm_domain::records::{Action, Resource, Role};
use crm_store::repo::crm::deals::{self, DealRecord, DealRepo, DealWrite, StoredDeal};
use crm_store::repo::crm::{AuditEntry, Change, CommitError, commit};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::deals::{load, view_with_history};
use super::pipelines::load as load_pipeline;
use super::support::{audit_entry, default_pipeline, invalid};
use crate::caller::{Caller, new_id};
use crate::contacts::rescore_after_write;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, IfMatch};
use crate::routes::AdminState;

/// A deal to create. `amount` is a decimal string in `currency` (`"1234.50"`), never a float.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct NewDeal {
    title: String,
    amount: String,
    currency: String,
    /// The default pipeline when left out.
    pipeline_id: Option<String>,
    /// The pipeline's first open stage when left out.
    stage_id: Option<String>,
    contact_id: Option<String>,
    /// A sales rep's deals are their own.
    owner_id: Option<String>,
    /// YYYY-MM-DD.
    expected_close_date: Option<String>,
    /// Overrides the stage's win probability (0–100).
    probability: Option<i64>,
}

/// Fields to change; `null` clears an optional one.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct DealChanges {
    title: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    contact_id: Option<String>,
    owner_id: Option<String>,
    expected_close_date: Option<String>,
    probability: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageMove {
    stage_id: String,
    /// Required when `stage_id` is a closed-lost stage.
    lost_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoseBody {
    reason: Option<String>,
}

#[utoipa::path(post, path = "/crm/deals", tag = "deals", request_body = NewDeal,
    responses((status = 201, description = "the deal, with its ETag", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn create_deal(
    State(state): State<AdminState>,
    caller: Caller,
    ApiJson(mut input): ApiJson<DealInput>,
) -> Result<Response, ApiError> {
    caller.require(Action::Create, Resource::Deal)?;
    if caller.role == Role::SalesRep {
        match &input.owner_id {
            None => input.owner_id = Some(caller.subject.clone()),
            Some(owner) if *owner == caller.subject => {}
            Some(_) => {
                return Err(ApiError::Forbidden(
                    "a sales rep creates deals they own (owner_id is their own id)".to_owned(),
                ));
            }
        }
    }
    let pipeline = match input.pipeline_id.as_deref() {
        None => default_pipeline(&state).await?,
        Some(id) => load_pipeline(&state, id)
            .await
            .map_err(|error| match error {
                ApiError::NotFound(_) => {
                    ApiError::validation("pipeline_id", "is not a pipeline of this store")
                }
                // A store outage stays a 503: the client should retry, not fix its input.
                other => other,
            })?,
    };
    let now = state.clock.now();
    let (deal, event) = input
        .validate(new_id(), &pipeline.record.pipeline, &caller.subject, now)
        .map_err(invalid)?;
    let record = DealRecord {
        deal,
        updated_at: now,
    };
    let mut change = Change::new();
    let write = deals::create_items(&mut change, &record, &event, &new_id())?;
    change.audit(&deal_audit(
        &caller,
        "create",
        None,
        Some(&record.deal),
        now,
    ))?;
    commit_deal(&state, change, write, IfMatch(None)).await?;
    let stored = StoredDeal { record, version: 1 };
    let mut response = view_with_history(&state, &stored, Some(&pipeline.record.pipeline)).await?;
    *response.status_mut() = axum::http::StatusCode::CREATED;
    Ok(response)
}

#[utoipa::path(patch, path = "/crm/deals/{id}", tag = "deals", request_body = DealChanges,
    params(("id" = String, Path, description = "deal id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the deal; ETag header", body = crate::openapi::Envelope),
              (status = 412, description = "If-Match is stale", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn update_deal(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<DealPatch>,
) -> Result<Response, ApiError> {
    let current = load_for_update(&state, &caller, &id, if_match).await?;
    let mut deal = current.record.deal.clone();
    deal.apply(patch).map_err(invalid)?;
    save(&state, &caller, &current, deal, None, "update", if_match).await
}

#[utoipa::path(patch, path = "/crm/deals/{id}/stage", tag = "deals", request_body = StageMove,
    params(("id" = String, Path, description = "deal id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the deal in its new stage; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn move_deal_stage(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<StageMove>,
) -> Result<Response, ApiError> {
    let current = load_for_update(&state, &caller, &id, if_match).await?;
    let pipeline = load_pipeline(&state, &current.record.deal.pipeline_id).await?;
    let mut deal = current.record.deal.clone();
    let now = state.clock.now();
    let event = deal
        .move_to_stage(
            &pipeline.record.pipeline,
            &body.stage_id,
            body.lost_reason.as_deref(),
            &caller.subject,
            now,
        )
        .map_err(deal_error)?;
    match event {
        // Already there: nothing to write, nothing to audit.
        None => view_with_history(&state, &current, Some(&pipeline.record.pipeline)).await,
        Some(event) => {
            save(
                &state,
                &caller,
                &current,
                deal,
                Some(event),
                "stage_change",
                if_match,
            )
            .await
        }
    }
}

#[utoipa::path(post, path = "/crm/deals/{id}/win", tag = "deals",
    params(("id" = String, Path, description = "deal id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the won deal; ETag header", body = crate::openapi::Envelope),
              (status = 409, description = "the deal is already won", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn win_deal(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    let current = load_for_update(&state, &caller, &id, if_match).await?;
    let pipeline = load_pipeline(&state, &current.record.deal.pipeline_id).await?;
    let mut deal = current.record.deal.clone();
    let event = deal
        .win(
            &pipeline.record.pipeline,
            &caller.subject,
            state.clock.now(),
        )
        .map_err(deal_error)?;
    let contact = deal.contact_id.clone();
    let response = save(
        &state,
        &caller,
        &current,
        deal,
        Some(event),
        "win",
        if_match,
    )
    .await?;
    if let Some(contact) = contact {
        rescore_after_write(&state, &contact, ScoreCause::Deal).await;
    }
    Ok(response)
}

#[utoipa::path(post, path = "/crm/deals/{id}/lose", tag = "deals", request_body = LoseBody,
    params(("id" = String, Path, description = "deal id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the lost deal; ETag header", body = crate::openapi::Envelope),
              (status = 400, description = "no reason given", body = crate::openapi::ErrorEnvelope),
              (status = 409, description = "the deal is already lost", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn lose_deal(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<LoseBody>,
) -> Result<Response, ApiError> {
    let current = load_for_update(&state, &caller, &id, if_match).await?;
    let pipeline = load_pipeline(&state, &current.record.deal.pipeline_id).await?;
    let mut deal = current.record.deal.clone();
    let event = deal
        .lose(
            &pipeline.record.pipeline,
            body.reason.as_deref(),
            &caller.subject,
            state.clock.now(),
        )
        .map_err(deal_error)?;
    let contact = deal.contact_id.clone();
    let response = save(
        &state,
        &caller,
        &current,
        deal,
        Some(event),
        "lose",
        if_match,
    )
    .await?;
    if let Some(contact) = contact {
        rescore_after_write(&state, &contact, ScoreCause::Deal).await;
    }
    Ok(response)
}

#[utoipa::path(delete, path = "/crm/deals/{id}", tag = "deals",
    params(("id" = String, Path, description = "deal id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "deleted", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn delete_deal(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    caller.require(Action::Delete, Resource::Deal)?;
    let current = load(&state, &id).await?;
    caller.require_on(
        Action::Delete,
        Resource::Deal,
        current.record.deal.owner_id.as_deref(),
    )?;
    if_match.check(current.version)?;
    let now = state.clock.now();
    let mut change = Change::new();
    let record = deals::delete_items(&mut change, &current);
    change.audit(&deal_audit(
        &caller,
        "delete",
        Some(&current.record.deal),
        None,
        now,
    ))?;
    let write = DealWrite {
        record,
        stage: None,
        contact: None,
    };
    commit_deal(&state, change, write, if_match).await?;
    DealRepo::new(state.table.clone())
        .delete_events(&id)
        .await?;
    Ok(envelope::ok(json!({ "id": id, "deleted": true })))
}

/// The deal, once the caller may update it (a sales rep only their own) and `If-Match` holds.
async fn load_for_update(
    state: &AdminState,
    caller: &Caller,
    id: &str,
    if_match: IfMatch,
) -> Result<StoredDeal, ApiError> {
    caller.require(Action::Update, Resource::Deal)?;
    let current = load(state, id).await?;
    caller.require_on(
        Action::Update,
        Resource::Deal,
        current.record.deal.owner_id.as_deref(),
    )?;
    if_match.check(current.version)?;
    Ok(current)
}

async fn save(
    state: &AdminState,
    caller: &Caller,
    current: &StoredDeal,
    deal: Deal,
    event: Option<DealEvent>,
    action: &str,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let record = DealRecord {
        deal,
        updated_at: now,
    };
    let event_id = new_id();
    let mut change = Change::new();
    let write = deals::update_items(
        &mut change,
        current,
        &record,
        event.as_ref().map(|event| (event, event_id.as_str())),
    )?;
    change.audit(&deal_audit(
        caller,
        action,
        Some(&current.record.deal),
        Some(&record.deal),
        now,
    ))?;
    commit_deal(state, change, write, if_match).await?;
    let stored = StoredDeal {
        record,
        version: current.version + 1,
    };
    let pipeline = load_pipeline(state, &stored.record.deal.pipeline_id)
        .await
        .ok();
    view_with_history(state, &stored, pipeline.map(|p| p.record.pipeline).as_ref()).await
}

/// An audit entry of a deal write; it names the contact (before or after) so erasing them
/// redacts it.
fn deal_audit(
    caller: &Caller,
    action: &str,
    before: Option<&Deal>,
    after: Option<&Deal>,
    now: crm_domain::time::Millis,
) -> AuditEntry {
    let id = after
        .or(before)
        .map(|deal| deal.id.clone())
        .unwrap_or_default();
    let entry = audit_entry(caller, "deal", &id, action, before, after, now);
    let contact = after
        .and_then(|deal| deal.contact_id.clone())
        .or_else(|| before.and_then(|deal| deal.contact_id.clone()));
    match contact {
        Some(contact) => entry.about_person(&contact),
        None => entry,
    }
}

async fn commit_deal(
    state: &AdminState,
    change: Change,
    write: DealWrite,
    if_match: IfMatch,
) -> Result<(), ApiError> {
    match commit(&*state.table, change).await {
        Ok(()) => Ok(()),
        Err(error) if write.contact.is_some_and(|i| error.failed_at(i)) => Err(
            ApiError::validation("contact_id", "is not a contact of this store"),
        ),
        Err(error) if write.stage.is_some_and(|i| error.failed_at(i)) => Err(ApiError::conflict(
            "the deal's stage or pipeline changed meanwhile; read the pipeline and retry",
        )),
        Err(error) if error.failed_at(write.record) && if_match.given() => Err(
            ApiError::PreconditionFailed("the deal changed since it was read".to_owned()),
        ),
        Err(error @ CommitError::Conflict { .. }) => Err(error.into()),
        Err(error) => Err(error.into()),
    }
}

fn deal_error(error: DealError) -> ApiError {
    match error {
        DealError::Invalid(violations) => invalid(violations),
        DealError::AlreadyClosed(status) => {
            ApiError::conflict(format!("the deal is already {}", status.as_str()))
        }
    }
}
