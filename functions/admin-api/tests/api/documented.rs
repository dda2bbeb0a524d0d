//! The operations the OpenAPI document lists, for the tests that cover every route at once
//! (`foundation.rs`, `robustness.rs`).

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

pub const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// One operation of the document.
#[derive(Debug)]
pub struct Operation {
    pub method: String,
    pub path: String,
    /// The path with its parameters filled with "sample-id".
    pub uri: String,
    /// The names of its documented query parameters.
    pub query: Vec<String>,
    /// Its request body's `content` (by media type), `null` when it takes none.
    pub request_body: Value,
}

/// The document the Router serves, checked to be OpenAPI 3.1.
pub async fn openapi_document(app: &TestApp) -> Value {
    let reply = app.send("GET", "/api/openapi.json", None, &[], None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let document: Value = serde_json::from_str(&reply.text).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    document
}

pub fn operations(document: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let query = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "query")
                .map(|parameter| parameter["name"].as_str().unwrap().to_owned())
                .collect();
            operations.push(Operation {
                method,
                path: path.clone(),
                uri: uri_with_ids(path, "sample-id"),
                query,
                request_body: operation["requestBody"]["content"].clone(),
            });
        }
    }
    operations
}

pub async fn documented_operations(app: &TestApp) -> Vec<Operation> {
    operations(&openapi_document(app).await)
}

/// `/contacts/{id}/timeline` → `/contacts/sample-id/timeline` (for `id` "sample-id").
pub fn uri_with_ids(path: &str, id: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                id
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
