//! Which handler a request goes to, and the small answers that need no configuration.

use crate::http::{EdgeResponse, RequestHead};

/// The worker's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /e`
    Beacon,
    /// `OPTIONS /e`
    Preflight,
    /// `GET|HEAD /t.js`
    Tracker,
    /// `GET|HEAD /health`
    Health,
    /// A known path with another method; the value is the `Allow` header.
    MethodNotAllowed(&'static str),
    NotFound,
}

pub fn route(head: &RequestHead) -> Route {
    let method = head.method.as_str();
    match head.path.as_str() {
        "/e" => match method {
            "POST" => Route::Beacon,
            "OPTIONS" => Route::Preflight,
            _ => Route::MethodNotAllowed("POST, OPTIONS"),
        },
        "/t.js" => match method {
            "GET" | "HEAD" => Route::Tracker,
            _ => Route::MethodNotAllowed("GET, HEAD"),
        },
        "/health" => match method {
            "GET" | "HEAD" => Route::Health,
            _ => Route::MethodNotAllowed("GET, HEAD"),
        },
        _ => Route::NotFound,
    }
}

/// `{"status": "ok"}`: the worker runs. It does not touch the queue or SQS (a probe must not
/// cost a queue operation).
pub fn health() -> EdgeResponse {
    EdgeResponse::json(200, r#"{"status":"ok"}"#.to_owned())
        .with_header("cache-control", "no-store")
}

pub fn method_not_allowed(allow: &'static str) -> EdgeResponse {
    EdgeResponse::error(405, "method_not_allowed", "this method is not allowed here")
        .with_header("allow", allow)
}

pub fn not_found(head: &RequestHead) -> EdgeResponse {
    EdgeResponse::error(404, "not_found", &format!("no route {}", head.path))
}

/// The configuration is broken: nothing can be accepted until an admin fixes it (the log says
/// which variable).
pub fn misconfigured() -> EdgeResponse {
    EdgeResponse::error(
        500,
        "misconfigured",
        "the ingest worker is not configured correctly; see its logs",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route_of(method: &str, path: &str) -> Route {
        route(&RequestHead::new(method, path, "", |_| None))
    }

    #[test]
    fn each_path_answers_its_methods() {
        assert_eq!(route_of("POST", "/e"), Route::Beacon);
        assert_eq!(route_of("options", "/e"), Route::Preflight);
        assert_eq!(
            route_of("GET", "/e"),
            Route::MethodNotAllowed("POST, OPTIONS")
        );
        assert_eq!(route_of("GET", "/t.js"), Route::Tracker);
        assert_eq!(route_of("HEAD", "/t.js"), Route::Tracker);
        assert_eq!(
            route_of("POST", "/t.js"),
            Route::MethodNotAllowed("GET, HEAD")
        );
        assert_eq!(route_of("GET", "/health"), Route::Health);
        assert_eq!(route_of("GET", "/e/"), Route::NotFound);
        assert_eq!(route_of("GET", "/"), Route::NotFound);
    }

    #[test]
    fn small_answers_use_the_error_shape() {
        assert_eq!(health().status, 200);
        let refused = method_not_allowed("GET, HEAD");
        assert_eq!(
            (refused.status, refused.header("allow")),
            (405, Some("GET, HEAD"))
        );
        let missing = not_found(&RequestHead::new("GET", "/nope", "", |_| None));
        assert!(missing.body.as_str().contains("no route /nope"));
        assert_eq!(misconfigured().status, 500);
    }
}
