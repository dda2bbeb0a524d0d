//! The files crm-local serves besides the APIs: the tracker at `/t.js` and the demo shop under
//! `/demo/`, compiled into the binary so `cargo run` needs nothing else on disk.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const TRACKER: &str = include_str!("../../../shared/tracker/tracker.min.js");

/// Demo pages: (file name, content type, contents).
const DEMO_FILES: [(&str, &str, &str); 7] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../demo/index.html"),
    ),
    (
        "pricing.html",
        "text/html; charset=utf-8",
        include_str!("../demo/pricing.html"),
    ),
    (
        "contact.html",
        "text/html; charset=utf-8",
        include_str!("../demo/contact.html"),
    ),
    (
        "consent.html",
        "text/html; charset=utf-8",
        include_str!("../demo/consent.html"),
    ),
    (
        "demo.css",
        "text/css; charset=utf-8",
        include_str!("../demo/demo.css"),
    ),
    (
        "demo.js",
        "text/javascript; charset=utf-8",
        include_str!("../demo/demo.js"),
    ),
    (
        "price-list.csv",
        "text/csv; charset=utf-8",
        include_str!("../demo/price-list.csv"),
    ),
];

pub fn routes() -> Router {
    Router::new()
        .route("/t.js", get(tracker))
        .route("/demo", get(|| async { Redirect::permanent("/demo/") }))
        .route("/demo/", get(|| async { demo_file("index.html") }))
        .route(
            "/demo/{file}",
            get(|Path(file): Path<String>| async move { demo_file(&file) }),
        )
}

/// The tracker, revalidated by ETag so a new build reaches browsers within minutes.
async fn tracker(headers: HeaderMap) -> Response {
    let etag = format!("\"{:016x}\"", fnv1a(TRACKER.as_bytes()));
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value == etag);
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            TRACKER,
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    response
}

fn demo_file(name: &str) -> Response {
    match DEMO_FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, contents)) => {
            ([(header::CONTENT_TYPE, *content_type)], *contents).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such demo page").into_response(),
    }
}

/// A stable 64-bit fingerprint (FNV-1a) for the ETag; not a security boundary.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
