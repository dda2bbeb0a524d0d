//! The Router: which path goes to which handler, and the state they share.
//!
//! Every route is registered through utoipa-axum's `routes!`, which puts it in the Router and in
//! the OpenAPI document at once. Everything under `/api/admin` is behind `require_token`.

use std::sync::Arc;

use axum::http::{StatusCode, Uri};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use crm_store::clock::Clock;
use crm_store::repo::crm::{AuditRepo, ContactRepo};
use crm_store::repo::{BehaviorRepo, SiteRepo};
use crm_store::table::Table;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{TokenVerifier, require_token};
use crate::error::ApiError;
use crate::openapi::{self, ApiDoc, OpenApiJson};
use crate::{audit, behavior, contacts, sales, sites};

/// Everything the handlers need, built once per process.
#[derive(Clone)]
pub struct AdminState {
    pub table: Arc<dyn Table>,
    pub behavior: BehaviorRepo,
    pub sites: SiteRepo,
    pub audit: AuditRepo,
    pub contacts: ContactRepo,
    pub tokens: TokenVerifier,
    pub clock: Arc<dyn Clock>,
}

impl AdminState {
    pub fn new(table: Arc<dyn Table>, tokens: TokenVerifier, clock: Arc<dyn Clock>) -> AdminState {
        AdminState {
            behavior: BehaviorRepo::new(table.clone()),
            sites: SiteRepo::new(table.clone()),
            audit: AuditRepo::new(table.clone()),
            contacts: ContactRepo::new(table.clone()),
            table,
            tokens,
            clock,
        }
    }
}

/// The routes under `/api/admin`, each with its OpenAPI operation.
fn admin_routes() -> OpenApiRouter<AdminState> {
    contacts::register(sales::register(OpenApiRouter::new()))
        .routes(routes!(behavior::dashboard))
        .routes(routes!(behavior::list_visitors))
        .routes(routes!(behavior::get_visitor))
        .routes(routes!(behavior::get_session))
        .routes(routes!(behavior::list_friction_points))
        .routes(routes!(behavior::resolve_friction_point))
        .routes(routes!(behavior::list_intent_signals))
        .routes(routes!(sites::list_sites, sites::create_site))
        .routes(routes!(
            sites::get_site,
            sites::replace_site,
            sites::patch_site,
            sites::delete_site
        ))
        .routes(routes!(audit::list_audit))
}

/// `/health`, `/api/openapi.json` and everything under `/api/admin` (behind a bearer token).
pub fn router(state: AdminState) -> Router {
    let admin = admin_routes()
        .fallback(unknown_route)
        .route_layer(from_fn_with_state(state.clone(), require_token));
    let (router, document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(openapi::openapi_json))
        .nest("/api/admin", admin)
        .with_state(state)
        .split_for_parts();
    let json = document.to_json().unwrap_or_default();
    router
        .layer(Extension(OpenApiJson(Arc::new(json))))
        .layer(map_response(method_not_allowed_as_json))
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    security(()),
    responses((status = 200, description = "the process is up", body = crate::openapi::Envelope))
)]
async fn health() -> Response {
    crate::envelope::ok(serde_json::json!({ "status": "ok" }))
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}

/// axum answers a known path with an unknown method by an empty 405; give it the envelope.
async fn method_not_allowed_as_json(response: Response) -> Response {
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        return ApiError::MethodNotAllowed("this route does not accept that method".to_owned())
            .into_response();
    }
    response
}
