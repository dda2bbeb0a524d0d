//! Extractors whose rejections speak the API's error envelope instead of axum's plain text.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
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

#[derive(Debug, Deserialize)]
pub struct SiteParams {
    pub site: Option<String>,
}

pub fn require_site(raw: Option<&str>) -> Result<SiteId, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::validation("site", "is required"))?;
    SiteId::parse(raw).map_err(|error| ApiError::validation("site", error.to_string()))
}

#[derive(Debug, Deserialize)]
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
