//! The transitions relay of crm-local: a background task that moves lifecycle transitions from
//! the store's outbox (written in the same transaction as each transition) to the embedded
//! `transitions` queue, where automations read them. On AWS the scheduled-jobs function does
//! the same after every run. Delivery is at least once; a message's `id` is its transition's id,
//! for consumers to deduplicate on (see `crm_store::repo::crm::outbox`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crm_store::queue::Queue;
use crm_store::repo::crm::outbox::{RelayReport, TransitionOutbox};
use crm_store::sqlite::{RedrivePolicy, SqliteQueue};
use crm_store::table::Table;
use tokio::sync::watch;

use crate::backend::MAX_RECEIVES;

pub const TRANSITIONS_QUEUE: &str = "transitions";
const TRANSITIONS_DEAD_LETTERS: &str = "transitions-dlq";
/// Messages relayed per pass.
const RELAY_MAX: usize = 100;
/// How often the outbox is checked: transitions reach the queue within about this long.
const RELAY_INTERVAL: Duration = Duration::from_secs(1);

fn redrive() -> Option<RedrivePolicy> {
    Some(RedrivePolicy {
        dead_letter: TRANSITIONS_DEAD_LETTERS.to_owned(),
        max_receives: MAX_RECEIVES,
    })
}

/// The embedded transitions queue in crm-local's queue database (`queue.db`, next to the events
/// queue), dead-lettering after as many receives as the events queue.
pub fn open_queue(queue_file: &Path) -> anyhow::Result<SqliteQueue> {
    Ok(SqliteQueue::open(queue_file, TRANSITIONS_QUEUE, redrive())?)
}

/// The same queue through the events queue's connection (the server's own handle).
pub fn sibling_of(events: &SqliteQueue) -> anyhow::Result<SqliteQueue> {
    Ok(events.sibling(TRANSITIONS_QUEUE, redrive())?)
}

/// Relays what is pending now (at most [`RELAY_MAX`] messages per call of the outbox relay,
/// repeated until the outbox is empty or the queue refuses).
pub async fn relay_pending(
    table: &Arc<dyn Table>,
    queue: &dyn Queue,
) -> anyhow::Result<RelayReport> {
    let outbox = TransitionOutbox::new(Arc::clone(table));
    let mut total = RelayReport::default();
    loop {
        let report = outbox.relay(queue, RELAY_MAX).await?;
        total.published += report.published;
        total.failed += report.failed;
        if report.failed > 0 || report.published < RELAY_MAX as u64 {
            return Ok(total);
        }
    }
}

/// Relays the outbox every [`RELAY_INTERVAL`] until shutdown.
pub async fn run(
    table: Arc<dyn Table>,
    queue: Arc<dyn Queue>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(RELAY_INTERVAL);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        match relay_pending(&table, queue.as_ref()).await {
            Ok(report) if report.published > 0 || report.failed > 0 => tracing::info!(
                published = report.published,
                failed = report.failed,
                "transitions relayed"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "transitions relay failed; retrying"),
        }
    }
}
