//! What the part-B handlers share: domain violations as API errors, audit entries, the
//! default pipeline's seeding.

use crm_domain::deals::{Pipeline, Violations};
use crm_domain::records::Role;
use crm_domain::time::Millis;
use crm_store::repo::crm::pipelines::{self, PipelineRecord, PipelineRepo, StoredPipeline};
use crm_store::repo::crm::{AuditEntry, Change, CommitError, commit};
use serde::Serialize;
use serde_json::Value;

use crate::caller::{Caller, new_id};
use crate::error::ApiError;
use crate::routes::AdminState;

/// Field problems as a 400 `VALIDATION_ERROR`, each under its path.
pub fn invalid(violations: Violations) -> ApiError {
    ApiError::fields(violations.by_path())
        .unwrap_or_else(|| ApiError::validation("body", "is invalid"))
}

/// Segment rules the domain cannot accept are 422, with every offending path in `details`.
pub fn unprocessable(violations: Violations) -> ApiError {
    if !violations.0.iter().any(|v| v.path.starts_with("rules")) {
        return invalid(violations);
    }
    ApiError::Unprocessable {
        message: violations.to_string(),
        details: serde_json::json!(violations.by_path()),
    }
}

pub fn as_json<T: Serialize>(record: Option<&T>) -> Value {
    record
        .and_then(|record| serde_json::to_value(record).ok())
        .unwrap_or(Value::Null)
}

pub fn audit_entry<T: Serialize>(
    caller: &Caller,
    entity_type: &str,
    entity_id: &str,
    action: &str,
    before: Option<&T>,
    after: Option<&T>,
    now: Millis,
) -> AuditEntry {
    AuditEntry::new(
        new_id(),
        now,
        &caller.actor(),
        entity_type,
        entity_id,
        action,
        &as_json(before),
        &as_json(after),
    )
}

/// Every pipeline, after creating the default one if the store has none yet. Two first requests
/// racing both try; the seeded marker lets one win and the other reads its pipeline.
pub async fn pipelines_seeded(state: &AdminState) -> Result<Vec<StoredPipeline>, ApiError> {
    let repo = PipelineRepo::new(state.table.clone());
    let existing = repo.list().await?;
    if !existing.is_empty() {
        return Ok(existing);
    }
    // Seeded since the list was read: list again, or a racing first request would answer empty.
    if pipelines::default_seeded(&*state.table).await? {
        return Ok(repo.list().await?);
    }
    let now = state.clock.now();
    let record = PipelineRecord {
        pipeline: Pipeline::default_pipeline(new_id(), new_id),
        created_at: now,
        updated_at: now,
    };
    let system = Caller {
        subject: "system".to_owned(),
        role: Role::Admin,
    };
    let mut change = Change::new();
    pipelines::seed_items(&mut change, &record)?;
    change.audit(&audit_entry(
        &system,
        "pipeline",
        &record.pipeline.id,
        "create",
        None,
        Some(&record.pipeline),
        now,
    ))?;
    match commit(&*state.table, change).await {
        Ok(()) | Err(CommitError::Conflict { .. }) => Ok(repo.list().await?),
        Err(error) => Err(error.into()),
    }
}

/// The default pipeline (seeding it if needed).
pub async fn default_pipeline(state: &AdminState) -> Result<StoredPipeline, ApiError> {
    pipelines_seeded(state)
        .await?
        .into_iter()
        .find(|stored| stored.record.pipeline.is_default)
        .ok_or_else(|| {
            ApiError::conflict("the store has no default pipeline; make one the default")
        })
}
