//! Lifecycle stage (read, manual change with a reason), lead-score recalculation (the engine's
//! `lead_score` over the stored contact, linked visitors' profiles and interactions) and the
//! lifecycle analytics.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use crm_domain::contacts::Interaction;
use crm_domain::contacts::LifecycleStage;
use crm_domain::contacts::lifecycle::check_manual_change;
use crm_domain::contacts::score::lead_inputs;
use crm_domain::deals::date::Date;
use crm_domain::engine::change::DEFAULT_CHANGE_THRESHOLD;
use crm_domain::engine::{
    LeadConfig, ScoreCause, ScoreChange, ScoreKind, lead_score, score_change,
};
use crm_domain::records::{Action, Resource};
use crm_domain::site::SiteId;
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use crm_store::repo::codec::decode;
use crm_store::repo::crm::keys::TIMELINE_SK_PREFIX;
use crm_store::repo::crm::{Change, Expect, TimelineEntry};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{MAX_PERSON_ITEMS, contact_view, load_contact, save_update, transition_entry};
use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch};
use crate::routes::AdminState;
use crate::views::rfc3339;

/// Transitions shown with a contact's stage.
const TRANSITIONS_SHOWN: usize = 200;
/// Transitions one analytics request reads.
const MAX_TRANSITIONS_READ: usize = 1000;
/// Interactions read per query when recalculating a score.
const INTERACTIONS_PAGE: usize = 1000;

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
        change.put(entry.item()?, Expect::Absent);
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
    let now = state.clock.now();
    let mut profiles = Vec::new();
    for link in &current.record.linked_visitors {
        let Ok(site) = SiteId::parse(&link.site) else {
            continue;
        };
        if let Some(profile) = state.behavior.get_profile(&site, &link.visitor).await? {
            profiles.push(profile);
        }
    }
    let interactions = all_interactions(&state, &id).await?;
    let inputs = lead_inputs(&current.record, &profiles, &interactions);
    let score = lead_score(&inputs, &LeadConfig::default(), now);
    let before = current.record.lead_score;
    let after = score.whole();
    let record = score_change(
        ScoreKind::Lead,
        Some(f64::from(before)),
        score.score,
        &score.factors,
        ScoreCause::Recalculation,
        DEFAULT_CHANGE_THRESHOLD,
        now,
    );
    let record_view = record.as_ref().map(score_change_detail);
    // Within half a point the stored whole score is unchanged, and so is the record.
    let version = if after == before {
        current.version
    } else {
        let mut updated = current.record.clone();
        updated.lead_score = after;
        updated.updated_at = now;
        let mut change = Change::new();
        if let Some(detail) = &record_view {
            let entry = TimelineEntry {
                id: new_id(),
                contact_id: id.clone(),
                at: now,
                kind: "score_change".to_owned(),
                summary: format!("lead score {before} → {} (recalculation)", score.score),
                detail: detail.clone(),
                actor: caller.subject.clone(),
            };
            change.put(entry.item()?, Expect::Absent);
        }
        save_update(
            &state,
            &caller,
            &current,
            &updated,
            "recalculate_score",
            change,
            IfMatch(None),
        )
        .await?
    };
    Ok(envelope::versioned(
        json!({
            "lead_score": after,
            "previous": before,
            "changed": after != before,
            "score": score.score,
            "factors": score.factors,
            "score_change": record_view,
        }),
        version,
    ))
}

/// A score-change record as the timeline's `detail`: kind, old, new, factors, cause (the time
/// is the entry's own).
fn score_change_detail(record: &ScoreChange) -> Value {
    json!({
        "kind": record.kind,
        "old": record.old,
        "new": record.new,
        "factors": record.factors,
        "cause": record.cause,
    })
}

/// Every interaction logged on the contact (at most [`MAX_PERSON_ITEMS`]).
async fn all_interactions(state: &AdminState, id: &str) -> Result<Vec<Interaction>, ApiError> {
    let mut interactions = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = state
            .contacts
            .interactions(id, INTERACTIONS_PAGE, cursor)
            .await?;
        interactions.extend(page);
        match next {
            Some(next) if interactions.len() < MAX_PERSON_ITEMS => cursor = Some(next),
            _ => return Ok(interactions),
        }
    }
}

#[derive(Debug, Deserialize)]
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
