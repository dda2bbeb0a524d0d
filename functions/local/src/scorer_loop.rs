//! The embedded stand-in for the SQS → Lambda trigger: receive, score, delete what succeeded.

use std::sync::Arc;
use std::time::Duration;

use crm_store::queue::Queue;
use event_scorer::{IncomingMessage, ScorerDeps, process_batch};
use tokio::sync::watch;

/// As Lambda's SQS trigger: at most 10 messages per batch.
const BATCH_SIZE: usize = 10;
/// A failed message becomes visible again after this, and is retried.
const VISIBILITY: Duration = Duration::from_secs(30);
const LONG_POLL: Duration = Duration::from_secs(1);
const BACKOFF_AFTER_QUEUE_ERROR: Duration = Duration::from_secs(1);

pub async fn run(queue: Arc<dyn Queue>, deps: ScorerDeps, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        let received = tokio::select! {
            received = queue.receive(BATCH_SIZE, VISIBILITY, LONG_POLL) => received,
            _ = shutdown.changed() => break,
        };
        let messages = match received {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(%error, "queue receive failed");
                tokio::time::sleep(BACKOFF_AFTER_QUEUE_ERROR).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let incoming: Vec<IncomingMessage> = messages
            .iter()
            .map(|message| IncomingMessage {
                transport_id: message.message_id.clone(),
                body: message.body.clone(),
            })
            .collect();
        let report = process_batch(&deps, &incoming).await;
        let done: Vec<String> = messages
            .iter()
            .filter(|message| !report.failed.contains(&message.message_id))
            .map(|message| message.receipt.clone())
            .collect();
        if let Err(error) = queue.delete(&done).await {
            // Not deleting only means redelivery, which the scorer ignores.
            tracing::warn!(%error, "could not delete scored messages");
        }
    }
}
