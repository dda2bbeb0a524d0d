//! The scheduled-jobs Lambda: configuration and clients once at cold start, then one bounded run
//! of the library per scheduled invocation.

use std::sync::Arc;

use crm_store::aws::AwsEnvironment;
use crm_store::clock::SystemClock;
use crm_store::dynamodb::{Client, DynamoTable};
use crm_store::env::StoreConfig;
use crm_store::queue::Queue;
use crm_store::sqs::SqsQueue;
use lambda_runtime::{Error, service_fn};
use scheduled_jobs::JobDeps;
use scheduled_jobs::lambda::{TRANSITIONS_QUEUE_URL_VAR, handle_and_relay};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = StoreConfig::from_env()
        .inspect_err(|error| tracing::error!(%error, "bad configuration"))?;
    let aws = AwsEnvironment::from_env()
        .inspect_err(|error| tracing::error!(%error, "bad configuration"))?;
    let sdk = aws.sdk_config(config.endpoint_url.as_deref());
    let deps = JobDeps {
        table: Arc::new(DynamoTable::new(Client::new(&sdk), config.table_name)),
        clock: Arc::new(SystemClock),
    };
    let transitions: Option<Arc<dyn Queue>> = std::env::var(TRANSITIONS_QUEUE_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .map(|url| {
            Arc::new(SqsQueue::new(crm_store::sqs::Client::new(&sdk), url)) as Arc<dyn Queue>
        });
    if transitions.is_none() {
        tracing::warn!(
            "{TRANSITIONS_QUEUE_URL_VAR} is not set: the transitions outbox is not relayed"
        );
    }
    lambda_runtime::run(service_fn(|event| {
        handle_and_relay(event, &deps, transitions.as_deref())
    }))
    .await
}
