//! Leads (contacts in the lead and prospect stages): qualification, conversion, follow-ups;
//! and the at-risk and high-value contact lists.

use axum::extract::State;
use axum::response::Response;
use crm_domain::contacts::{Contact, FollowUp, LifecycleStage, Qualification};
use crm_domain::deals::date::Date;
use crm_domain::records::{Action, Resource};
use crm_store::repo::crm::{Change, ContactSort, Expect, TimelineEntry};
use crm_store::table::Cursor;
use serde::Deserialize;
use serde_json::{Value, json};

use super::lifecycle::{StageMove, change_stage};
use super::{MAX_EXAMINED, contact_view, list_view, load_contact, save_update};
use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, page_size};
use crate::routes::AdminState;

/// Health at or below this marks a contact at risk unless `max_health` says otherwise.
pub const DEFAULT_AT_RISK_HEALTH: u8 = 40;
/// Lead score at or above this marks a contact high-value unless `min_lead_score` says otherwise.
pub const DEFAULT_HIGH_VALUE_SCORE: u8 = 70;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadParams {
    follow_up_due: Option<bool>,
    qualification: Option<Qualification>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/crm/leads", tag = "leads",
    params(("follow_up_due" = Option<bool>, Query, description = "only leads whose follow-up is due now (earliest first)"),
           ("qualification" = Option<String>, Query, description = "unqualified, qualified, disqualified"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "contacts in the lead and prospect stages", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_leads(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<LeadParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Lead)?;
    let limit = page_size(params.limit)?;
    let keep = |contact: &Contact| {
        contact.lifecycle_stage.is_lead()
            && params
                .qualification
                .is_none_or(|wanted| contact.qualification == wanted)
    };
    let cursor = params.cursor.map(Cursor);
    let (contacts, next) = if params.follow_up_due == Some(true) {
        let (contacts, next) = state
            .contacts
            .due_follow_ups(state.clock.now(), limit, cursor)
            .await?;
        (contacts.into_iter().filter(|c| keep(c)).collect(), next)
    } else {
        state
            .contacts
            .list(
                ContactSort::UpdatedDesc,
                None,
                limit,
                cursor,
                MAX_EXAMINED,
                keep,
            )
            .await?
    };
    let views: Vec<Value> = contacts.iter().map(list_view).collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QualifyBody {
    /// qualified (default), disqualified or unqualified.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    status: Option<Qualification>,
}

#[utoipa::path(post, path = "/crm/leads/{id}/qualify", tag = "leads",
    params(("id" = String, Path, description = "contact id")),
    request_body = QualifyBody,
    responses((status = 200, description = "the lead; a qualified lead moves to prospect", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn qualify_lead(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<QualifyBody>,
) -> Result<Response, ApiError> {
    let current = lead(&state, &caller, &id).await?;
    let status = body.status.unwrap_or(Qualification::Qualified);
    let now = state.clock.now();
    let mut updated = current.record.clone();
    updated.qualification = status;
    updated.updated_at = now;
    let stage = match (status, current.record.lifecycle_stage) {
        (Qualification::Qualified, LifecycleStage::Lead) => LifecycleStage::Prospect,
        (_, stage) => stage,
    };
    let mut change = Change::new();
    if stage != current.record.lifecycle_stage {
        updated.lifecycle_stage = stage;
        let entry = super::transition_entry(
            &id,
            Some(current.record.lifecycle_stage),
            stage,
            "qualified",
            &caller.subject,
            now,
        );
        super::put_transition(&mut change, &entry)?;
    }
    let version = save_update(
        &state,
        &caller,
        &current,
        &updated,
        "qualify",
        change,
        IfMatch(None),
    )
    .await?;
    Ok(envelope::versioned(
        contact_view(&updated, version),
        version,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertBody {
    #[serde(default)]
    reason: Option<String>,
    /// A deal to create for the new customer (the body of `POST /crm/deals`; its `contact_id`
    /// is this contact).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    deal: Option<Value>,
}

#[utoipa::path(post, path = "/crm/leads/{id}/convert", tag = "leads",
    params(("id" = String, Path, description = "contact id")),
    request_body = ConvertBody,
    responses((status = 200, description = "the contact, now a customer", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn convert_lead(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ConvertBody>,
) -> Result<Response, ApiError> {
    let current = lead(&state, &caller, &id).await?;
    // The deal first: its validation errors must leave the lead as it was.
    let deal = match body.deal {
        Some(deal) => Some(create_deal_for(&state, &caller, &id, deal).await?),
        None => None,
    };
    let mut updated = current.record.clone();
    updated.qualification = Qualification::Qualified;
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("converted");
    let version = change_stage(
        &state,
        &caller,
        &current,
        updated,
        StageMove {
            stage: LifecycleStage::Customer,
            reason,
            action: "convert",
        },
        IfMatch(None),
    )
    .await?;
    let updated = load_contact(&state, &id).await?;
    let mut view = contact_view(&updated.record, version);
    if let Some(deal) = deal {
        view["deal"] = deal;
    }
    Ok(envelope::versioned(view, version))
}

/// Creates a deal for `contact` through the deals route itself (same validation, policy and
/// audit); returns the created deal as the route shows it.
async fn create_deal_for(
    state: &AdminState,
    caller: &Caller,
    contact: &str,
    mut deal: Value,
) -> Result<Value, ApiError> {
    let Some(fields) = deal.as_object_mut() else {
        return Err(ApiError::validation("deal", "must be an object"));
    };
    fields.insert("contact_id".to_owned(), json!(contact));
    let input: crm_domain::deals::deal::DealInput = serde_json::from_value(deal)
        .map_err(|error| ApiError::validation("deal", error.to_string()))?;
    let response = crate::sales::create_deal(
        axum::extract::State(state.clone()),
        caller.clone(),
        crate::extract::ApiJson(input),
    )
    .await?;
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .map_err(ApiError::internal)?;
    let body: Value = serde_json::from_slice(&bytes).map_err(ApiError::internal)?;
    Ok(body["data"].clone())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    /// `YYYY-MM-DD`.
    date: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/crm/leads/{id}/schedule-follow-up", tag = "leads",
    params(("id" = String, Path, description = "contact id")),
    request_body = FollowUpBody,
    responses((status = 200, description = "the lead with its follow-up", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn schedule_follow_up(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<FollowUpBody>,
) -> Result<Response, ApiError> {
    let date = Date::parse(body.date.trim())
        .map_err(|error| ApiError::validation("date", error.to_string()))?;
    let note = body.note.trim().to_owned();
    if note.chars().count() > 1000 {
        return Err(ApiError::validation(
            "note",
            "must be at most 1000 characters",
        ));
    }
    let current = lead(&state, &caller, &id).await?;
    let now = state.clock.now();
    let mut updated = current.record.clone();
    updated.follow_up = Some(FollowUp {
        due: body.date.trim().to_owned(),
        due_at: date.start(),
        note: note.clone(),
    });
    updated.updated_at = now;
    let mut change = Change::new();
    let entry = TimelineEntry {
        id: new_id(),
        contact_id: id.clone(),
        at: now,
        kind: "follow_up_scheduled".to_owned(),
        summary: format!("follow-up on {}", body.date.trim()),
        detail: json!({ "date": body.date.trim(), "note": note }),
        actor: caller.subject.clone(),
    };
    change.put(entry.item()?, Expect::Absent);
    let version = save_update(
        &state,
        &caller,
        &current,
        &updated,
        "schedule_follow_up",
        change,
        IfMatch(None),
    )
    .await?;
    Ok(envelope::versioned(
        contact_view(&updated, version),
        version,
    ))
}

/// The contact, which must be a lead the caller may update.
async fn lead(
    state: &AdminState,
    caller: &Caller,
    id: &str,
) -> Result<crm_store::repo::crm::Versioned<Contact>, ApiError> {
    caller.require(Action::Update, Resource::Lead)?;
    let current = load_contact(state, id).await?;
    caller.require_on(
        Action::Update,
        Resource::Lead,
        current.record.owner_id.as_deref(),
    )?;
    if !current.record.lifecycle_stage.is_lead() {
        return Err(ApiError::conflict(format!(
            "contact {id} is a {}, not a lead",
            current.record.lifecycle_stage.as_str()
        )));
    }
    Ok(current)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdParams {
    max_health: Option<u8>,
    min_lead_score: Option<u8>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/crm/contacts/at-risk", tag = "contacts",
    params(("max_health" = Option<u8>, Query, description = "health score at or below (default 40)"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "contacts whose health score is at or below the threshold, most recently changed first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn at_risk_contacts(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ThresholdParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Contact)?;
    let limit = page_size(params.limit)?;
    let threshold = params.max_health.unwrap_or(DEFAULT_AT_RISK_HEALTH);
    let (contacts, next) = state
        .contacts
        .list(
            ContactSort::UpdatedDesc,
            None,
            limit,
            params.cursor.map(Cursor),
            MAX_EXAMINED,
            |contact| {
                contact
                    .health_score
                    .is_some_and(|health| health <= threshold)
            },
        )
        .await?;
    let views: Vec<Value> = contacts.iter().map(list_view).collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

#[utoipa::path(get, path = "/crm/contacts/high-value", tag = "contacts",
    params(("min_lead_score" = Option<u8>, Query, description = "lead score at or above (default 70)"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "contacts by lead score, highest first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn high_value_contacts(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ThresholdParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Contact)?;
    let limit = page_size(params.limit)?;
    let threshold = params
        .min_lead_score
        .unwrap_or(DEFAULT_HIGH_VALUE_SCORE)
        .min(100);
    let (contacts, next) = state
        .contacts
        .list(
            ContactSort::LeadScoreDesc,
            Some(threshold),
            limit,
            params.cursor.map(Cursor),
            MAX_EXAMINED,
            |_| true,
        )
        .await?;
    let views: Vec<Value> = contacts.iter().map(list_view).collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}
