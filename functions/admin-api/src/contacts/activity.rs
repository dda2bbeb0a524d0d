//! Interactions and the 360° timeline of a contact.

use axum::extract::State;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_domain::contacts::{Interaction, InteractionInput};
use crm_domain::engine::ScoreCause;
use crm_domain::records::{Action, Resource};
use crm_domain::site::SiteId;
use crm_store::repo::codec::decode;
use crm_store::repo::crm::contacts::interaction_item;
use crm_store::repo::crm::deals::DealRepo;
use crm_store::repo::crm::keys::{INTERACTION_SK_PREFIX, TIMELINE_SK_PREFIX};
use crm_store::repo::crm::{AuditEntry, Change, Expect, TimelineEntry, commit};
use crm_store::repo::keys::padded_millis;
use crm_store::table::Cursor;
use serde::Deserialize;
use serde_json::{Value, json};

use super::lifecycle::rescore_after_write;
use super::load_contact;
use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, page_size};
use crate::routes::AdminState;
use crate::views::rfc3339;

/// Stage-history events of each of the contact's deals the timeline looks at.
const DEAL_EVENTS_PER_DEAL: usize = 100;
/// Sessions of one linked visitor the timeline looks at.
const SESSIONS_PER_VISITOR: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageOnly {
    limit: Option<usize>,
    cursor: Option<String>,
}

fn interaction_view(interaction: &Interaction) -> Value {
    let mut view = serde_json::to_value(interaction).unwrap_or(Value::Null);
    view["occurred_at"] = json!(rfc3339(interaction.occurred_at));
    view
}

#[utoipa::path(post, path = "/crm/contacts/{id}/interactions", tag = "contacts",
    params(("id" = String, Path, description = "contact id")),
    request_body(content = super::schema::InteractionBody),
    responses((status = 201, description = "the interaction", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn create_interaction(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<InteractionInput>,
) -> Result<Response, ApiError> {
    caller.require(Action::Create, Resource::Interaction)?;
    let contact = load_contact(&state, &id).await?;
    // A sales rep logs on its own contacts; customer success on any.
    caller.require_on(
        Action::Create,
        Resource::Interaction,
        contact.record.owner_id.as_deref(),
    )?;
    let now = state.clock.now();
    let interaction =
        Interaction::build(input, new_id(), &id, &caller.subject, now).map_err(super::invalid)?;
    let after = serde_json::to_value(&interaction).unwrap_or(Value::Null);
    let mut change = Change::new();
    change.put(interaction_item(&interaction)?, Expect::Absent);
    // The contact must still exist when the interaction lands.
    change.check(
        crm_store::repo::crm::keys::contact(&id),
        crm_store::table::Condition::ItemExists,
    );
    change.audit(
        &AuditEntry::new(
            new_id(),
            now,
            &caller.actor(),
            "interaction",
            &interaction.id,
            "create",
            &Value::Null,
            &after,
        )
        .about_person(&id),
    )?;
    commit(&*state.table, change).await?;
    // Interactions feed engagement (lead) and support and relationship (health).
    rescore_after_write(&state, &id, ScoreCause::Interaction).await;
    let mut response = envelope::ok(interaction_view(&interaction));
    *response.status_mut() = axum::http::StatusCode::CREATED;
    Ok(response)
}

#[utoipa::path(get, path = "/crm/contacts/{id}/interactions", tag = "contacts",
    params(("id" = String, Path, description = "contact id"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "interactions, newest first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_interactions(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<PageOnly>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Interaction)?;
    let limit = page_size(params.limit)?;
    load_contact(&state, &id).await?;
    let (interactions, next) = state
        .contacts
        .interactions(&id, limit, params.cursor.map(Cursor))
        .await?;
    let views = interactions.iter().map(interaction_view).collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

/// One timeline entry, whatever its source.
struct Moment {
    at: i64,
    id: String,
    view: Value,
}

#[utoipa::path(get, path = "/crm/contacts/{id}/timeline", tag = "contacts",
    params(("id" = String, Path, description = "contact id"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "interactions, notes, lifecycle transitions, score changes, deal events and web sessions, newest first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn timeline(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<PageOnly>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Contact)?;
    let limit = page_size(params.limit)?;
    let contact = load_contact(&state, &id).await?.record;
    // The cursor is the position (time and id) of the last entry shown; entries strictly
    // older come next.
    let before =
        match &params.cursor {
            None => None,
            Some(cursor) => Some(decode_position(cursor).ok_or_else(|| {
                ApiError::validation("cursor", "is not a cursor this API returned")
            })?),
        };
    let bound = |prefix: &str| match &before {
        None => format!("{prefix}~"),
        Some((at, id)) => format!(
            "{prefix}{}#{id}",
            padded_millis(crm_domain::time::Millis(*at))
        ),
    };
    let older = |at: i64, entry_id: &str| {
        before
            .as_ref()
            .is_none_or(|(b_at, b_id)| (at, entry_id) < (*b_at, b_id.as_str()))
    };
    let mut moments = Vec::new();
    for item in state
        .contacts
        .partition_before(
            &id,
            INTERACTION_SK_PREFIX,
            &bound(INTERACTION_SK_PREFIX),
            limit + 1,
        )
        .await?
    {
        let interaction: Interaction = decode(&item)?;
        let mut view = interaction_view(&interaction);
        view["type"] = json!("interaction");
        moments.push(Moment {
            at: interaction.occurred_at.0,
            id: interaction.id,
            view,
        });
    }
    for item in state
        .contacts
        .partition_before(
            &id,
            TIMELINE_SK_PREFIX,
            &bound(TIMELINE_SK_PREFIX),
            limit + 1,
        )
        .await?
    {
        let entry: TimelineEntry = decode(&item)?;
        let view = json!({
            "type": entry.kind, "id": entry.id, "at": rfc3339(entry.at),
            "summary": entry.summary, "detail": entry.detail, "actor": entry.actor,
        });
        moments.push(Moment {
            at: entry.at.0,
            id: entry.id,
            view,
        });
    }
    let deal_events = DealRepo::new(state.table.clone())
        .contact_events(&id, DEAL_EVENTS_PER_DEAL)
        .await?;
    for event in deal_events {
        let kind = serde_json::to_value(event.kind).unwrap_or(Value::Null);
        let view = json!({
            "type": "deal_event", "id": format!("{}#{}", event.deal_id, event.at.0),
            "at": rfc3339(event.at),
            "summary": format!("deal {}: {}", event.deal_id, kind.as_str().unwrap_or("event")),
            "detail": event, "actor": event.actor,
        });
        moments.push(Moment {
            at: event.at.0,
            id: format!("{}#{}", event.deal_id, event.at.0),
            view,
        });
    }
    for link in &contact.linked_visitors {
        let Ok(site) = SiteId::parse(&link.site) else {
            continue;
        };
        let sessions = state
            .behavior
            .list_sessions(&site, &link.visitor, SESSIONS_PER_VISITOR)
            .await?;
        for session in sessions {
            let view = json!({
                "type": "web_session", "id": session.session, "at": rfc3339(session.started_at),
                "summary": format!("web session on {}: {} page views", link.site, session.totals.page_views),
                "detail": {"site": link.site, "visitor": link.visitor, "pages": session.pages,
                           "ended_at": rfc3339(session.last_seen), "scores": session.scores},
            });
            moments.push(Moment {
                at: session.started_at.0,
                id: session.session,
                view,
            });
        }
    }
    moments.retain(|moment| older(moment.at, &moment.id));
    moments.sort_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
    let more = moments.len() > limit;
    moments.truncate(limit);
    let next = more
        .then(|| {
            moments
                .last()
                .map(|last| encode_position(last.at, &last.id))
        })
        .flatten();
    let views = moments.into_iter().map(|moment| moment.view).collect();
    Ok(envelope::page(views, next))
}

fn encode_position(at: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("t:{at}:{id}"))
}

fn decode_position(cursor: &str) -> Option<(i64, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("t:")?;
    let (at, id) = rest.split_once(':')?;
    Some((at.parse().ok()?, id.to_owned()))
}
