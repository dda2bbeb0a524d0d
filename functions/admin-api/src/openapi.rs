//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations and the
//! list of routes the Router is built from (`routes!` in `routes.rs`), served at
//! `/api/openapi.json`. It is built on the first request for it, not at start. A route registered
//! any other way would be undocumented: `tests/api/foundation.rs` fails when the document and the
//! Router disagree.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CRM admin API",
        description = "Contacts, leads, deals, pipelines, segments, GDPR, sites, audit and behavior. \
                       See docs/crm-api.md.",
        version = "1"
    ),
    security(("bearer" = [])),
    modifiers(&BearerAuth),
    components(schemas(Envelope, ErrorEnvelope))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// `{"success": true, "data": …, "meta": {…}}`; lists put `count` and `next_cursor` in `meta`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct Envelope {
    success: bool,
    #[schema(value_type = Object)]
    data: serde_json::Value,
    #[schema(value_type = Object)]
    meta: serde_json::Value,
}

/// `{"success": false, "error": {"code", "message", "details"}}`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ErrorEnvelope {
    success: bool,
    #[schema(value_type = Object)]
    error: serde_json::Value,
}

/// The rendered document, built on first use: at cold start it would cost the Lambda about as
/// much CPU as the rest of its start, for a route few requests take.
static DOCUMENT: LazyLock<String> = LazyLock::new(crate::routes::openapi_document);

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "this document"))
)]
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}
