//! Helpers the conformance cases share: unique partition names (so a suite may even run against a
//! shared table), reading every page of a query, and waiting for eventually consistent reads.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::table::{Item, Query, Table, Value};

/// More pages than any case can need: a query loop past this is not ending.
const MAX_PAGES: usize = 200;

/// A partition key no other case or run uses.
pub(crate) fn unique(case: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or(0);
    format!(
        "conformance#{case}#{nanos:x}.{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub(crate) fn s(text: &str) -> Value {
    Value::S(text.to_owned())
}

/// Every item the query selects, following cursors; checks each page respects the limit.
pub(crate) async fn query_all(table: &dyn Table, query: Query) -> Vec<Item> {
    let limit = query.limit;
    let mut query = query;
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = table.query(query.clone()).await.expect("query");
        assert!(
            page.items.len() <= limit,
            "a page held {} items, more than the limit {limit}",
            page.items.len()
        );
        items.extend(page.items);
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return items,
        }
    }
    panic!("the query did not end after {MAX_PAGES} pages");
}

pub(crate) fn sort_keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|item| item.key.sk.clone()).collect()
}

/// Polls `check` until it returns true or `within` passes (for reads DynamoDB makes eventually
/// consistent, such as secondary indexes). Panics with `what` when it never holds.
pub(crate) async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
