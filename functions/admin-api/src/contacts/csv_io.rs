//! CSV import (upsert by email, per-row errors) and export of contacts.

use std::collections::BTreeSet;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use crm_domain::contacts::csv_row::{columns, export_header, export_row, row_patch};
use crm_domain::contacts::{ContactPatch, Email};
use crm_domain::records::{Action, Resource};
use crm_store::repo::crm::ContactSort;
use crm_store::table::Cursor;
use serde::Deserialize;
use serde_json::json;

use super::crud::{create, segment_member_page, update};
use crate::caller::Caller;
use crate::envelope;
use crate::error::ApiError;
use crate::extract::{ApiQuery, IfMatch, body_bytes, has_content_type};
use crate::routes::AdminState;

/// Rows one import request may hold; larger files are split by the client.
pub const MAX_IMPORT_ROWS: usize = 5000;
pub const MAX_EXPORT_PAGE: usize = 5000;
pub const DEFAULT_EXPORT_PAGE: usize = 1000;
/// The response header carrying the cursor of the next export page.
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

#[utoipa::path(post, path = "/crm/contacts/import", tag = "contacts",
    request_body(content = String, content_type = "text/csv", description = "a header row (email required; see docs/crm-api.md for the columns) and up to 5000 rows"),
    responses((status = 200, description = "created, updated and per-row errors", body = crate::openapi::Envelope),
              (status = 415, description = "not text/csv", body = crate::openapi::ErrorEnvelope),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn import_contacts(
    State(state): State<AdminState>,
    caller: Caller,
    request: Request,
) -> Result<Response, ApiError> {
    caller.require(Action::Import, Resource::Contact)?;
    if !has_content_type(request.headers(), "text/csv") {
        return Err(ApiError::UnsupportedMediaType(
            "the body must be CSV (Content-Type: text/csv)".to_owned(),
        ));
    }
    let bytes = body_bytes(request, &()).await?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes.as_ref());
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| ApiError::validation("header", error.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let columns = columns(&header).map_err(super::invalid)?;
    let (mut created, mut updated) = (0usize, 0usize);
    let mut errors = Vec::new();
    for (index, record) in reader.records().enumerate() {
        // Row numbers as a spreadsheet shows them: the header is row 1.
        let row = index + 2;
        if index >= MAX_IMPORT_ROWS {
            return Err(ApiError::PayloadTooLarge(format!(
                "at most {MAX_IMPORT_ROWS} rows per import; rows up to {} were processed",
                row - 1
            )));
        }
        let outcome = match record {
            Ok(record) => {
                let cells: Vec<String> = record.iter().map(str::to_owned).collect();
                match row_patch(&columns, &cells) {
                    Ok(patch) => upsert(&state, &caller, patch).await,
                    Err(problems) => Err(super::invalid(problems)),
                }
            }
            Err(error) => Err(ApiError::validation("row", error.to_string())),
        };
        match outcome {
            Ok(true) => created += 1,
            Ok(false) => updated += 1,
            Err(ApiError::Unavailable(cause)) => return Err(ApiError::Unavailable(cause)),
            Err(error) => errors.push(row_error(row, error)),
        }
    }
    Ok(envelope::ok(json!({
        "created": created,
        "updated": updated,
        "failed": errors.len(),
        "errors": errors,
    })))
}

/// Inserts or updates by email; true when the contact was created.
async fn upsert(
    state: &AdminState,
    caller: &Caller,
    patch: ContactPatch,
) -> Result<bool, ApiError> {
    let email = patch
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|error| ApiError::validation("email", error.to_string()))?
        .ok_or_else(|| ApiError::validation("email", "is required"))?;
    match state.contacts.id_by_email(&email.normalized()).await? {
        Some(id) => update(state, caller, &id, IfMatch(None), patch)
            .await
            .map(|_| false),
        None => create(state, caller, patch).await.map(|_| true),
    }
}

fn row_error(row: usize, error: ApiError) -> serde_json::Value {
    let details = match &error {
        ApiError::Validation { details, .. } | ApiError::Conflict { details, .. } => {
            details.clone()
        }
        _ => serde_json::Value::Null,
    };
    json!({ "row": row, "message": error.to_string(), "details": details })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    segment_id: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/crm/contacts/export", tag = "contacts",
    params(("segment_id" = Option<String>, Query, description = "only this segment's members, in membership order"),
           ("limit" = Option<usize>, Query, description = "rows per file, 1..=5000, default 1000"),
           ("cursor" = Option<String>, Query, description = "the X-Next-Cursor header of the previous file")),
    responses((status = 200, description = "text/csv in creation order (membership order with segment_id); X-Next-Cursor when more follow", content_type = "text/csv", body = String),
              (status = "4XX", description = "error", body = crate::openapi::ErrorEnvelope)))]
pub async fn export_contacts(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    caller.require(Action::Export, Resource::Contact)?;
    let limit = params.limit.unwrap_or(DEFAULT_EXPORT_PAGE);
    if !(1..=MAX_EXPORT_PAGE).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            format!("must be 1 to {MAX_EXPORT_PAGE}"),
        ));
    }
    let cursor = params.cursor.map(Cursor);
    let (contacts, next) = match &params.segment_id {
        Some(segment) => segment_member_page(&state, segment, limit, cursor).await?,
        None => {
            state
                .contacts
                .list(ContactSort::CreatedAsc, None, limit, cursor, limit, |_| {
                    true
                })
                .await?
        }
    };
    let custom_keys: Vec<String> = contacts
        .iter()
        .flat_map(|contact| contact.custom_fields.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, row: Vec<String>| {
        writer.write_record(&row).map_err(ApiError::internal)
    };
    write(&mut writer, export_header(&custom_keys))?;
    for contact in &contacts {
        write(&mut writer, export_row(contact, &custom_keys))?;
    }
    let body = writer.into_inner().map_err(ApiError::internal)?;
    let mut response = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    if let Some(cursor) = next.and_then(|cursor| HeaderValue::from_str(&cursor.0).ok()) {
        response.headers_mut().insert(NEXT_CURSOR_HEADER, cursor);
    }
    Ok(response)
}
