//! The admin API's one error type, mapped to a status and the JSON error envelope here only.
//!
//! Field validation is 400 `VALIDATION_ERROR` with `details` per field; a well-formed request
//! that the domain refuses as a whole (a segment rule that cannot be evaluated) is 422
//! `UNPROCESSABLE`; a uniqueness or state clash is 409 `CONFLICT`; a stale `If-Match` is 412.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crm_store::repo::crm::CommitError;
use crm_store::repo::crm::visitor_claims::ClaimError;
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
    #[error("{message}")]
    Unprocessable {
        message: String,
        details: serde_json::Value,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Conflict {
        message: String,
        details: serde_json::Value,
    },
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
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

    /// Several fields at once; `None` when there is nothing to report.
    pub fn fields(problems: BTreeMap<String, Vec<String>>) -> Option<ApiError> {
        let (first, why) = problems.iter().next()?;
        let message = format!("{first}: {}", why.first().map_or("is invalid", |w| w));
        Some(ApiError::Validation {
            message,
            details: json!(problems),
        })
    }

    /// A value of one field clashes with what is stored (a taken email, a visitor another
    /// contact holds): 409 with `details` on that field.
    pub fn field_conflict(field: &str, problem: impl Into<String>) -> ApiError {
        let problem = problem.into();
        ApiError::Conflict {
            message: format!("{field}: {problem}"),
            details: json!({ field: [problem] }),
        }
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::Conflict {
            message: message.into(),
            details: serde_json::Value::Null,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Unavailable(cause.to_string())
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::Validation { .. } => (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
            ApiError::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "UNPROCESSABLE"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::Conflict { .. } => (StatusCode::CONFLICT, "CONFLICT"),
            ApiError::PreconditionFailed(_) => {
                (StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
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

/// A commit whose condition failed without a more specific meaning: the record changed between
/// read and write (the client re-reads and retries). Handlers that know better (a duplicate
/// email, a stale `If-Match`) map the failed item themselves first.
impl From<CommitError> for ApiError {
    fn from(error: CommitError) -> ApiError {
        match error {
            CommitError::Conflict { .. } => {
                ApiError::conflict("the record was changed by another request; read it and retry")
            }
            CommitError::Table(error) => error.into(),
        }
    }
}

/// A visitor in `linked_visitors` that another contact holds: 409 on that field.
impl From<ClaimError> for ApiError {
    fn from(error: ClaimError) -> ApiError {
        match error {
            ClaimError::Taken { .. } => ApiError::field_conflict(
                "linked_visitors",
                format!("{error}; remove it there first"),
            ),
            ClaimError::Table(error) => error.into(),
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
            ApiError::Validation { details, .. }
            | ApiError::Unprocessable { details, .. }
            | ApiError::Conflict { details, .. } => details.clone(),
            _ => serde_json::Value::Null,
        };
        let body = json!({
            "success": false,
            "error": { "code": code, "message": self.to_string(), "details": details },
        });
        (status, Json(body)).into_response()
    }
}
