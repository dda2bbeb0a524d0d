//! The admin-api Lambda: configuration and clients once at cold start, then the same Router
//! crm-local serves, through lambda_http.

use std::sync::Arc;

use admin_api::config::{AuthMode, Config};
use admin_api::lambda::trust_gateway_claims;
use admin_api::{AdminState, TokenVerifier, router};
use crm_store::aws::AwsEnvironment;
use crm_store::clock::SystemClock;
use crm_store::dynamodb::{Client, DynamoTable};
use lambda_http::Error;
use lambda_http::tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_lookup(|name| std::env::var(name).ok())?;
    let sdk = AwsEnvironment::from_env()?.sdk_config(config.store.endpoint_url.as_deref());
    let table = Arc::new(DynamoTable::new(Client::new(&sdk), config.store.table_name));
    let tokens = match &config.auth {
        AuthMode::Token { secret } => TokenVerifier::hs256(secret),
        AuthMode::GatewayClaims => TokenVerifier::gateway_only(),
    };
    let app = router(AdminState::new(table, tokens, Arc::new(SystemClock)));
    let service = ServiceBuilder::new()
        .map_request(trust_gateway_claims)
        .service(app);
    lambda_http::run(service).await
}
