//! `GET /t.js`: the tracker script (`shared/tracker/tracker.min.js`, built into the worker),
//! cacheable for a day by browsers and a week by shared caches, revalidated with an `ETag`.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::http::{Body, EdgeResponse, RequestHead};

pub const TRACKER_JS: &str = include_str!("../../../shared/tracker/tracker.min.js");

/// The URL is not versioned, so the cache lifetime bounds how long an old script may live on;
/// after it expires the `ETag` makes revalidation a bodiless `304`.
pub const CACHE_CONTROL: &str =
    "public, max-age=86400, s-maxage=604800, stale-while-revalidate=86400";

/// A strong validator: the first 128 bits of the script's SHA-256, quoted.
pub fn etag() -> &'static str {
    static ETAG: OnceLock<String> = OnceLock::new();
    ETAG.get_or_init(|| {
        let digest = Sha256::digest(TRACKER_JS.as_bytes());
        format!("\"{}\"", hex::encode(&digest[..16]))
    })
}

/// `200` with the script, or `304` when `If-None-Match` already names it. `HEAD` gets the
/// headers alone.
pub fn serve(head: &RequestHead) -> EdgeResponse {
    let response = EdgeResponse::empty(200)
        .with_header("content-type", "application/javascript; charset=utf-8")
        .with_header("cache-control", CACHE_CONTROL)
        .with_header("etag", etag())
        .with_header("cross-origin-resource-policy", "cross-origin")
        .with_header("x-content-type-options", "nosniff");
    if head
        .header("if-none-match")
        .is_some_and(|validators| matches_etag(validators, etag()))
    {
        let mut not_modified = response;
        not_modified.status = 304;
        return not_modified;
    }
    if head.method == "HEAD" {
        return response;
    }
    response.with_body(Body::Static(TRACKER_JS))
}

/// `If-None-Match` uses weak comparison: `W/"x"` matches `"x"`, and `*` matches anything.
fn matches_etag(validators: &str, etag: &str) -> bool {
    validators.split(',').map(str::trim).any(|validator| {
        validator == "*" || validator.strip_prefix("W/").unwrap_or(validator) == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(if_none_match: Option<&str>) -> EdgeResponse {
        let head = RequestHead::new("GET", "/t.js", "", |name| {
            (name == "if-none-match")
                .then(|| if_none_match.map(str::to_owned))
                .flatten()
        });
        serve(&head)
    }

    #[test]
    fn the_script_is_served_with_long_cache_headers_and_an_etag() {
        let response = get(None);
        assert_eq!(response.status, 200);
        assert_eq!(response.body.as_str(), TRACKER_JS);
        assert!(!TRACKER_JS.is_empty());
        assert_eq!(response.header("cache-control"), Some(CACHE_CONTROL));
        let etag = response.header("etag").expect("an etag");
        assert_eq!(etag.len(), 34);
        assert!(etag.starts_with('"') && etag.ends_with('"'));
    }

    #[test]
    fn a_matching_if_none_match_gets_304_without_body() {
        let weak = format!("\"other\", W/{}", etag());
        for validators in [etag(), weak.as_str(), "*"] {
            let response = get(Some(validators));
            assert_eq!(response.status, 304, "{validators}");
            assert_eq!(response.body, Body::Empty);
            assert_eq!(response.header("etag"), Some(etag()));
        }
        assert_eq!(get(Some("\"stale\"")).status, 200);
    }

    #[test]
    fn head_gets_the_headers_only() {
        let head = RequestHead::new("HEAD", "/t.js", "", |_| None);
        let response = serve(&head);
        assert_eq!(response.status, 200);
        assert_eq!(response.body, Body::Empty);
    }
}
