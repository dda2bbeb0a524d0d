//! The admin API's one error type, mapped to a status and the JSON error envelope here only.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crm_store::table::TableError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Validation {
        message: String,
        details: serde_json::Value,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("the store is unavailable, try again")]
    Unavailable(String),
}

impl ApiError {
    pub fn validation(field: &str, problem: impl Into<String>) -> ApiError {
        let problem = problem.into();
        ApiError::Validation {
            message: format!("{field}: {problem}"),
            details: json!({ field: [problem] }),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::Validation { .. } => (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
        }
    }
}

impl From<TableError> for ApiError {
    fn from(error: TableError) -> ApiError {
        match error {
            TableError::InvalidCursor => {
                ApiError::validation("cursor", "is not a cursor this API returned")
            }
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Unavailable(cause) = &self {
            tracing::error!(%cause, "store unavailable");
        }
        let details = match &self {
            ApiError::Validation { details, .. } => details.clone(),
            _ => serde_json::Value::Null,
        };
        let body = json!({
            "success": false,
            "error": { "code": code, "message": self.to_string(), "details": details },
        });
        (status, Json(body)).into_response()
    }
}
