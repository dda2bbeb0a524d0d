//! Extractors whose rejections speak the API's error envelope instead of axum's plain text:
//! query strings, path parameters, JSON bodies (415 without a JSON content type, 413 over the
//! body limit, 400 with the failing field's path otherwise) and `If-Match`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use crm_domain::records::{MAX_ID_BYTES, is_record_id};
use crm_domain::site::SiteId;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 200;

/// Query parameters parsed into `T`, or a 400 naming what is wrong.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// Path parameters parsed into `T`, or a 400. Every path parameter is a record id: one that
/// cannot be an id (too long for a store key, or with `#`) is a 404 without a store read.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        if raw.iter().any(|(_, value)| !is_record_id(value)) {
            return Err(ApiError::NotFound(format!(
                "nothing has this id: ids are 1 to {MAX_ID_BYTES} printable ASCII characters \
                 other than '#'"
            )));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

/// A JSON body parsed into `T`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !has_content_type(request.headers(), "application/json") {
            return Err(ApiError::UnsupportedMediaType(
                "the body must be JSON (Content-Type: application/json)".to_owned(),
            ));
        }
        let bytes = body_bytes(request, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The raw body, with the body limit reported as 413.
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("the body is larger than this route accepts".to_owned())
            } else {
                ApiError::BadRequest(rejection.body_text())
            }
        })
}

pub fn has_content_type(headers: &axum::http::HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(expected))
}

/// Parses JSON; a value of the wrong shape is a validation error on the field's path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::validation(&field, inner.to_string())
        } else {
            ApiError::BadRequest(format!("the body is not valid JSON: {inner}"))
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::BadRequest(format!("the body is not valid JSON: {error}")))?;
    Ok(value)
}

/// `If-Match: "v3"`: the version the client last read. Absent (or `*`): the write applies to
/// whatever version it reads, last write wins. A tag this API never issued matches nothing (412).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i64>);

impl IfMatch {
    /// 412 unless the client's version is the stored one.
    pub fn check(self, stored: i64) -> Result<(), ApiError> {
        match self.0 {
            Some(expected) if expected != stored => Err(ApiError::PreconditionFailed(format!(
                "If-Match names version {expected}, the record is at version {stored}"
            ))),
            _ => Ok(()),
        }
    }

    pub fn given(self) -> bool {
        self.0.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        let version = text
            .trim_start_matches("W/")
            .trim_matches('"')
            .strip_prefix('v')
            .and_then(|digits| digits.parse::<i64>().ok())
            // A tag we never issued can match no version (-1 is never stored).
            .unwrap_or(-1);
        Ok(IfMatch(Some(version)))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteParams {
    pub site: Option<String>,
}

pub fn require_site(raw: Option<&str>) -> Result<SiteId, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::validation("site", "is required"))?;
    SiteId::parse(raw).map_err(|error| ApiError::validation("site", error.to_string()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub site: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

pub fn page_size(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(limit) if (1..=MAX_PAGE_SIZE).contains(&limit) => Ok(limit),
        Some(_) => Err(ApiError::validation(
            "limit",
            format!("must be between 1 and {MAX_PAGE_SIZE}"),
        )),
    }
}
