//! [`SqliteQueue`]: the `Queue` port on a durable SQLite table, one named queue per handle.
//! Sending returns after the commit (fsynced: `synchronous=FULL`). Receiving long-polls: it is
//! woken at once by a send through this handle or one of its [`SqliteQueue::sibling`]s, and
//! otherwise re-checks every [`POLL_INTERVAL`] (visibility timeouts ending, other connections). A dead-letter
//! queue is simply another queue name, read through another handle (see [`SqliteQueue::sibling`]).
//!
//! SQS's limits are enforced: 1..=10 messages per receive, a visibility timeout of at most 12
//! hours, a wait of at most 20 seconds, batch entry ids of `[A-Za-z0-9_-]{1,80}` distinct within a
//! send, bodies of 1..=[`MAX_MESSAGE_BYTES`] bytes of XML-safe characters. Unlike SQS, messages
//! never expire (no retention period): the embedded queue keeps what it acknowledged until it is
//! deleted. As with a lost SQS response, a receive dropped mid-call may leave the messages it took
//! in flight until their visibility timeout ends.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::queue::{
    MAX_MESSAGE_BYTES, OutgoingMessage, Queue, QueueError, ReceivedMessage, SendOutcome,
};

use super::connection::{Database, OpenError};
use super::messages::{self, NewMessage};
use super::schema;

/// How often a waiting receive looks again for messages whose visibility expired.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
const MAX_RECEIVE: usize = 10;
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);
const MAX_WAIT: Duration = Duration::from_secs(20);
const MAX_ENTRY_ID_CHARS: usize = 80;
const MAX_QUEUE_NAME_CHARS: usize = 80;
const MAX_RECEIVES_LIMIT: u32 = 1000;

/// SQS's redrive policy: after `max_receives` receives without a delete, the next receive moves
/// the message to the queue named `dead_letter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter: String,
    pub max_receives: u32,
}

/// A snapshot of a queue's depth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub visible: u64,
    pub in_flight: u64,
}

/// One wake-up signal per queue name, shared by every handle on one database.
#[derive(Default)]
struct Signals(Mutex<HashMap<String, Arc<Notify>>>);

impl Signals {
    fn get(&self, queue: &str) -> Arc<Notify> {
        let mut signals = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(signals.entry(queue.to_owned()).or_default())
    }
}

/// The embedded `Queue`: `Send + Sync`, usable as `Arc<dyn Queue>`.
#[derive(Clone)]
pub struct SqliteQueue {
    database: Database,
    signals: Arc<Signals>,
    name: Arc<str>,
    redrive: Option<RedrivePolicy>,
}

impl SqliteQueue {
    /// Opens the queue `name` in the database at `path` (created if missing; its directory must
    /// exist), dead-lettering as `redrive` says.
    pub fn open(
        path: &Path,
        name: &str,
        redrive: Option<RedrivePolicy>,
    ) -> Result<SqliteQueue, OpenError> {
        check_config(name, redrive.as_ref())?;
        let database = Database::open(path, schema::create_messages)?;
        Ok(SqliteQueue {
            database,
            signals: Arc::default(),
            name: name.into(),
            redrive,
        })
    }

    /// A queue in a private in-memory database (tests); reach its other queues with
    /// [`SqliteQueue::sibling`].
    pub fn in_memory(name: &str, redrive: Option<RedrivePolicy>) -> Result<SqliteQueue, OpenError> {
        check_config(name, redrive.as_ref())?;
        let database = Database::in_memory(schema::create_messages)?;
        Ok(SqliteQueue {
            database,
            signals: Arc::default(),
            name: name.into(),
            redrive,
        })
    }

    /// Another queue of the same database, e.g. this queue's dead-letter queue. Handles made this
    /// way share the connection and wake each other's long polls.
    pub fn sibling(
        &self,
        name: &str,
        redrive: Option<RedrivePolicy>,
    ) -> Result<SqliteQueue, OpenError> {
        check_config(name, redrive.as_ref())?;
        Ok(SqliteQueue {
            database: self.database.clone(),
            signals: Arc::clone(&self.signals),
            name: name.into(),
            redrive,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes every in-flight message of this queue visible now and returns how many there were.
    /// Only for a process that owns the queue alone (crm-local at start): nobody else can be
    /// working on those messages.
    pub async fn reclaim_in_flight(&self) -> Result<usize, QueueError> {
        let name = Arc::clone(&self.name);
        let now = now_ms();
        let reclaimed = self
            .database
            .call(move |connection| messages::reclaim(connection, &name, now))
            .await?;
        if reclaimed > 0 {
            self.signals.get(&self.name).notify_waiters();
        }
        Ok(reclaimed)
    }

    pub async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let name = Arc::clone(&self.name);
        let now = now_ms();
        let (visible, in_flight) = self
            .database
            .call(move |connection| messages::counts(connection, &name, now))
            .await?;
        Ok(QueueCounts { visible, in_flight })
    }

    /// One receive attempt, no waiting.
    async fn receive_now(
        &self,
        max: usize,
        visibility_ms: i64,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let name = Arc::clone(&self.name);
        let redrive = self.redrive.clone();
        let now = now_ms();
        let received = self
            .database
            .call(move |connection| {
                messages::receive(connection, &name, redrive.as_ref(), max, visibility_ms, now)
            })
            .await?;
        if let Some(policy) = &self.redrive
            && received.redriven > 0
        {
            self.signals.get(&policy.dead_letter).notify_waiters();
        }
        Ok(received.delivered)
    }
}

fn now_ms() -> i64 {
    SystemClock.now().0
}

fn check_config(name: &str, redrive: Option<&RedrivePolicy>) -> Result<(), OpenError> {
    check_queue_name(name)?;
    if let Some(policy) = redrive {
        check_queue_name(&policy.dead_letter)?;
        if policy.dead_letter == name {
            return Err(OpenError::InvalidConfig(format!(
                "queue {name} cannot be its own dead-letter queue"
            )));
        }
        if !(1..=MAX_RECEIVES_LIMIT).contains(&policy.max_receives) {
            return Err(OpenError::InvalidConfig(format!(
                "max_receives {} is outside 1..={MAX_RECEIVES_LIMIT}",
                policy.max_receives
            )));
        }
    }
    Ok(())
}

/// SQS queue names: 1 to 80 ASCII letters, digits, hyphens and underscores.
fn check_queue_name(name: &str) -> Result<(), OpenError> {
    if is_sqs_word(name, MAX_QUEUE_NAME_CHARS) {
        Ok(())
    } else {
        Err(OpenError::InvalidConfig(format!(
            "queue name {name:?} must be 1 to {MAX_QUEUE_NAME_CHARS} letters, digits, '-' or '_'"
        )))
    }
}

fn is_sqs_word(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Characters SQS accepts in a body: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
fn is_sqs_body_char(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Why SQS would refuse this one body, if it would.
fn body_problem(body: &str) -> Option<String> {
    if body.is_empty() {
        Some("the message body is empty".to_owned())
    } else if body.len() > MAX_MESSAGE_BYTES {
        Some(format!(
            "the message body is {} bytes, more than {MAX_MESSAGE_BYTES}",
            body.len()
        ))
    } else if !body.chars().all(is_sqs_body_char) {
        Some("the message body contains characters SQS does not accept".to_owned())
    } else {
        None
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<SendOutcome, QueueError> {
        let mut entry_ids = HashSet::new();
        for message in &messages {
            if !is_sqs_word(&message.entry_id, MAX_ENTRY_ID_CHARS) {
                return Err(QueueError::Invalid(format!(
                    "entry id {:?} must be 1 to {MAX_ENTRY_ID_CHARS} letters, digits, '-' or '_'",
                    message.entry_id
                )));
            }
            if !entry_ids.insert(message.entry_id.as_str()) {
                return Err(QueueError::Invalid(format!(
                    "entry id {} appears more than once",
                    message.entry_id
                )));
            }
        }
        let mut outcome = SendOutcome::default();
        let mut accepted = Vec::with_capacity(messages.len());
        for message in messages {
            match body_problem(&message.body) {
                Some(reason) => outcome.failed.push((message.entry_id, reason)),
                None => accepted.push(NewMessage {
                    message_id: uuid::Uuid::now_v7().to_string(),
                    body: message.body,
                }),
            }
        }
        if accepted.is_empty() {
            return Ok(outcome);
        }
        let name = Arc::clone(&self.name);
        let now = now_ms();
        self.database
            .call(move |connection| messages::send(connection, &name, &accepted, now))
            .await?;
        self.signals.get(&self.name).notify_waiters();
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
        let deadline = Instant::now() + wait;
        let signal = self.signals.get(&self.name);
        loop {
            // Registered before looking, so a send between the look and the wait still wakes us.
            let sent = signal.notified();
            tokio::pin!(sent);
            sent.as_mut().enable();
            let delivered = self.receive_now(max, millis(visibility)).await?;
            let now = Instant::now();
            if !delivered.is_empty() || now >= deadline {
                return Ok(delivered);
            }
            tokio::select! {
                () = &mut sent => {}
                () = tokio::time::sleep(POLL_INTERVAL.min(deadline - now)) => {}
            }
        }
    }

    async fn delete(&self, receipts: &[String]) -> Result<(), QueueError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let name = Arc::clone(&self.name);
        let receipts = receipts.to_vec();
        self.database
            .call(move |connection| messages::delete(connection, &name, &receipts))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_as_sqs_checks_them() {
        assert!(body_problem("{\"ok\":true}\n").is_none());
        assert!(body_problem("").is_some());
        assert!(body_problem("nul \u{0} inside").is_some());
        assert!(body_problem(&"x".repeat(MAX_MESSAGE_BYTES)).is_none());
        assert!(body_problem(&"x".repeat(MAX_MESSAGE_BYTES + 1)).is_some());
    }

    #[test]
    fn names_and_redrive_policies_are_validated() {
        assert!(check_config("events", None).is_ok());
        assert!(check_config("", None).is_err());
        assert!(check_config("bad name", None).is_err());
        let own = RedrivePolicy {
            dead_letter: "events".to_owned(),
            max_receives: 5,
        };
        assert!(check_config("events", Some(&own)).is_err());
        let zero = RedrivePolicy {
            dead_letter: "dlq".to_owned(),
            max_receives: 0,
        };
        assert!(check_config("events", Some(&zero)).is_err());
    }
}
