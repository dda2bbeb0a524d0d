//! The queue's SQL, one blocking function per operation, each in one immediate transaction so a
//! message is delivered, redriven or deleted exactly as one step. Times are epoch milliseconds.
//!
//! Receiving mirrors SQS: visible messages oldest first; each delivery hides the message for the
//! visibility timeout, counts a receive and issues a fresh receipt (earlier receipts go stale); a
//! message already received `max_receives` times moves to the dead-letter queue instead, keeping
//! its id and receive count.

use rusqlite::{Connection, TransactionBehavior, params};

use crate::queue::{QueueError, ReceivedMessage};

use super::connection::StoreFault;
use super::queue::RedrivePolicy;

/// A message accepted for sending.
pub(crate) struct NewMessage {
    pub(crate) message_id: String,
    pub(crate) body: String,
}

/// What one receive did.
pub(crate) struct Received {
    pub(crate) delivered: Vec<ReceivedMessage>,
    /// How many messages moved to the dead-letter queue.
    pub(crate) redriven: usize,
}

fn immediate(connection: &mut Connection) -> Result<rusqlite::Transaction<'_>, QueueError> {
    connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(QueueError::sqlite)
}

pub(crate) fn send(
    connection: &mut Connection,
    queue: &str,
    messages: &[NewMessage],
    now_ms: i64,
) -> Result<(), QueueError> {
    let transaction = immediate(connection)?;
    {
        let mut insert = transaction
            .prepare(
                "INSERT INTO messages (queue, message_id, body, sent_at_ms, visible_at_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
            )
            .map_err(QueueError::sqlite)?;
        for message in messages {
            insert
                .execute(params![queue, message.message_id, message.body, now_ms])
                .map_err(QueueError::sqlite)?;
        }
    }
    transaction.commit().map_err(QueueError::sqlite)
}

pub(crate) fn receive(
    connection: &mut Connection,
    queue: &str,
    redrive: Option<&RedrivePolicy>,
    max: usize,
    visibility_ms: i64,
    now_ms: i64,
) -> Result<Received, QueueError> {
    let mut received = Received {
        delivered: Vec::new(),
        redriven: 0,
    };
    // A long poll looks often: a plain read first, so an empty queue never takes the write lock.
    let any_visible: bool = connection
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE queue = ?1 AND visible_at_ms <= ?2)",
            params![queue, now_ms],
            |row| row.get(0),
        )
        .map_err(QueueError::sqlite)?;
    if !any_visible {
        return Ok(received);
    }
    let transaction = immediate(connection)?;
    {
        let mut visible = transaction
            .prepare(
                "SELECT seq, message_id, body, receive_count FROM messages \
                 WHERE queue = ?1 AND seq > ?2 AND visible_at_ms <= ?3 ORDER BY seq LIMIT ?4",
            )
            .map_err(QueueError::sqlite)?;
        let mut deliver = transaction
            .prepare(
                "UPDATE messages SET visible_at_ms = ?2, receive_count = ?3, receipt = ?4 WHERE seq = ?1",
            )
            .map_err(QueueError::sqlite)?;
        let mut redrive_to = transaction
            .prepare(
                "UPDATE messages SET queue = ?2, visible_at_ms = ?3, receipt = NULL WHERE seq = ?1",
            )
            .map_err(QueueError::sqlite)?;
        // Every pass either delivers or redrives what it reads, and `seq > last` never reads a
        // message twice (with a zero visibility it would be visible again at once).
        let mut last_seq = 0i64;
        while received.delivered.len() < max {
            let wanted = i64::try_from(max - received.delivered.len()).unwrap_or(i64::MAX);
            let batch: Vec<(i64, String, String, u32)> = visible
                .query_map(params![queue, last_seq, now_ms, wanted], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .map_err(QueueError::sqlite)?
                .collect::<Result<_, _>>()
                .map_err(QueueError::sqlite)?;
            if batch.is_empty() {
                break;
            }
            for (seq, message_id, body, receive_count) in batch {
                last_seq = seq;
                match redrive {
                    Some(policy) if receive_count >= policy.max_receives => {
                        redrive_to
                            .execute(params![seq, policy.dead_letter, now_ms])
                            .map_err(QueueError::sqlite)?;
                        tracing::warn!(
                            queue,
                            dead_letter = %policy.dead_letter,
                            %message_id,
                            receive_count,
                            "message moved to the dead-letter queue"
                        );
                        received.redriven += 1;
                    }
                    _ => {
                        let receive_count = receive_count.saturating_add(1);
                        let receipt = uuid::Uuid::now_v7().simple().to_string();
                        deliver
                            .execute(params![
                                seq,
                                now_ms.saturating_add(visibility_ms),
                                receive_count,
                                receipt
                            ])
                            .map_err(QueueError::sqlite)?;
                        received.delivered.push(ReceivedMessage {
                            message_id,
                            receipt,
                            body,
                            receive_count,
                        });
                    }
                }
            }
        }
    }
    transaction.commit().map_err(QueueError::sqlite)?;
    Ok(received)
}

/// Deletes by receipt; receipts that match nothing (stale, unknown, of another queue) are ignored.
pub(crate) fn delete(
    connection: &mut Connection,
    queue: &str,
    receipts: &[String],
) -> Result<usize, QueueError> {
    let transaction = immediate(connection)?;
    let mut deleted = 0;
    {
        let mut delete = transaction
            .prepare("DELETE FROM messages WHERE receipt = ?1 AND queue = ?2")
            .map_err(QueueError::sqlite)?;
        for receipt in receipts {
            deleted += delete
                .execute(params![receipt, queue])
                .map_err(QueueError::sqlite)?;
        }
    }
    transaction.commit().map_err(QueueError::sqlite)?;
    Ok(deleted)
}

/// Makes every in-flight message of `queue` visible now; their receipts go stale.
pub(crate) fn reclaim(
    connection: &mut Connection,
    queue: &str,
    now_ms: i64,
) -> Result<usize, QueueError> {
    connection
        .execute(
            "UPDATE messages SET visible_at_ms = ?2, receipt = NULL WHERE queue = ?1 AND visible_at_ms > ?2",
            params![queue, now_ms],
        )
        .map_err(QueueError::sqlite)
}

/// (visible, in flight) message counts of `queue`.
pub(crate) fn counts(
    connection: &mut Connection,
    queue: &str,
    now_ms: i64,
) -> Result<(u64, u64), QueueError> {
    let (visible, in_flight): (i64, i64) = connection
        .query_row(
            "SELECT COALESCE(SUM(visible_at_ms <= ?2), 0), COALESCE(SUM(visible_at_ms > ?2), 0) \
             FROM messages WHERE queue = ?1",
            params![queue, now_ms],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(QueueError::sqlite)?;
    Ok((
        u64::try_from(visible).unwrap_or(0),
        u64::try_from(in_flight).unwrap_or(0),
    ))
}
