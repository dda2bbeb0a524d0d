//! Lifecycle stage (read, manual change with a reason), score recalculation (the contact score
//! service, `crm_store::repo::crm::scores`: lead and health scores, score-change records and the
//! automatic transitions that follow) and the lifecycle analytics.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use crm_domain::contacts::LifecycleStage;
use crm_domain::contacts::lifecycle::check_manual_change;
use crm_domain::deals::date::Date;
use crm_domain::engine::{ScoreCause, ScoreKind};
use crm_domain::records::{Action, Resource};
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use crm_store::repo::codec::decode;
use crm_store::repo::crm::keys::TIMELINE_SK_PREFIX;
use crm_store::repo::crm::scores::{ContactScores, RescoreError, Trigger, score_change_detail};
use crm_store::repo::crm::{Change, TimelineEntry};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{contact_view, load_contact, save_update, transition_entry};
use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::routes::AdminState;
use crate::views::rfc3339;

/// Transitions shown with a contact's stage.
const TRANSITIONS_SHOWN: usize = 200;
/// Transitions one analytics request reads.
const MAX_TRANSITIONS_READ: usize = 1000;

#[utoipa::path(get, path = "/crm/contacts/{id}/lifecycle", tag = "contacts",
    params(("id" = String, Path, description = "contact id")),
    responses((status = 200, description = "the stage and its transitions, newest first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn get_lifecycle(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Contact)?;
    let contact = load_contact(&state, &id).await?;
    let items = state
        .contacts
        .partition_before(&id, TIMELINE_SK_PREFIX, "T#~", TRANSITIONS_SHOWN)
        .await?;
    let mut transitions = Vec::new();
    for item in &items {
        let entry: TimelineEntry = decode(item)?;
        if entry.kind == "lifecycle" {
            let mut detail = entry.detail;
            detail["at"] = json!(rfc3339(entry.at));
            transitions.push(detail);
        }
    }
    Ok(envelope::versioned(
        json!({ "stage": contact.record.lifecycle_stage, "transitions": transitions }),
        contact.version,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageChange {
    /// lead, prospect, customer, retention, advocacy, lost, churned.
    #[schema(value_type = String)]
    stage: LifecycleStage,
    reason: String,
}

#[utoipa::path(put, path = "/crm/contacts/{id}/lifecycle", tag = "contacts",
    params(("id" = String, Path, description = "contact id"),
           ("If-Match" = Option<String>, Header, description = "the contact's ETag; 412 when stale")),
    request_body = StageChange,
    responses((status = 200, description = "the contact; ETag header", body = crate::openapi::Envelope),
              (status = 409, description = "already in that stage", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn put_lifecycle(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(body): ApiJson<StageChange>,
) -> Result<Response, ApiError> {
    let current = load_contact(&state, &id).await?;
    caller.require_on(
        Action::Update,
        Resource::Contact,
        current.record.owner_id.as_deref(),
    )?;
    if_match.check(current.version)?;
    check_manual_change(current.record.lifecycle_stage, body.stage, &body.reason).map_err(
        |error| match error {
            crm_domain::contacts::lifecycle::LifecycleError::Unchanged(_) => {
                ApiError::conflict(error.to_string())
            }
            _ => ApiError::validation("reason", error.to_string()),
        },
    )?;
    let version = change_stage(
        &state,
        &caller,
        &current,
        current.record.clone(),
        StageMove {
            stage: body.stage,
            reason: body.reason.trim(),
            action: "lifecycle_change",
        },
        if_match,
    )
    .await?;
    let updated = load_contact(&state, &id).await?;
    Ok(envelope::versioned(
        contact_view(&updated.record, version),
        version,
    ))
}

/// A stage change: where to, why, and the audit action naming it.
pub struct StageMove<'a> {
    pub stage: LifecycleStage,
    pub reason: &'a str,
    pub action: &'a str,
}

/// Moves a contact to `stage`, recording the transition (also qualify and convert).
pub async fn change_stage(
    state: &AdminState,
    caller: &Caller,
    current: &crm_store::repo::crm::Versioned<crm_domain::contacts::Contact>,
    mut updated: crm_domain::contacts::Contact,
    stage_move: StageMove<'_>,
    if_match: IfMatch,
) -> Result<i64, ApiError> {
    let StageMove {
        stage,
        reason,
        action,
    } = stage_move;
    let now = state.clock.now();
    updated.lifecycle_stage = stage;
    updated.updated_at = now;
    let mut change = Change::new();
    if stage != current.record.lifecycle_stage {
        let entry = transition_entry(
            &updated.id,
            Some(current.record.lifecycle_stage),
            stage,
            reason,
            &caller.subject,
            now,
        );
        super::put_transition(&mut change, &entry)?;
    }
    save_update(state, caller, current, &updated, action, change, if_match).await
}

#[utoipa::path(post, path = "/crm/contacts/{id}/recalculate-score", tag = "contacts",
    params(("id" = String, Path, description = "contact id")),
    responses((status = 200, description = "the lead score before and after, its factor breakdown and the score-change record written (or null); ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn recalculate_score(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Contact)?;
    let current = load_contact(&state, &id).await?;
    caller.require_on(
        Action::Update,
        Resource::Contact,
        current.record.owner_id.as_deref(),
    )?;
    let trigger = Trigger {
        cause: ScoreCause::Recalculation,
        action: "recalculate_score".to_owned(),
        actor: caller.actor(),
    };
    let outcome = ContactScores::new(state.table.clone())
        .rescore(&id, state.clock.now(), &trigger)
        .await
        .map_err(|error| match error {
            RescoreError::NotFound(_) => ApiError::NotFound(format!("no contact {id}")),
            RescoreError::Contended(_) => ApiError::conflict(error.to_string()),
            RescoreError::Table(error) => error.into(),
        })?;
    let lead_change = outcome
        .changes
        .iter()
        .find(|change| change.kind == ScoreKind::Lead)
        .map(score_change_detail);
    let health_change = outcome
        .changes
        .iter()
        .find(|change| change.kind == ScoreKind::Health)
        .map(score_change_detail);
    let after = outcome.contact.record.lead_score;
    let before = outcome.previous_lead_score;
    let transitions: Vec<Value> = outcome
        .transitions
        .iter()
        .map(|message| {
            json!({
                "id": message.id,
                "from": message.from,
                "to": message.to,
                "rule": message.rule,
                "reason": message.reason,
            })
        })
        .collect();
    Ok(envelope::versioned(
        json!({
            "lead_score": after,
            "previous": before,
            "changed": after != before,
            "score": outcome.lead.score,
            "factors": outcome.lead.factors,
            "score_change": lead_change,
            "health": {
                "health_score": outcome.contact.record.health_score,
                "previous": outcome.previous_health_score,
                "score": outcome.health.score,
                "risk": outcome.health.risk,
                "factors": outcome.health.factors,
                "score_change": health_change,
            },
            "stage": outcome.contact.record.lifecycle_stage,
            "transitions": transitions,
        }),
        outcome.contact.version,
    ))
}

/// After a committed write that changes what a contact's scores depend on (a deal won or
/// lost), rescores the contact at once so that its automatic transitions (a won deal: →
/// customer) follow the write. Best effort: the write stands either way; a failure is logged
/// and the decay job rescores the contact on its next sweep.
pub async fn rescore_after_write(state: &AdminState, contact_id: &str, cause: ScoreCause) {
    let outcome = ContactScores::new(state.table.clone())
        .rescore(contact_id, state.clock.now(), &Trigger::system(cause))
        .await;
    match outcome {
        Ok(outcome) if !outcome.transitions.is_empty() => tracing::info!(
            contact = contact_id,
            stage = outcome.contact.record.lifecycle_stage.as_str(),
            "automatic lifecycle transition"
        ),
        Ok(_) | Err(RescoreError::NotFound(_)) => {}
        Err(error) => tracing::warn!(
            contact = contact_id,
            %error,
            "rescore after a write failed; the decay job catches up"
        ),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodParams {
    from: Option<String>,
    to: Option<String>,
}

#[utoipa::path(get, path = "/crm/analytics/lifecycle", tag = "analytics",
    params(("from" = Option<String>, Query, description = "YYYY-MM-DD, default 30 days before to"),
           ("to" = Option<String>, Query, description = "YYYY-MM-DD inclusive, default today")),
    responses((status = 200, description = "contacts per stage and transitions in the period", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn lifecycle_analytics(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<PeriodParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Analytics)?;
    let date = |field: &str, raw: &Option<String>| -> Result<Option<Date>, ApiError> {
        raw.as_deref()
            .map(|text| {
                Date::parse(text).map_err(|error| ApiError::validation(field, error.to_string()))
            })
            .transpose()
    };
    let now = state.clock.now();
    let to = date("to", &params.to)?.unwrap_or_else(|| Date::of(now));
    let from = date("from", &params.from)?.unwrap_or_else(|| Date::from_days(to.days() - 29));
    if from > to {
        return Err(ApiError::validation("from", "must not be after to"));
    }
    let end = Millis(to.start().0 + MILLIS_PER_DAY);
    let (items, truncated) = state
        .contacts
        .transitions(from.start(), end, MAX_TRANSITIONS_READ)
        .await?;
    let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut into: BTreeMap<String, u64> = BTreeMap::new();
    for item in &items {
        let entry: TimelineEntry = decode(item)?;
        let label = |value: &Value| value.as_str().unwrap_or("(new)").to_owned();
        let to_stage = label(&entry.detail["to"]);
        *pairs
            .entry((label(&entry.detail["from"]), to_stage.clone()))
            .or_default() += 1;
        *into.entry(to_stage).or_default() += 1;
    }
    let counts: BTreeMap<&str, i64> = state
        .contacts
        .stage_counts()
        .await?
        .into_iter()
        .map(|(stage, count)| (stage.as_str(), count))
        .collect();
    let transitions: Vec<Value> = pairs
        .into_iter()
        .map(|((from, to), count)| json!({ "from": from, "to": to, "count": count }))
        .collect();
    Ok(envelope::ok(json!({
        "period": { "from": format_date(from), "to": format_date(to) },
        "count_per_stage": counts,
        "transitions": transitions,
        "entered_stage": into,
        "transitions_total": items.len(),
        "truncated": truncated,
    })))
}

fn format_date(date: Date) -> String {
    let (year, month, day) = date.ymd();
    format!("{year:04}-{month:02}-{day:02}")
}
