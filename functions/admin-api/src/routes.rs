//! The Router: which path goes to which handler, and the state they share.

use std::sync::Arc;

use axum::Router;
use axum::http::Uri;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch};
use crm_store::clock::Clock;
use crm_store::repo::{BehaviorRepo, SiteRepo};
use crm_store::table::Table;

use crate::auth::{TokenVerifier, require_token};
use crate::behavior;
use crate::error::ApiError;

/// Everything the handlers need, built once per process.
#[derive(Clone)]
pub struct AdminState {
    pub behavior: BehaviorRepo,
    pub sites: SiteRepo,
    pub tokens: TokenVerifier,
    pub clock: Arc<dyn Clock>,
}

impl AdminState {
    pub fn new(table: Arc<dyn Table>, tokens: TokenVerifier, clock: Arc<dyn Clock>) -> AdminState {
        AdminState {
            behavior: BehaviorRepo::new(table.clone()),
            sites: SiteRepo::new(table),
            tokens,
            clock,
        }
    }
}

/// `/health` and everything under `/api/admin` (all of it behind a bearer token).
pub fn router(state: AdminState) -> Router {
    let admin = Router::new()
        .route("/behavior/dashboard", get(behavior::dashboard))
        .route("/behavior/visitors", get(behavior::list_visitors))
        .route("/behavior/visitors/{id}", get(behavior::get_visitor))
        .route("/behavior/sessions/{id}", get(behavior::get_session))
        .route(
            "/behavior/friction-points",
            get(behavior::list_friction_points),
        )
        .route(
            "/behavior/friction-points/{id}/resolve",
            patch(behavior::resolve_friction_point),
        )
        .route(
            "/behavior/intent-signals",
            get(behavior::list_intent_signals),
        )
        .fallback(unknown_route)
        .route_layer(from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/health", get(health))
        .nest("/api/admin", admin)
        .with_state(state)
}

async fn health() -> axum::response::Response {
    crate::envelope::ok(serde_json::json!({ "status": "ok" }))
}

async fn unknown_route(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route {}", uri.path()))
}
