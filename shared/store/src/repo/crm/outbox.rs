//! The transitions outbox: every lifecycle transition is published on the transitions queue,
//! exactly when it is committed. The write that changes a contact's stage puts, in the same
//! transaction as the contact, its timeline entry and its audit entry, one outbox item holding
//! the message ([`add_transition`]). A relay ([`TransitionOutbox::relay`]) later sends the
//! outbox items to the queue and deletes each one only after the queue took it.
//!
//! So there is no transition without its message (they commit together) and no message without
//! its transition (only committed items are sent). Delivery is **at least once**: a relay that
//! crashes between the send and the delete, or two relays overlapping, send a message again.
//! Every message carries the transition's id (`id`, unique per transition, the same on every
//! send): consumers deduplicate on it.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | pending message | `OUTBOX#TRANSITIONS` | `{at ms, 13 digits}#{transition id}` |
//!
//! One partition holds every pending message, oldest first: transitions are rare (a few per
//! contact per lifetime) and the relay empties it, so it stays small and cold.

use std::sync::Arc;

use crm_domain::contacts::{LifecycleStage, Transition};
use crm_domain::engine::Rule;
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};

use super::change::{Change, Expect};
use super::person::{OnErase, PersonRef};
use crate::queue::{OutgoingMessage, Queue, QueueError};
use crate::repo::codec::{DATA_ATTR, encode};
use crate::repo::keys::padded_millis;
use crate::table::{
    Item, Key, MAX_BATCH_WRITE, Query, SortKeyCondition, Table, TableError, WriteRequest,
};

/// The partition of pending transition messages.
pub const TRANSITIONS_OUTBOX: &str = "OUTBOX#TRANSITIONS";
/// Attribute naming the transition (the deduplication id) next to the message.
pub const MESSAGE_ID_ATTR: &str = "message_id";
/// Messages sent per queue request (SQS's batch limit).
pub const RELAY_BATCH: usize = 10;

/// The message published for one transition (the body is this as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionMessage {
    /// Format version of the message.
    pub v: u8,
    /// The transition's id: the same on every send of this transition; deduplicate on it.
    pub id: String,
    pub contact_id: String,
    /// `None` when the contact was created in `to`.
    pub from: Option<LifecycleStage>,
    pub to: LifecycleStage,
    pub at: Millis,
    /// The automatic rule that fired (`deal_won`, `lead_score`…); `None` for a manual change.
    pub rule: Option<Rule>,
    pub reason: String,
    /// Who changed it: a token subject, or `system` for automatic transitions.
    pub actor: String,
}

impl TransitionMessage {
    pub fn new(contact_id: &str, transition: &Transition, rule: Option<Rule>) -> TransitionMessage {
        TransitionMessage {
            v: 1,
            id: transition.id.clone(),
            contact_id: contact_id.to_owned(),
            from: transition.from,
            to: transition.to,
            at: transition.at,
            rule,
            reason: transition.reason.clone(),
            actor: transition.actor.clone(),
        }
    }

    pub fn key(&self) -> Key {
        Key::new(
            TRANSITIONS_OUTBOX,
            format!("{}#{}", padded_millis(self.at), self.id),
        )
    }

    pub fn item(&self) -> Result<Item, TableError> {
        Ok(Item::new(self.key())
            .with(DATA_ATTR, encode(self)?)
            .with(MESSAGE_ID_ATTR, crate::table::Value::S(self.id.clone())))
    }
}

/// Adds the outbox item of a transition to the `Change` that commits it, with a link from the
/// contact so that erasing the person deletes a message still pending (its reason may hold
/// personal data).
pub fn add_transition(
    change: &mut Change,
    message: &TransitionMessage,
) -> Result<usize, TableError> {
    let link = PersonRef {
        contact: message.contact_id.clone(),
        target: message.key(),
        on_erase: OnErase::Delete,
    };
    change.put(link.item()?, Expect::Anything);
    Ok(change.put(message.item()?, Expect::Absent))
}

/// What one relay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayReport {
    /// Messages the queue took (and whose outbox items were deleted).
    pub published: u64,
    /// Messages the queue refused this time; they stay in the outbox for the next relay.
    pub failed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl RelayError {
    /// Whether relaying again later may succeed (every failure leaves the outbox intact).
    pub fn is_retryable(&self) -> bool {
        match self {
            RelayError::Table(error) => error.is_retryable(),
            RelayError::Queue(QueueError::Unavailable(_)) => true,
            RelayError::Queue(QueueError::Invalid(_)) => false,
        }
    }
}

#[derive(Clone)]
pub struct TransitionOutbox {
    table: Arc<dyn Table>,
}

impl TransitionOutbox {
    pub fn new(table: Arc<dyn Table>) -> TransitionOutbox {
        TransitionOutbox { table }
    }

    /// Up to `limit` pending messages, oldest first.
    pub async fn pending(&self, limit: usize) -> Result<Vec<Item>, TableError> {
        let page = self
            .table
            .query(Query {
                index: None,
                pk: TRANSITIONS_OUTBOX.to_owned(),
                sk: SortKeyCondition::Any,
                forward: true,
                limit: limit.max(1),
                cursor: None,
            })
            .await?;
        Ok(page.items)
    }

    /// Sends pending messages to `queue`, oldest first, at most `max` of them, and deletes each
    /// outbox item once the queue has taken its message. Stops at the first batch the queue
    /// partly refuses (the refused ones are tried again by the next relay).
    pub async fn relay(&self, queue: &dyn Queue, max: usize) -> Result<RelayReport, RelayError> {
        let mut report = RelayReport::default();
        let mut remaining = max;
        while remaining > 0 {
            let items = self.pending(remaining.min(RELAY_BATCH)).await?;
            if items.is_empty() {
                break;
            }
            // Entry ids only name the entries of this request; the message's id is in its body.
            let messages: Vec<OutgoingMessage> = items
                .iter()
                .enumerate()
                .map(|(n, item)| OutgoingMessage {
                    entry_id: format!("t{n}"),
                    body: item.get_str(DATA_ATTR).unwrap_or("{}").to_owned(),
                })
                .collect();
            let outcome = queue.send_batch(messages).await?;
            let refused: Vec<&str> = outcome.failed.iter().map(|(id, _)| id.as_str()).collect();
            let sent: Vec<Key> = items
                .iter()
                .enumerate()
                .filter(|(n, _)| !refused.contains(&format!("t{n}").as_str()))
                .map(|(_, item)| item.key.clone())
                .collect();
            for chunk in sent.chunks(MAX_BATCH_WRITE) {
                let deletes = chunk.iter().cloned().map(WriteRequest::Delete).collect();
                self.table.batch_write(deletes).await?;
            }
            report.published += sent.len() as u64;
            report.failed += outcome.failed.len() as u64;
            remaining = remaining.saturating_sub(items.len());
            if !outcome.failed.is_empty() {
                for (entry, why) in &outcome.failed {
                    tracing::warn!(entry, why, "the transitions queue refused a message; kept");
                }
                break;
            }
        }
        Ok(report)
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;

    use super::*;
    use crate::queue::{ReceivedMessage, SendOutcome};
    use crate::repo::crm::audit::{Actor, AuditEntry};
    use crate::repo::crm::commit;
    use crate::sqlite::SqliteTable;

    /// A queue that records what it took and refuses the bodies naming `refused`.
    #[derive(Default)]
    struct Recorder {
        taken: Mutex<Vec<String>>,
        refused: Option<String>,
    }

    #[async_trait]
    impl Queue for Recorder {
        async fn send_batch(
            &self,
            messages: Vec<OutgoingMessage>,
        ) -> Result<SendOutcome, QueueError> {
            let mut outcome = SendOutcome::default();
            for message in messages {
                match &self.refused {
                    Some(id) if message.body.contains(id.as_str()) => outcome
                        .failed
                        .push((message.entry_id, "throttled".to_owned())),
                    _ => self.taken.lock().unwrap().push(message.body),
                }
            }
            Ok(outcome)
        }

        async fn receive(
            &self,
            _: usize,
            _: Duration,
            _: Duration,
        ) -> Result<Vec<ReceivedMessage>, QueueError> {
            Ok(Vec::new())
        }

        async fn delete(&self, _: &[String]) -> Result<(), QueueError> {
            Ok(())
        }
    }

    async fn outbox_with(ids: &[&str]) -> TransitionOutbox {
        let table: Arc<dyn Table> = Arc::new(SqliteTable::in_memory().unwrap());
        for (n, id) in ids.iter().enumerate() {
            let transition = Transition {
                id: (*id).to_owned(),
                from: Some(LifecycleStage::Lead),
                to: LifecycleStage::Prospect,
                at: Millis(1_000 + n as i64),
                reason: "marked qualified".to_owned(),
                actor: "rep".to_owned(),
            };
            let mut change = Change::new();
            add_transition(
                &mut change,
                &TransitionMessage::new("c1", &transition, None),
            )
            .unwrap();
            let actor = Actor {
                subject: "rep".to_owned(),
                role: crm_domain::records::Role::SalesRep,
            };
            change
                .audit(&AuditEntry::new(
                    format!("a-{id}"),
                    Millis(1_000),
                    &actor,
                    "contact",
                    "c1",
                    "qualify",
                    &serde_json::Value::Null,
                    &serde_json::Value::Null,
                ))
                .unwrap();
            commit(table.as_ref(), change).await.unwrap();
        }
        TransitionOutbox::new(table)
    }

    #[tokio::test]
    async fn the_relay_sends_oldest_first_and_deletes_only_what_the_queue_took() {
        let outbox = outbox_with(&["t-a", "t-b", "t-c"]).await;
        let queue = Recorder {
            refused: Some("t-b".to_owned()),
            ..Recorder::default()
        };

        let report = outbox.relay(&queue, 100).await.unwrap();

        assert_eq!((report.published, report.failed), (2, 1));
        let taken: Vec<TransitionMessage> = queue
            .taken
            .lock()
            .unwrap()
            .iter()
            .map(|body| serde_json::from_str(body).unwrap())
            .collect();
        let ids: Vec<&str> = taken.iter().map(|message| message.id.as_str()).collect();
        assert_eq!(ids, ["t-a", "t-c"]);
        let left = outbox.pending(10).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].get_str(MESSAGE_ID_ATTR), Some("t-b"));

        let healthy = Recorder::default();
        let again = outbox.relay(&healthy, 100).await.unwrap();
        assert_eq!((again.published, again.failed), (1, 0));
        assert!(outbox.pending(10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_relay_stops_at_its_maximum_and_leaves_the_rest() {
        let ids: Vec<String> = (0..25).map(|n| format!("t-{n:02}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let outbox = outbox_with(&refs).await;
        let queue = Recorder::default();
        let report = outbox.relay(&queue, 12).await.unwrap();
        assert_eq!(report.published, 12);
        assert_eq!(outbox.pending(100).await.unwrap().len(), 13);
    }
}
