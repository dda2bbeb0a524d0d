//! The `Queue` port, shaped like SQS: at-least-once delivery, visibility timeouts, a receive
//! count per message and a dead-letter queue after a bounded number of receives.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Identifies the entry in per-message failures (SQS batch entry id: `[A-Za-z0-9_-]{1,80}`).
    pub entry_id: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub message_id: String,
    /// Handle for `delete`; valid until the message becomes visible again.
    pub receipt: String,
    pub body: String,
    /// 1 on first delivery, incremented at each redelivery.
    pub receive_count: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOutcome {
    /// Entries that were not enqueued, with the reason; the others are durable.
    pub failed: Vec<(String, String)>,
}

/// At most this many bytes per message body (SQS's limit).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueueError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("the queue is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Any number of messages; the adapter splits them as its backend requires. Returns once
    /// every message not listed in `failed` is durably enqueued.
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<SendOutcome, QueueError>;

    /// Up to `max` (1..=10) visible messages, hidden for `visibility` after delivery; waits up to
    /// `wait` for one to arrive. A message received more than the queue's maximum receive count
    /// goes to its dead-letter queue instead of being delivered.
    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;

    /// Deletes received messages by receipt; unknown or stale receipts are ignored.
    async fn delete(&self, receipts: &[String]) -> Result<(), QueueError>;
}
