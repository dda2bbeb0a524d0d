//! The success envelope: `{"success": true, "data": …, "meta": {…}}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

pub fn ok<T: Serialize>(data: T) -> Response {
    Json(json!({ "success": true, "data": data, "meta": {} })).into_response()
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
