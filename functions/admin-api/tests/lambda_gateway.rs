//! The Router behind API Gateway (HTTP API, payload v2): real request JSON converted the way
//! lambda_http converts it, in both auth modes.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use admin_api::lambda::trust_gateway_claims;
use admin_api::{AdminState, Role, TokenIssuer, TokenVerifier, router};
use crm_domain::site::{SiteConfig, SiteId};
use crm_store::clock::SystemClock;
use crm_store::repo::SiteRepo;
use crm_store::sqlite::SqliteTable;
use crm_store::table::Table;
use lambda_http::tower::{ServiceBuilder, ServiceExt};

const SECRET: &[u8] = b"gateway-test-secret-0123456789ab";
const WITH_BEARER: &str = include_str!("fixtures/apigw_v2_list_visitors.json");
const WITH_GATEWAY_CLAIMS: &str = include_str!("fixtures/apigw_v2_gateway_claims.json");

async fn table_with_demo_site() -> Arc<dyn Table> {
    let table: Arc<dyn Table> = Arc::new(SqliteTable::in_memory().unwrap());
    SiteRepo::new(table.clone())
        .put(&SiteConfig {
            id: SiteId::parse("demo").unwrap(),
            name: "Demo".to_owned(),
            allowed_origins: vec!["*".to_owned()],
            retention_days: 90,
            session_retention_days: 180,
            enabled: true,
        })
        .await
        .unwrap();
    table
}

async fn call(tokens: TokenVerifier, event_json: &str) -> (u16, serde_json::Value) {
    let table = table_with_demo_site().await;
    let app = router(AdminState::new(table, tokens, Arc::new(SystemClock)));
    let service = ServiceBuilder::new()
        .map_request(trust_gateway_claims)
        .service(app);
    let request = lambda_http::request::from_str(event_json).unwrap();
    let response = service.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_bearer_token_verified_by_the_function_lists_visitors() {
    let token = TokenIssuer::hs256(SECRET).issue("user-1", Role::Admin, now_seconds(), 600);
    let event = WITH_BEARER.replace("Bearer TOKEN", &format!("Bearer {token}"));
    let (status, body) = call(TokenVerifier::hs256(SECRET), &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"], serde_json::json!([]));
}

#[tokio::test]
async fn a_forged_bearer_token_is_refused() {
    let (status, body) = call(TokenVerifier::hs256(SECRET), WITH_BEARER).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
}

#[tokio::test]
async fn claims_from_the_gateway_authorizer_are_trusted_in_gateway_mode() {
    let (status, body) = call(TokenVerifier::gateway_only(), WITH_GATEWAY_CLAIMS).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn gateway_mode_refuses_requests_the_authorizer_did_not_verify() {
    let token = TokenIssuer::hs256(SECRET).issue("user-1", Role::Admin, now_seconds(), 600);
    let event = WITH_BEARER.replace("Bearer TOKEN", &format!("Bearer {token}"));
    let (status, _) = call(TokenVerifier::gateway_only(), &event).await;
    assert_eq!(status, 401);
}
