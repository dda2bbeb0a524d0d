//! Where crm-local keeps its data: the embedded SQLite store and queue (the default), or
//! DynamoDB and SQS — the same ports, so everything above them is unchanged.

use std::path::Path;
use std::sync::Arc;

use crm_store::queue::Queue;
use crm_store::sqlite::{RedrivePolicy, SqliteQueue, SqliteTable};
use crm_store::table::Table;

use crate::cli::AwsArgs;

const STORE_FILE: &str = "store.db";
pub const QUEUE_FILE: &str = "queue.db";
const EVENTS_QUEUE: &str = "events";
const EVENTS_DEAD_LETTERS: &str = "events-dlq";
/// As the SAM template's redrive policy.
pub const MAX_RECEIVES: u32 = 5;

pub struct Backend {
    pub table: Arc<dyn Table>,
    pub queue: Arc<dyn Queue>,
    /// Where lifecycle transitions are published (the embedded `transitions` queue); `None` on
    /// AWS, where the scheduled jobs relay the outbox to the stack's transitions queue.
    pub transitions: Option<Arc<dyn Queue>>,
    /// The embedded store when it is the one in use: it has no TTL, so crm-local expires items.
    pub embedded: Option<Arc<SqliteTable>>,
}

pub async fn open(data_dir: &Path, aws: &AwsArgs) -> anyhow::Result<Backend> {
    match (&aws.table, &aws.sqs_queue_url) {
        (Some(table), Some(queue_url)) => open_aws(table, queue_url, aws).await,
        _ => open_embedded(data_dir).await,
    }
}

pub fn open_store(data_dir: &Path) -> anyhow::Result<SqliteTable> {
    std::fs::create_dir_all(data_dir)?;
    Ok(SqliteTable::open(&data_dir.join(STORE_FILE))?)
}

async fn open_embedded(data_dir: &Path) -> anyhow::Result<Backend> {
    let sqlite = Arc::new(open_store(data_dir)?);
    let events_queue = SqliteQueue::open(
        &data_dir.join(QUEUE_FILE),
        EVENTS_QUEUE,
        Some(RedrivePolicy {
            dead_letter: EVENTS_DEAD_LETTERS.to_owned(),
            max_receives: MAX_RECEIVES,
        }),
    )?;
    // One process owns the embedded queue: whatever was in flight at the last stop is ours.
    let reclaimed = events_queue.reclaim_in_flight().await?;
    if reclaimed > 0 {
        tracing::info!(
            reclaimed,
            "messages in flight at the last stop will be scored again"
        );
    }
    let transitions = crate::transitions::sibling_of(&events_queue)?;
    Ok(Backend {
        table: sqlite.clone(),
        queue: Arc::new(events_queue),
        transitions: Some(Arc::new(transitions)),
        embedded: Some(sqlite),
    })
}

#[cfg(feature = "aws")]
async fn open_aws(table_name: &str, queue_url: &str, aws: &AwsArgs) -> anyhow::Result<Backend> {
    use anyhow::Context;
    use crm_store::{aws::sdk_config_from_chain, dynamodb, sqs};

    let sdk = sdk_config_from_chain(aws.dynamodb_endpoint.as_deref()).await?;
    let dynamo = dynamodb::Client::new(&sdk);
    let sqs_client = sqs::Client::new(&sdk);
    let mut queue_url = queue_url.to_owned();
    if aws.create_missing {
        dynamodb::create_table_if_missing(&dynamo, table_name)
            .await
            .with_context(|| format!("creating table {table_name}"))?;
        let name = queue_url
            .rsplit('/')
            .next()
            .filter(|name| !name.is_empty())
            .with_context(|| format!("{queue_url:?} does not end in a queue name"))?
            .to_owned();
        let dead_letters = format!("{name}-dlq");
        (queue_url, _) = sqs::create_queue_with_dead_letter_if_missing(
            &sqs_client,
            &name,
            &dead_letters,
            MAX_RECEIVES,
        )
        .await
        .with_context(|| format!("creating queue {name}"))?;
    }
    Ok(Backend {
        table: Arc::new(dynamodb::DynamoTable::new(dynamo, table_name)),
        queue: Arc::new(sqs::SqsQueue::new(sqs_client, queue_url)),
        transitions: None,
        embedded: None,
    })
}

#[cfg(not(feature = "aws"))]
async fn open_aws(_: &str, _: &str, _: &AwsArgs) -> anyhow::Result<Backend> {
    anyhow::bail!(
        "this crm-local was built without AWS support: run it with `cargo run --release -p crm-local --features aws -- …`"
    )
}
