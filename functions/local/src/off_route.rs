//! Answers off crm-local's own routes (the beacon endpoint, the tracker, the demo shop): an
//! unknown path or method gets a JSON error in the beacon contract's shape, as the edge worker
//! answers, instead of axum's empty 404 and 405. The admin API answers its own in its envelope.

use axum::Router;
use axum::http::header::ALLOW;
use axum::http::{StatusCode, Uri};
use axum::middleware::map_response;
use axum::response::Response;

use crate::ingest::error_body;

/// `routes`, answering a method they do not take with a JSON 405.
pub fn with_json_errors(routes: Router) -> Router {
    routes.layer(map_response(method_not_allowed_as_json))
}

/// The app's fallback: no route has this path.
pub async fn no_route(uri: Uri) -> Response {
    error_body(
        StatusCode::NOT_FOUND,
        "not_found",
        &format!("no route {}", uri.path()),
    )
}

/// axum answers a known path with an unknown method by an empty 405 carrying `Allow`; keep the
/// header, give it a body.
async fn method_not_allowed_as_json(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let mut answer = error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not allowed here",
    );
    if let Some(allow) = response.headers().get(ALLOW) {
        answer.headers_mut().insert(ALLOW, allow.clone());
    }
    answer
}
