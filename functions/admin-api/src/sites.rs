//! `/api/admin/sites` (admin only): which sites may send beacons, from which origins, with
//! which retention.

use axum::extract::State;
use axum::response::Response;
use crm_domain::records::{Action, Resource};
use crm_domain::retention::DEFAULT_SESSION_RETENTION_DAYS;
use crm_domain::site::{DEFAULT_RETENTION_DAYS, SiteConfig, SiteId};
use crm_store::repo::StoredSite;
use crm_store::repo::crm::{AuditEntry, Change, Expect};
use crm_store::table::Cursor;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::caller::{Caller, new_id};
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, page_size};
use crate::routes::AdminState;
use crate::views::rfc3339;
use crate::write::commit_record;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    /// 1–64 characters of a-z, 0-9, `_`, `-`.
    id: String,
    name: String,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default = "default_retention")]
    retention_days: u32,
    /// Days a session keeps its page paths and visitor link (default 180).
    #[serde(default = "default_session_retention")]
    session_retention_days: u32,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteFields {
    name: String,
    /// Exact origins (`https://shop.example`) or `"*"`.
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default = "default_retention")]
    retention_days: u32,
    /// Days a session keeps its page paths and visitor link (default 180).
    #[serde(default = "default_session_retention")]
    session_retention_days: u32,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    name: Option<String>,
    allowed_origins: Option<Vec<String>>,
    retention_days: Option<u32>,
    session_retention_days: Option<u32>,
    enabled: Option<bool>,
}

fn default_retention() -> u32 {
    DEFAULT_RETENTION_DAYS
}

fn default_session_retention() -> u32 {
    DEFAULT_SESSION_RETENTION_DAYS
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Serialize)]
struct SiteView {
    id: String,
    name: String,
    allowed_origins: Vec<String>,
    retention_days: u32,
    session_retention_days: u32,
    enabled: bool,
    version: i64,
    created_at: Option<String>,
    updated_at: Option<String>,
}

impl From<&StoredSite> for SiteView {
    fn from(stored: &StoredSite) -> SiteView {
        // Sites seeded before they were versioned have no timestamps (0).
        let time = |at: crm_domain::time::Millis| (at.0 > 0).then(|| rfc3339(at));
        SiteView {
            id: stored.config.id.to_string(),
            name: stored.config.name.clone(),
            allowed_origins: stored.config.allowed_origins.clone(),
            retention_days: stored.config.retention_days,
            session_retention_days: stored.config.session_retention_days,
            enabled: stored.config.enabled,
            version: stored.version,
            created_at: time(stored.created_at),
            updated_at: time(stored.updated_at),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<usize>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/sites", tag = "sites",
    params(("limit" = Option<usize>, Query, description = "1..=200, default 50"),
           ("cursor" = Option<String>, Query, description = "meta.next_cursor of the previous page")),
    responses((status = 200, description = "sites in id order", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn list_sites(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Site)?;
    let limit = page_size(params.limit)?;
    let (sites, next) = state
        .sites
        .list_page(limit, params.cursor.map(Cursor))
        .await?;
    let views: Vec<SiteView> = sites.iter().map(SiteView::from).collect();
    Ok(envelope::page(views, next.map(|cursor| cursor.0)))
}

#[utoipa::path(post, path = "/sites", tag = "sites", request_body = NewSite,
    responses((status = 201, description = "the site, with its ETag", body = crate::openapi::Envelope),
              (status = 409, description = "a site with that id exists", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn create_site(
    State(state): State<AdminState>,
    caller: Caller,
    ApiJson(input): ApiJson<NewSite>,
) -> Result<Response, ApiError> {
    caller.require(Action::Create, Resource::Site)?;
    let id = SiteId::parse(&input.id);
    // An invalid id is reported with the other fields' problems, checked under a placeholder.
    let id_problem = id.as_ref().err().map(|error| ("id", error.to_string()));
    let config = checked(
        SiteConfig {
            id: id.unwrap_or_else(|_| SiteId::placeholder()),
            name: input.name.trim().to_owned(),
            allowed_origins: input.allowed_origins,
            retention_days: input.retention_days,
            session_retention_days: input.session_retention_days,
            enabled: input.enabled,
        },
        id_problem,
    )?;
    let now = state.clock.now();
    // A deleted site's id may be taken again: the new site replaces the tombstone, and the data
    // its visitors left that retention has not swept yet belongs to the new site.
    let tombstone = state
        .sites
        .get_stored(&config.id)
        .await?
        .filter(StoredSite::is_deleted);
    let stored = StoredSite {
        config,
        version: tombstone.as_ref().map_or(1, |deleted| deleted.version + 1),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let expect = tombstone
        .as_ref()
        .map_or(Expect::Absent, |deleted| Expect::Version(deleted.version));
    let mut change = Change::new();
    let record = change.put(stored.item()?, expect);
    change.audit(&site_audit(
        &caller,
        &stored,
        "create",
        tombstone.as_ref(),
        Some(&stored),
        now,
    ))?;
    match commit_record(&*state.table, change, record, IfMatch(None)).await {
        Err(ApiError::Conflict { .. }) => Err(ApiError::conflict(format!(
            "a site with id {} exists",
            stored.config.id
        ))),
        other => other,
    }?;
    Ok(envelope::created(SiteView::from(&stored), stored.version))
}

#[utoipa::path(get, path = "/sites/{id}", tag = "sites",
    params(("id" = String, Path, description = "site id")),
    responses((status = 200, description = "the site; ETag header", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn get_site(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    caller.require(Action::Read, Resource::Site)?;
    let stored = load(&state, &id).await?;
    Ok(envelope::versioned(SiteView::from(&stored), stored.version))
}

#[utoipa::path(put, path = "/sites/{id}", tag = "sites", request_body = SiteFields,
    params(("id" = String, Path, description = "site id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the site; ETag header", body = crate::openapi::Envelope),
              (status = 412, description = "If-Match is stale", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn replace_site(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(fields): ApiJson<SiteFields>,
) -> Result<Response, ApiError> {
    let patch = SitePatch {
        name: Some(fields.name),
        allowed_origins: Some(fields.allowed_origins),
        retention_days: Some(fields.retention_days),
        session_retention_days: Some(fields.session_retention_days),
        enabled: Some(fields.enabled),
    };
    update(state, caller, id, if_match, patch).await
}

#[utoipa::path(patch, path = "/sites/{id}", tag = "sites", request_body = SitePatch,
    params(("id" = String, Path, description = "site id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "the site; ETag header", body = crate::openapi::Envelope),
              (status = 412, description = "If-Match is stale", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn patch_site(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
    ApiJson(patch): ApiJson<SitePatch>,
) -> Result<Response, ApiError> {
    update(state, caller, id, if_match, patch).await
}

#[utoipa::path(delete, path = "/sites/{id}", tag = "sites",
    params(("id" = String, Path, description = "site id"),
           ("If-Match" = Option<String>, Header, description = "ETag last read; 412 when stale")),
    responses((status = 200, description = "deleted: gone from every route, its beacons dropped; \
the next retention run deletes its raw events and anonymizes its sessions", body = crate::openapi::Envelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn delete_site(
    State(state): State<AdminState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    caller.require(Action::Delete, Resource::Site)?;
    let stored = load(&state, &id).await?;
    if_match.check(stored.version)?;
    let now = state.clock.now();
    let mut change = Change::new();
    let record = change.put(
        stored.tombstone(now).item()?,
        Expect::Version(stored.version),
    );
    change.audit(&site_audit(
        &caller,
        &stored,
        "delete",
        Some(&stored),
        None,
        now,
    ))?;
    commit_record(&*state.table, change, record, if_match).await?;
    Ok(envelope::ok(json!({ "id": id, "deleted": true })))
}

async fn update(
    state: AdminState,
    caller: Caller,
    id: String,
    if_match: IfMatch,
    patch: SitePatch,
) -> Result<Response, ApiError> {
    caller.require(Action::Update, Resource::Site)?;
    let current = load(&state, &id).await?;
    if_match.check(current.version)?;
    let mut config = current.config.clone();
    if let Some(name) = patch.name {
        config.name = name.trim().to_owned();
    }
    if let Some(origins) = patch.allowed_origins {
        config.allowed_origins = origins;
    }
    if let Some(days) = patch.retention_days {
        config.retention_days = days;
    }
    if let Some(days) = patch.session_retention_days {
        config.session_retention_days = days;
    }
    if let Some(enabled) = patch.enabled {
        config.enabled = enabled;
    }
    let now = state.clock.now();
    let updated = StoredSite {
        config: validated(config)?,
        version: current.version + 1,
        created_at: if current.created_at.0 > 0 {
            current.created_at
        } else {
            now
        },
        updated_at: now,
        deleted_at: None,
    };
    let mut change = Change::new();
    let record = change.put(updated.item()?, Expect::Version(current.version));
    change.audit(&site_audit(
        &caller,
        &updated,
        "update",
        Some(&current),
        Some(&updated),
        now,
    ))?;
    commit_record(&*state.table, change, record, if_match).await?;
    Ok(envelope::versioned(
        SiteView::from(&updated),
        updated.version,
    ))
}

/// A live site; a deleted one is not found.
async fn load(state: &AdminState, raw: &str) -> Result<StoredSite, ApiError> {
    let missing = || ApiError::NotFound(format!("no site {raw}"));
    let id = SiteId::parse(raw).map_err(|_| missing())?;
    state
        .sites
        .get_stored(&id)
        .await?
        .filter(|stored| !stored.is_deleted())
        .ok_or_else(missing)
}

fn validated(config: SiteConfig) -> Result<SiteConfig, ApiError> {
    checked(config, None)
}

/// The configuration, or every problem of it and the `earlier` one in one 400.
fn checked(
    config: SiteConfig,
    earlier: Option<(&'static str, String)>,
) -> Result<SiteConfig, ApiError> {
    let mut problems = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (field, problem) in earlier.into_iter().chain(config.problems()) {
        problems.entry(field.to_owned()).or_default().push(problem);
    }
    match ApiError::fields(problems) {
        Some(error) => Err(error),
        None => Ok(config),
    }
}

fn site_audit(
    caller: &Caller,
    site: &StoredSite,
    action: &str,
    before: Option<&StoredSite>,
    after: Option<&StoredSite>,
    now: crm_domain::time::Millis,
) -> AuditEntry {
    let json = |stored: Option<&StoredSite>| {
        stored
            .and_then(|stored| serde_json::to_value(&stored.config).ok())
            .unwrap_or(serde_json::Value::Null)
    };
    AuditEntry::new(
        new_id(),
        now,
        &caller.actor(),
        "site",
        site.config.id.as_str(),
        action,
        &json(before),
        &json(after),
    )
}
