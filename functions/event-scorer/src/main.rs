//! The event-scorer Lambda: configuration and clients once at cold start, then one call of the
//! library per SQS batch.

use std::sync::Arc;

use crm_store::aws::AwsEnvironment;
use crm_store::clock::SystemClock;
use crm_store::dynamodb::{Client, DynamoTable};
use crm_store::env::StoreConfig;
use event_scorer::{ScorerDeps, lambda::handle_sqs_event};
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = StoreConfig::from_env()?;
    let sdk = AwsEnvironment::from_env()?.sdk_config(config.endpoint_url.as_deref());
    let table = DynamoTable::new(Client::new(&sdk), config.table_name);
    let deps = ScorerDeps {
        table: Arc::new(table),
        clock: Arc::new(SystemClock),
    };
    lambda_runtime::run(service_fn(|event| handle_sqs_event(event, &deps))).await
}
