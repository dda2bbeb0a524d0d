//! [`SqsQueue`]: the `Queue` port on one SQS standard queue. The dead-letter behaviour is the
//! queue's own RedrivePolicy (see [`super::create_queue_with_dead_letter_if_missing`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName,
    SendMessageBatchRequestEntry,
};

use super::batches::{MAX_ENTRIES, body_problem, check_entry_ids, split};
use super::errors::from_sdk;
use crate::queue::{OutgoingMessage, Queue, QueueError, ReceivedMessage, SendOutcome};

const MAX_RECEIVE: usize = 10;
const MAX_WAIT: Duration = Duration::from_secs(20);
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// The `Queue` port on SQS: cheap to clone, `Send + Sync`, usable as `Arc<dyn Queue>`.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: Arc<str>,
}

impl SqsQueue {
    /// The queue at `queue_url` through `client`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> SqsQueue {
        SqsQueue {
            client,
            queue_url: Arc::from(queue_url.into()),
        }
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends one call's worth of messages; returns the entries SQS did not take, with why.
    async fn send_call(
        &self,
        messages: Vec<OutgoingMessage>,
    ) -> Result<Vec<(String, String)>, QueueError> {
        let entries = messages
            .into_iter()
            .map(|message| {
                SendMessageBatchRequestEntry::builder()
                    .id(message.entry_id)
                    .message_body(message.body)
                    .build()
                    .map_err(|error| QueueError::Invalid(format!("SendMessageBatch: {error}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(self.queue_url.as_ref())
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|error| from_sdk("SendMessageBatch", error))?;
        Ok(output
            .failed()
            .iter()
            .map(|failure| {
                let reason = format!(
                    "{}: {}",
                    failure.code(),
                    failure.message().unwrap_or("no message")
                );
                (failure.id().to_owned(), reason)
            })
            .collect())
    }
}

/// Whole seconds, rounded up: a message stays hidden at least as long as asked.
fn seconds_up(duration: Duration) -> i32 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(seconds).unwrap_or(i32::MAX)
}

/// Whole seconds, rounded down: a receive never waits longer than asked.
fn seconds_down(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)
}

fn received(message: Message) -> Option<ReceivedMessage> {
    let receive_count = message
        .attributes()
        .and_then(|attributes| attributes.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|count| count.parse().ok());
    let Some(receive_count) = receive_count else {
        tracing::warn!(
            message_id = message.message_id(),
            "SQS returned no ApproximateReceiveCount; counting this delivery as the first"
        );
        return into_received(message, 1);
    };
    into_received(message, receive_count)
}

fn into_received(message: Message, receive_count: u32) -> Option<ReceivedMessage> {
    let Message {
        message_id,
        receipt_handle,
        body,
        ..
    } = message;
    match (message_id, receipt_handle) {
        (Some(message_id), Some(receipt)) => Some(ReceivedMessage {
            message_id,
            receipt,
            body: body.unwrap_or_default(),
            receive_count,
        }),
        _ => {
            tracing::warn!("SQS returned a message without an id or receipt handle; skipped");
            None
        }
    }
}

/// Per-entry delete failures that mean "this receipt no longer deletes anything", which the port
/// ignores.
fn is_stale_receipt(code: &str) -> bool {
    code.contains("ReceiptHandle") || code.ends_with("InvalidParameterValue")
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<SendOutcome, QueueError> {
        check_entry_ids(&messages)?;
        let mut outcome = SendOutcome::default();
        let mut accepted = Vec::with_capacity(messages.len());
        for message in messages {
            match body_problem(&message.body) {
                Some(reason) => outcome.failed.push((message.entry_id, reason)),
                None => accepted.push(message),
            }
        }
        let calls = split(accepted);
        let call_count = calls.len();
        let mut call_errors = Vec::new();
        for call in calls {
            let entry_ids: Vec<String> = call
                .iter()
                .map(|message| message.entry_id.clone())
                .collect();
            match self.send_call(call).await {
                Ok(failed) => outcome.failed.extend(failed),
                // The entries of a failed call are reported; the other calls' entries are sent.
                Err(error) => {
                    let reason = error.to_string();
                    outcome.failed.extend(
                        entry_ids
                            .into_iter()
                            .map(|entry_id| (entry_id, reason.clone())),
                    );
                    call_errors.push(error);
                }
            }
        }
        // Nothing sent at all because every call failed: an error, not a list of failures.
        if call_count > 0 && call_errors.len() == call_count {
            return Err(call_errors.swap_remove(0));
        }
        Ok(outcome)
    }

    async fn receive(
        &self,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        if !(1..=MAX_RECEIVE).contains(&max) {
            return Err(QueueError::Invalid(format!(
                "cannot receive {max} messages: 1..={MAX_RECEIVE}"
            )));
        }
        if visibility > MAX_VISIBILITY {
            return Err(QueueError::Invalid(format!(
                "visibility timeout {visibility:?} exceeds 12 hours"
            )));
        }
        if wait > MAX_WAIT {
            return Err(QueueError::Invalid(format!(
                "wait {wait:?} exceeds 20 seconds"
            )));
        }
        let output = self
            .client
            .receive_message()
            .queue_url(self.queue_url.as_ref())
            .max_number_of_messages(i32::try_from(max).unwrap_or(10))
            .visibility_timeout(seconds_up(visibility))
            .wait_time_seconds(seconds_down(wait))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|error| from_sdk("ReceiveMessage", error))?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(received)
            .collect())
    }

    async fn delete(&self, receipts: &[String]) -> Result<(), QueueError> {
        let mut seen = HashSet::new();
        let receipts: Vec<&String> = receipts
            .iter()
            .filter(|receipt| !receipt.is_empty() && seen.insert(receipt.as_str()))
            .collect();
        for chunk in receipts.chunks(MAX_ENTRIES) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(position, receipt)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("r{position}"))
                        .receipt_handle(receipt.as_str())
                        .build()
                        .map_err(|error| {
                            QueueError::Invalid(format!("DeleteMessageBatch: {error}"))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .delete_message_batch()
                .queue_url(self.queue_url.as_ref())
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|error| from_sdk("DeleteMessageBatch", error))?;
            for failure in output.failed() {
                if is_stale_receipt(failure.code()) {
                    tracing::debug!(code = failure.code(), "ignored a stale or unknown receipt");
                } else {
                    return Err(QueueError::Unavailable(format!(
                        "DeleteMessageBatch: {}: {}",
                        failure.code(),
                        failure.message().unwrap_or("no message")
                    )));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_rounds_up_and_waits_round_down_to_whole_seconds() {
        assert_eq!(seconds_up(Duration::from_millis(1_200)), 2);
        assert_eq!(seconds_up(Duration::from_secs(2)), 2);
        assert_eq!(seconds_up(Duration::ZERO), 0);
        assert_eq!(seconds_down(Duration::from_millis(1_900)), 1);
        assert_eq!(seconds_down(Duration::from_secs(20)), 20);
    }

    #[test]
    fn only_receipt_problems_count_as_stale_receipts() {
        assert!(is_stale_receipt("ReceiptHandleIsInvalid"));
        assert!(is_stale_receipt(
            "AWS.SimpleQueueService.ReceiptHandleIsInvalid"
        ));
        assert!(is_stale_receipt("InvalidParameterValue"));
        assert!(!is_stale_receipt("InternalError"));
    }
}
