//! The port conformance suites run against the SQLite adapters (file-backed, as crm-local uses
//! them, and in memory), plus what only the embedded adapters promise: durability across a
//! reopen, reclaiming in-flight messages at start, purging expired items.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crm_store::conformance::queue::QueuePair;
use crm_store::conformance::{queue as queue_suite, table as table_suite};
use crm_store::queue::{OutgoingMessage, Queue, QueueError};
use crm_store::sqlite::{OpenError, QueueCounts, RedrivePolicy, SqliteQueue, SqliteTable};
use crm_store::table::{Item, Key, Query, Table, Update, Value};
use tempfile::TempDir;

const EVENTS: &str = "events";
const DEAD_LETTERS: &str = "events-dlq";

/// A temporary directory handing out a new database file name per call.
struct Files {
    dir: TempDir,
    next: AtomicUsize,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
            next: AtomicUsize::new(0),
        }
    }

    fn fresh(&self, stem: &str) -> PathBuf {
        self.dir.path().join(format!(
            "{stem}-{}.db",
            self.next.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

fn redrive(max_receives: u32) -> Option<RedrivePolicy> {
    Some(RedrivePolicy {
        dead_letter: DEAD_LETTERS.to_owned(),
        max_receives,
    })
}

fn message(entry_id: &str, body: &str) -> OutgoingMessage {
    OutgoingMessage {
        entry_id: entry_id.to_owned(),
        body: body.to_owned(),
    }
}

fn now_seconds() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_backed_table_passes_the_table_conformance_suite() {
    let files = Files::new();
    table_suite::run_all(|| {
        let path = files.fresh("table");
        async move { Arc::new(SqliteTable::open(&path).unwrap()) as Arc<dyn Table> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_memory_table_passes_the_table_conformance_suite() {
    table_suite::run_all(|| async {
        Arc::new(SqliteTable::in_memory().unwrap()) as Arc<dyn Table>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_backed_queue_passes_the_queue_conformance_suite() {
    let files = Files::new();
    queue_suite::run_all(|| {
        let path = files.fresh("queue");
        async move {
            let queue = SqliteQueue::open(&path, EVENTS, redrive(3)).unwrap();
            let dead_letters = queue.sibling(DEAD_LETTERS, None).unwrap();
            QueuePair {
                queue: Arc::new(queue),
                dead_letters: Arc::new(dead_letters),
                max_receives: 3,
            }
        }
    })
    .await;
}

#[tokio::test]
async fn acknowledged_table_writes_survive_reopening_the_file() {
    let files = Files::new();
    let path = files.fresh("durable-table");
    let key = Key::new("P", "S");
    {
        let table = SqliteTable::open(&path).unwrap();
        table
            .put(
                Item::new(key.clone()).with("name", Value::S("kept".to_owned())),
                None,
            )
            .await
            .unwrap();
        let add = Update {
            add: vec![("count".to_owned(), 2)],
            ..Update::default()
        };
        table.update(&key, add, None).await.unwrap();
    }
    let reopened = SqliteTable::open(&path).unwrap();
    let item = reopened.get(&key).await.unwrap().unwrap();
    assert_eq!(
        (item.get_str("name"), item.get_i64("count")),
        (Some("kept"), Some(2))
    );
}

#[tokio::test]
async fn acknowledged_messages_survive_reopening_the_file() {
    let files = Files::new();
    let path = files.fresh("durable-queue");
    {
        let queue = SqliteQueue::open(&path, EVENTS, redrive(5)).unwrap();
        let outcome = queue
            .send_batch(vec![message("a", "survives")])
            .await
            .unwrap();
        assert!(outcome.failed.is_empty());
    }
    let reopened = SqliteQueue::open(&path, EVENTS, redrive(5)).unwrap();
    let received = reopened
        .receive(10, Duration::from_secs(30), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        received.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["survives"]
    );
}

#[tokio::test]
async fn reclaim_in_flight_makes_every_in_flight_message_visible_now() {
    let files = Files::new();
    let path = files.fresh("reclaim");
    let queue = SqliteQueue::open(&path, EVENTS, redrive(5)).unwrap();
    queue
        .send_batch(vec![
            message("a", "one"),
            message("b", "two"),
            message("c", "three"),
        ])
        .await
        .unwrap();
    let hour = Duration::from_secs(3600);
    let first = queue.receive(2, hour, Duration::ZERO).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        queue.counts().await.unwrap(),
        QueueCounts {
            visible: 1,
            in_flight: 2
        }
    );

    // As after a crash: a new process opens the file and reclaims what the old one held.
    drop(queue);
    let queue = SqliteQueue::open(&path, EVENTS, redrive(5)).unwrap();
    assert_eq!(queue.reclaim_in_flight().await.unwrap(), 2);
    assert_eq!(
        queue.counts().await.unwrap(),
        QueueCounts {
            visible: 3,
            in_flight: 0
        }
    );

    let stale: Vec<String> = first.iter().map(|m| m.receipt.clone()).collect();
    queue.delete(&stale).await.unwrap();
    assert_eq!(
        queue.counts().await.unwrap().visible,
        3,
        "receipts from before the reclaim are stale"
    );
    let again = queue.receive(10, hour, Duration::ZERO).await.unwrap();
    assert_eq!(again.len(), 3);
    let counts: Vec<u32> = again.iter().map(|m| m.receive_count).collect();
    assert_eq!(
        counts,
        vec![2, 2, 1],
        "oldest first; reclaiming does not count as a receive"
    );
    assert_eq!(queue.reclaim_in_flight().await.unwrap(), 3);
}

#[tokio::test]
async fn a_stale_receipt_never_deletes_the_redelivered_message() {
    let queue = SqliteQueue::in_memory(EVENTS, None).unwrap();
    queue.send_batch(vec![message("a", "body")]).await.unwrap();
    let first = queue
        .receive(1, Duration::ZERO, Duration::ZERO)
        .await
        .unwrap();
    let second = queue
        .receive(1, Duration::from_secs(60), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(second[0].receive_count, 2);
    queue.delete(&[first[0].receipt.clone()]).await.unwrap();
    assert_eq!(
        queue.counts().await.unwrap(),
        QueueCounts {
            visible: 0,
            in_flight: 1
        }
    );
    queue.delete(&[second[0].receipt.clone()]).await.unwrap();
    assert_eq!(queue.counts().await.unwrap(), QueueCounts::default());
}

#[tokio::test]
async fn a_dead_letter_queue_opened_on_its_own_connection_receives_redriven_messages() {
    let files = Files::new();
    let path = files.fresh("separate-dlq");
    let queue = SqliteQueue::open(&path, EVENTS, redrive(1)).unwrap();
    let dead_letters = SqliteQueue::open(&path, DEAD_LETTERS, None).unwrap();
    queue
        .send_batch(vec![message("a", "poison")])
        .await
        .unwrap();
    assert_eq!(
        queue
            .receive(1, Duration::ZERO, Duration::ZERO)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        queue
            .receive(1, Duration::ZERO, Duration::ZERO)
            .await
            .unwrap(),
        vec![],
        "redriven, not delivered"
    );
    let dead = dead_letters
        .receive(1, Duration::from_secs(30), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(
        dead.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["poison"]
    );
    assert_eq!(
        dead[0].receive_count, 2,
        "the receive count carries over, as on SQS"
    );
}

#[tokio::test]
async fn receive_refuses_what_sqs_refuses() {
    let queue = SqliteQueue::in_memory(EVENTS, None).unwrap();
    let too_long_visibility = queue
        .receive(1, Duration::from_secs(12 * 3600 + 1), Duration::ZERO)
        .await;
    assert!(matches!(too_long_visibility, Err(QueueError::Invalid(_))));
    let too_long_wait = queue
        .receive(1, Duration::from_secs(1), Duration::from_secs(21))
        .await;
    assert!(matches!(too_long_wait, Err(QueueError::Invalid(_))));
    let outcome = queue
        .send_batch(vec![message("empty", ""), message("nul", "a\u{0}b")])
        .await
        .unwrap();
    assert_eq!(outcome.failed.len(), 2);
}

#[tokio::test]
async fn expired_items_stay_readable_until_purged() {
    let table = SqliteTable::in_memory().unwrap();
    let now = now_seconds();
    let with_ttl = |sk: &str, ttl: Option<Value>| {
        let item = Item::new(Key::new("P", sk));
        match ttl {
            Some(ttl) => item.with("ttl", ttl),
            None => item,
        }
    };
    for (sk, ttl) in [
        ("expired-1", Some(Value::N(now - 300))),
        ("expired-2", Some(Value::N(now - 200))),
        ("expired-3", Some(Value::N(now - 100))),
        ("future", Some(Value::N(now + 3600))),
        ("no-ttl", None),
        ("text-ttl", Some(Value::S("not a number".to_owned()))),
    ] {
        table.put(with_ttl(sk, ttl), None).await.unwrap();
    }
    assert!(
        table
            .get(&Key::new("P", "expired-1"))
            .await
            .unwrap()
            .is_some(),
        "reads do not hide expired items"
    );
    assert_eq!(
        table
            .query(Query::partition("P"))
            .await
            .unwrap()
            .items
            .len(),
        6
    );

    assert_eq!(table.purge_expired(now, 2).await.unwrap(), 2);
    assert_eq!(table.purge_expired(now, 2).await.unwrap(), 1);
    assert_eq!(table.purge_expired(now, 2).await.unwrap(), 0);
    let left: Vec<String> = table
        .query(Query::partition("P"))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|item| item.key.sk)
        .collect();
    assert_eq!(left, vec!["future", "no-ttl", "text-ttl"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_handles_on_one_file_serialise_their_writes() {
    let files = Files::new();
    let path = files.fresh("two-handles");
    let handles = [
        Arc::new(SqliteTable::open(&path).unwrap()),
        Arc::new(SqliteTable::open(&path).unwrap()),
    ];
    let key = Key::new("P", "COUNTER");
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let table = Arc::clone(&handles[n % 2]);
            let key = key.clone();
            tokio::spawn(async move {
                let add = Update {
                    add: vec![("n".to_owned(), 1)],
                    ..Update::default()
                };
                table.update(&key, add, None).await.unwrap();
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        handles[0].get(&key).await.unwrap().unwrap().get_i64("n"),
        Some(20)
    );
}

#[test]
fn opening_in_a_missing_directory_names_the_path() {
    let files = Files::new();
    let path = files.dir.path().join("missing").join("store.db");
    let error = SqliteTable::open(&path).err().unwrap();
    assert!(matches!(error, OpenError::Database { .. }));
    assert!(error.to_string().contains("missing"), "{error}");
    let own_dead_letters = RedrivePolicy {
        dead_letter: EVENTS.to_owned(),
        max_receives: 3,
    };
    assert!(matches!(
        SqliteQueue::in_memory(EVENTS, Some(own_dead_letters)),
        Err(OpenError::InvalidConfig(_))
    ));
}

#[test]
fn the_adapters_are_shareable_ports() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<SqliteTable>();
    shareable::<SqliteQueue>();
    let table: Arc<dyn Table> = Arc::new(SqliteTable::in_memory().unwrap());
    let queue: Arc<dyn Queue> = Arc::new(SqliteQueue::in_memory(EVENTS, None).unwrap());
    drop((table, queue));
}
