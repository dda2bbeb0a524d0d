//! The success envelope: `{"success": true, "data": …, "meta": {…}}`; versioned records also
//! carry their version as an `ETag` header (`"v3"`), which `If-Match` sends back.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

pub fn ok<T: Serialize>(data: T) -> Response {
    Json(json!({ "success": true, "data": data, "meta": {} })).into_response()
}

/// A versioned record, with its `ETag`.
pub fn versioned<T: Serialize>(data: T, version: i64) -> Response {
    with_etag(ok(data), version)
}

/// A record just created: 201 with its `ETag`.
pub fn created<T: Serialize>(data: T, version: i64) -> Response {
    let mut response = versioned(data, version);
    *response.status_mut() = StatusCode::CREATED;
    response
}

pub fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn with_etag(mut response: Response, version: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// A page of a list; `next_cursor` is null on the last page.
pub fn page<T: Serialize>(items: Vec<T>, next_cursor: Option<String>) -> Response {
    let count = items.len();
    Json(json!({
        "success": true,
        "data": items,
        "meta": { "count": count, "next_cursor": next_cursor },
    }))
    .into_response()
}
