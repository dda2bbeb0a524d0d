//! The `Queue` conformance suite: what every adapter must do the way SQS does it.
//!
//! An adapter's test calls [`run_all`] with a function that makes a fresh, empty queue and its
//! dead-letter queue (redrive after `max_receives` receives, at most 5 to keep the suite fast):
//! `conformance::queue::run_all(|| async { QueuePair { queue, dead_letters, max_receives: 3 } }).await`.
//!
//! As SQS promises no order and may return fewer messages than are available, cases compare sets
//! of bodies and always receive in a loop; visibility timeouts and waits are whole seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{CaseFuture, run_case};
use crate::queue::{MAX_MESSAGE_BYTES, OutgoingMessage, Queue, QueueError, ReceivedMessage};

/// A queue and the dead-letter queue its messages move to after `max_receives` receives.
#[derive(Clone)]
pub struct QueuePair {
    pub queue: Arc<dyn Queue>,
    pub dead_letters: Arc<dyn Queue>,
    pub max_receives: u32,
}

/// One case: takes a fresh queue pair, panics when the adapter misbehaves.
pub type QueueCase = fn(QueuePair) -> CaseFuture;

/// SQS counts visibility in whole seconds; one second keeps redelivery cases quick.
const VISIBILITY: Duration = Duration::from_secs(1);
/// Long enough that nothing is redelivered while a case is still collecting.
const LONG_VISIBILITY: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_secs(1);
/// How long a case waits for messages it expects before failing.
const PATIENCE: Duration = Duration::from_secs(10);

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        vec![$((stringify!($case), (|pair| Box::pin($case(pair)) as CaseFuture) as QueueCase)),*]
    };
}

/// Every case, by name.
pub fn cases() -> Vec<(&'static str, QueueCase)> {
    cases![
        sent_messages_are_received_with_their_bodies,
        a_received_message_stays_hidden_until_its_visibility_expires,
        deleted_messages_are_not_delivered_again,
        stale_and_unknown_receipts_are_ignored,
        receiving_zero_or_more_than_10_messages_is_invalid,
        messages_received_max_receives_times_move_to_the_dead_letter_queue,
        a_long_poll_returns_as_soon_as_a_message_arrives,
        an_oversized_body_fails_alone,
        more_than_10_messages_in_one_send_all_arrive,
        malformed_or_duplicate_entry_ids_refuse_the_whole_send,
    ]
}

/// Runs every case, each against a fresh queue pair from `make`; panics naming the first that fails.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = QueuePair>,
{
    for (name, case) in cases() {
        let pair = make().await;
        run_case("queue", name, case(pair)).await;
    }
}

fn outgoing(entry_id: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        entry_id: entry_id.to_owned(),
        body: body.to_owned(),
    }
}

async fn send_all(queue: &dyn Queue, bodies: &[&str]) {
    let messages = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| outgoing(&format!("m{n}"), body))
        .collect();
    let outcome = queue.send_batch(messages).await.expect("send_batch");
    assert_eq!(outcome.failed, vec![], "every message should be sent");
}

/// Receives until `count` distinct messages arrived (by message id), failing after [`PATIENCE`].
async fn receive_exactly(
    queue: &dyn Queue,
    count: usize,
    visibility: Duration,
) -> Vec<ReceivedMessage> {
    let deadline = Instant::now() + PATIENCE;
    let mut received: BTreeMap<String, ReceivedMessage> = BTreeMap::new();
    while received.len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} of {count} messages arrived within {PATIENCE:?}",
            received.len()
        );
        let max = (count - received.len()).min(10);
        for message in queue.receive(max, visibility, POLL).await.expect("receive") {
            received.insert(message.message_id.clone(), message);
        }
    }
    assert_eq!(
        received.len(),
        count,
        "more messages arrived than were sent"
    );
    received.into_values().collect()
}

/// Receives for `window` and asserts that nothing arrives.
async fn expect_nothing(queue: &dyn Queue, window: Duration) {
    let until = Instant::now() + window;
    while Instant::now() < until {
        let received = queue.receive(10, VISIBILITY, POLL).await.expect("receive");
        let bodies: Vec<&str> = received
            .iter()
            .map(|message| message.body.as_str())
            .collect();
        assert!(
            bodies.is_empty(),
            "expected no message, received {bodies:?}"
        );
    }
}

fn bodies(messages: &[ReceivedMessage]) -> BTreeSet<String> {
    messages
        .iter()
        .map(|message| message.body.clone())
        .collect()
}

fn body_set(bodies: &[&str]) -> BTreeSet<String> {
    bodies.iter().map(|body| (*body).to_owned()).collect()
}

async fn delete_all(queue: &dyn Queue, messages: &[ReceivedMessage]) {
    let receipts: Vec<String> = messages
        .iter()
        .map(|message| message.receipt.clone())
        .collect();
    queue.delete(&receipts).await.expect("delete");
}

pub async fn sent_messages_are_received_with_their_bodies(pair: QueuePair) {
    let queue = pair.queue.as_ref();
    let sent = ["first", "{\"json\":[1,2,3]}", "ünïcødé 😀\nwith a newline"];
    send_all(queue, &sent).await;
    let received = receive_exactly(queue, sent.len(), VISIBILITY).await;
    assert_eq!(bodies(&received), body_set(&sent));
    for message in &received {
        assert_eq!(
            message.receive_count, 1,
            "first delivery of {}",
            message.body
        );
        assert!(!message.receipt.is_empty() && !message.message_id.is_empty());
    }
    delete_all(queue, &received).await;
    expect_nothing(queue, VISIBILITY + Duration::from_millis(500)).await;
}

pub async fn a_received_message_stays_hidden_until_its_visibility_expires(pair: QueuePair) {
    let queue = pair.queue.as_ref();
    let visibility = Duration::from_secs(2);
    send_all(queue, &["hidden"]).await;
    let before_first = Instant::now();
    let first = receive_exactly(queue, 1, visibility).await.remove(0);
    // Asked again at once, within the visibility timeout: nothing (unless the machine stalled
    // past the timeout, which the elapsed-time check below tells apart).
    let mut early = queue.receive(10, visibility, POLL).await.expect("receive");
    let again = match early.pop() {
        Some(message) => message,
        None => receive_exactly(queue, 1, visibility).await.remove(0),
    };
    assert!(
        before_first.elapsed() >= visibility - Duration::from_millis(500),
        "redelivered after {:?}, before the visibility timeout",
        before_first.elapsed()
    );
    assert_eq!(
        (again.message_id.as_str(), again.body.as_str()),
        (first.message_id.as_str(), "hidden")
    );
    assert_eq!(again.receive_count, 2);
    assert_ne!(
        again.receipt, first.receipt,
        "each delivery has a new receipt"
    );
    delete_all(queue, &[again]).await;
}

pub async fn deleted_messages_are_not_delivered_again(pair: QueuePair) {
    let queue = pair.queue.as_ref();
    send_all(queue, &["deleted", "kept"]).await;
    let received = receive_exactly(queue, 2, VISIBILITY).await;
    let (deleted, kept): (Vec<_>, Vec<_>) = received
        .into_iter()
        .partition(|message| message.body == "deleted");
    delete_all(queue, &deleted).await;

    let redelivered = receive_exactly(queue, 1, VISIBILITY).await;
    assert_eq!(
        bodies(&redelivered),
        body_set(&["kept"]),
        "only the undeleted message comes back"
    );
    assert_eq!(redelivered[0].message_id, kept[0].message_id);
    assert_eq!(redelivered[0].receive_count, 2);
    delete_all(queue, &redelivered).await;
    expect_nothing(queue, VISIBILITY + Duration::from_millis(500)).await;
}

pub async fn stale_and_unknown_receipts_are_ignored(pair: QueuePair) {
    let queue = pair.queue.as_ref();
    send_all(queue, &["twice"]).await;
    let first = receive_exactly(queue, 1, VISIBILITY).await;
    let second = receive_exactly(queue, 1, VISIBILITY).await;
    assert_eq!(second[0].message_id, first[0].message_id);
    // SQS may or may not delete a message by an outdated receipt; either way the call succeeds.
    delete_all(queue, &first).await;
    queue
        .delete(&["not-a-receipt".to_owned()])
        .await
        .expect("an unknown receipt is ignored");
    queue.delete(&[]).await.expect("deleting nothing is fine");
    delete_all(queue, &second).await;
    expect_nothing(queue, VISIBILITY + Duration::from_millis(500)).await;
}

pub async fn receiving_zero_or_more_than_10_messages_is_invalid(pair: QueuePair) {
    for max in [0, 11] {
        let result = pair.queue.receive(max, VISIBILITY, Duration::ZERO).await;
        assert!(
            matches!(result, Err(QueueError::Invalid(_))),
            "receive({max}) gave {result:?}"
        );
    }
}

pub async fn messages_received_max_receives_times_move_to_the_dead_letter_queue(pair: QueuePair) {
    assert!(
        (1..=5).contains(&pair.max_receives),
        "use a max_receives of 1..=5 to keep the suite fast"
    );
    let queue = pair.queue.as_ref();
    send_all(queue, &["poison"]).await;
    let mut message_id = None;
    for attempt in 1..=pair.max_receives {
        let delivery = receive_exactly(queue, 1, VISIBILITY).await.remove(0);
        assert_eq!(delivery.receive_count, attempt, "delivery {attempt}");
        message_id.get_or_insert(delivery.message_id.clone());
        assert_eq!(Some(&delivery.message_id), message_id.as_ref());
    }
    // The next receive after the visibility expires moves the message instead of delivering it.
    expect_nothing(queue, VISIBILITY * 3).await;
    let dead = receive_exactly(pair.dead_letters.as_ref(), 1, VISIBILITY).await;
    assert_eq!(bodies(&dead), body_set(&["poison"]));
    delete_all(pair.dead_letters.as_ref(), &dead).await;
}

pub async fn a_long_poll_returns_as_soon_as_a_message_arrives(pair: QueuePair) {
    let sender = Arc::clone(&pair.queue);
    let started = Instant::now();
    let send = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        send_all(sender.as_ref(), &["late"]).await;
    });
    let wait = Duration::from_secs(10);
    let mut received = Vec::new();
    while received.is_empty() && started.elapsed() < wait {
        received = pair
            .queue
            .receive(1, VISIBILITY, wait)
            .await
            .expect("receive");
    }
    send.await.expect("sender task");
    assert_eq!(bodies(&received), body_set(&["late"]));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the long poll took {:?}",
        started.elapsed()
    );
    delete_all(pair.queue.as_ref(), &received).await;
}

pub async fn an_oversized_body_fails_alone(pair: QueuePair) {
    let queue = pair.queue.as_ref();
    let largest = "l".repeat(MAX_MESSAGE_BYTES);
    let too_large = "x".repeat(MAX_MESSAGE_BYTES + 1);
    let outcome = queue
        .send_batch(vec![
            outgoing("small-1", "small one"),
            outgoing("too-large", &too_large),
            outgoing("largest", &largest),
            outgoing("small-2", "small two"),
        ])
        .await
        .expect("send_batch");
    let failed: Vec<&str> = outcome
        .failed
        .iter()
        .map(|(entry_id, _)| entry_id.as_str())
        .collect();
    assert_eq!(failed, vec!["too-large"]);
    let received = receive_exactly(queue, 3, LONG_VISIBILITY).await;
    assert_eq!(
        bodies(&received),
        body_set(&["small one", &largest, "small two"])
    );
    delete_all(queue, &received).await;
}

pub async fn more_than_10_messages_in_one_send_all_arrive(pair: QueuePair) {
    let queue = pair.queue.as_ref();
    let sent: Vec<String> = (0..25).map(|n| format!("message {n:02}")).collect();
    let refs: Vec<&str> = sent.iter().map(String::as_str).collect();
    send_all(queue, &refs).await;
    let received = receive_exactly(queue, sent.len(), LONG_VISIBILITY).await;
    assert_eq!(bodies(&received), body_set(&refs));
    delete_all(queue, &received).await;
}

pub async fn malformed_or_duplicate_entry_ids_refuse_the_whole_send(pair: QueuePair) {
    let queue = pair.queue.as_ref();
    let duplicate = queue
        .send_batch(vec![outgoing("same", "one"), outgoing("same", "two")])
        .await;
    assert!(
        matches!(duplicate, Err(QueueError::Invalid(_))),
        "duplicate entry ids gave {duplicate:?}"
    );
    for entry_id in ["", "has space", "dot.ted", &"x".repeat(81)] {
        let result = queue
            .send_batch(vec![outgoing("fine", "ok"), outgoing(entry_id, "bad id")])
            .await;
        assert!(
            matches!(result, Err(QueueError::Invalid(_))),
            "entry id {entry_id:?} gave {result:?}"
        );
    }
    expect_nothing(queue, POLL).await;
}
