//! `GET /api/admin/audit` (admin only): every audited write, newest first, filtered by entity
//! (`entity_type` + `entity_id`) or by actor (`actor`, a token subject), or both.

use axum::extract::State;
use axum::response::Response;
use crm_domain::records::{Action, FieldChange, Resource, Role};
use crm_store::repo::crm::{AuditEntry, AuditFilter};
use crm_store::table::Cursor;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiQuery, page_size};
use crate::routes::AdminState;
use crate::views::rfc3339;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[derive(Debug, Serialize)]
struct AuditView {
    id: String,
    at: String,
    actor: String,
    actor_role: Role,
    entity_type: String,
    entity_id: String,
    action: String,
    changes: BTreeMap<String, FieldChange>,
}

impl From<AuditEntry> for AuditView {
    fn from(entry: AuditEntry) -> AuditView {
        AuditView {
            id: entry.id,
            at: rfc3339(entry.at),
            actor: entry.actor,
            actor_role: entry.actor_role,
            entity_type: entry.entity_type,
            entity_id: entry.entity_id,
            action: entry.action,
            changes: entry.changes,
        }
    }
}

#[utoipa::path(get, path = "/audit", tag = "audit",
    params(("entity_type" = Option<String>, Query, description = "contact, deal, site…; with entity_id"),
           ("entity_id" = Option<String>, Query, description = "with entity_type"),
           ("actor" = Option<String>, Query, description = "token subject"),
           ("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "audit entries, newest first", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_audit(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Audit)?;
    let limit = page_size(params.limit)?;
    let filter = match (params.entity_type, params.entity_id, &params.actor) {
        (Some(entity_type), Some(entity_id), _) => AuditFilter::Entity {
            entity_type,
            entity_id,
        },
        (None, None, Some(actor)) => AuditFilter::Actor(actor.clone()),
        (None, None, None) => AuditFilter::All,
        (Some(_), None, _) => {
            return Err(ApiError::validation(
                "entity_id",
                "is required with entity_type",
            ));
        }
        (None, Some(_), _) => {
            return Err(ApiError::validation(
                "entity_type",
                "is required with entity_id",
            ));
        }
    };
    let (entries, next) = state
        .audit
        .list(&filter, limit, params.cursor.map(Cursor))
        .await?;
    // Entity and actor together: the entity's history (short), narrowed to the actor.
    let views: Vec<AuditView> = entries
        .into_iter()
        .filter(|entry| {
            params
                .actor
                .as_deref()
                .is_none_or(|actor| entry.actor == actor)
        })
        .map(AuditView::from)
        .collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}
