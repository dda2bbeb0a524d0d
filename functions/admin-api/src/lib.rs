//! admin-api: the CRM's admin HTTP API as one axum [`Router`](axum::Router).
//!
//! crm-local serves it over TCP; the admin-api Lambda serves the very same Router through
//! lambda_http. Every admin route requires a bearer JWT; every response uses one JSON envelope
//! (`{"success": true, "data": …, "meta": …}` or `{"success": false, "error": …}`); errors are
//! mapped to HTTP exactly once, in [`error::ApiError`]. Never depends on a runtime or an adapter:
//! storage arrives as `Arc<dyn Table>` in [`AdminState`].

mod audit;
pub mod auth;
mod behavior;
pub mod caller;
pub mod config;
mod contacts;
pub mod envelope;
pub mod error;
pub mod extract;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod openapi;
mod routes;
mod sales;
mod sites;
mod views;
pub mod write;

pub use auth::{Claims, Role, TokenIssuer, TokenVerifier, VerifiedClaims};
pub use routes::{AdminDeps, AdminState, router};
