//! The `Table` conformance suite: what every adapter must do the way DynamoDB does it.
//!
//! An adapter's test calls [`run_all`] with a function that makes a fresh, empty table:
//! `conformance::table::run_all(|| async { Arc::new(MyTable::new()) as Arc<dyn Table> }).await`.
//! Reads of the secondary indexes are polled until they settle, as DynamoDB's indexes are
//! eventually consistent; reads by key are strongly consistent.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::support::{eventually, query_all, s, sort_keys, unique};
use super::{CaseFuture, run_case};
use crate::table::{
    Condition, Cursor, Index, Item, Key, MAX_ITEM_BYTES, MAX_QUERY_LIMIT, Query, SortKeyCondition,
    Table, TableError, TransactItem, Update, Value, WriteRequest,
};

/// One case: takes a fresh table, panics when the adapter misbehaves.
pub type TableCase = fn(Arc<dyn Table>) -> CaseFuture;

/// How long an index may take to show a write.
const INDEX_SETTLE: Duration = Duration::from_secs(10);

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        vec![$((stringify!($case), (|table| Box::pin($case(table)) as CaseFuture) as TableCase)),*]
    };
}

/// Every case, by name.
pub fn cases() -> Vec<(&'static str, TableCase)> {
    cases![
        get_returns_none_for_a_missing_item_and_the_item_when_present,
        put_replaces_the_whole_item,
        put_if_not_exists_fails_on_an_existing_item_and_leaves_it_unchanged,
        put_conditions_on_attributes_are_checked_against_the_stored_item,
        update_creates_a_missing_item_and_returns_it,
        update_add_starts_from_zero_and_accumulates,
        concurrent_adds_are_atomic,
        update_sets_and_removes_and_returns_the_whole_item,
        update_with_a_failed_condition_changes_nothing,
        update_refuses_add_on_a_non_number_and_changes_to_the_key,
        delete_with_and_without_a_condition,
        query_applies_sort_key_conditions_in_both_directions,
        query_pages_through_a_partition_exactly_once_in_order,
        index_queries_are_sparse_and_paginate,
        index_items_with_equal_sort_keys_page_without_loss_or_repetition,
        tampered_cursors_are_invalid,
        batch_write_puts_and_deletes,
        batch_write_of_more_than_25_requests_is_invalid,
        batches_with_duplicate_keys_are_invalid,
        batch_get_returns_only_existing_items,
        transact_write_is_all_or_nothing,
        transact_write_refuses_duplicate_keys_and_more_than_100_items,
        items_over_400_kib_are_invalid,
        values_of_every_type_round_trip,
        keys_sort_by_utf8_bytes,
        invalid_requests_are_refused,
    ]
}

/// Runs every case, each against a fresh table from `make`; panics naming the first that fails.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn Table>>,
{
    for (name, case) in cases() {
        let table = make().await;
        run_case("table", name, case(table)).await;
    }
}

pub async fn get_returns_none_for_a_missing_item_and_the_item_when_present(table: Arc<dyn Table>) {
    let pk = unique("get");
    let key = Key::new(&pk, "A");
    assert_eq!(table.get(&key).await.expect("get"), None);
    let item = Item::new(key.clone())
        .with("name", s("x"))
        .with("count", Value::N(3));
    table.put(item.clone(), None).await.expect("put");
    assert_eq!(table.get(&key).await.expect("get"), Some(item));
    assert_eq!(table.get(&Key::new(&pk, "B")).await.expect("get"), None);
}

pub async fn put_replaces_the_whole_item(table: Arc<dyn Table>) {
    let key = Key::new(unique("put"), "A");
    table
        .put(
            Item::new(key.clone())
                .with("a", Value::N(1))
                .with("b", s("x")),
            None,
        )
        .await
        .expect("put");
    let replacement = Item::new(key.clone()).with("c", Value::Bool(true));
    table
        .put(replacement.clone(), None)
        .await
        .expect("put again");
    assert_eq!(table.get(&key).await.expect("get"), Some(replacement));
}

pub async fn put_if_not_exists_fails_on_an_existing_item_and_leaves_it_unchanged(
    table: Arc<dyn Table>,
) {
    let key = Key::new(unique("put-if-new"), "A");
    let first = Item::new(key.clone()).with("v", s("first"));
    table
        .put(first.clone(), Some(Condition::ItemNotExists))
        .await
        .expect("put on a missing item");
    let second = Item::new(key.clone()).with("v", s("second"));
    assert_eq!(
        table.put(second, Some(Condition::ItemNotExists)).await,
        Err(TableError::ConditionFailed)
    );
    assert_eq!(table.get(&key).await.expect("get"), Some(first));
}

pub async fn put_conditions_on_attributes_are_checked_against_the_stored_item(
    table: Arc<dyn Table>,
) {
    let key = Key::new(unique("put-conditions"), "A");
    let version = |n: i64| {
        Item::new(key.clone())
            .with("version", Value::N(n))
            .with("state", s("open"))
    };
    let equals = |n: i64| Condition::AttrEquals("version".to_owned(), Value::N(n));
    let exists = |name: &str| Condition::AttrExists(name.to_owned());
    let not_exists = |name: &str| Condition::AttrNotExists(name.to_owned());

    assert_eq!(
        table.put(version(1), Some(Condition::ItemExists)).await,
        Err(TableError::ConditionFailed)
    );
    assert_eq!(
        table.get(&key).await.expect("get"),
        None,
        "a failed put must not create the item"
    );
    table
        .put(version(1), Some(not_exists("version")))
        .await
        .expect("attribute_not_exists holds on a missing item");

    table
        .put(version(2), Some(equals(1)))
        .await
        .expect("put when version = 1");
    assert_eq!(
        table.put(version(3), Some(equals(1))).await,
        Err(TableError::ConditionFailed)
    );
    let wrong_type = Condition::AttrEquals("version".to_owned(), s("2"));
    assert_eq!(
        table.put(version(3), Some(wrong_type)).await,
        Err(TableError::ConditionFailed)
    );
    assert_eq!(table.get(&key).await.expect("get"), Some(version(2)));

    table
        .put(version(3), Some(exists("state")))
        .await
        .expect("attribute_exists(state)");
    assert_eq!(
        table.put(version(4), Some(exists("missing"))).await,
        Err(TableError::ConditionFailed)
    );
    table
        .put(version(4), Some(not_exists("missing")))
        .await
        .expect("attribute_not_exists(missing)");
    assert_eq!(
        table.put(version(5), Some(not_exists("state"))).await,
        Err(TableError::ConditionFailed)
    );

    let both = |n: i64| Condition::And(vec![exists("state"), equals(n)]);
    assert_eq!(
        table.put(version(5), Some(both(99))).await,
        Err(TableError::ConditionFailed)
    );
    table
        .put(version(5), Some(both(4)))
        .await
        .expect("both conditions hold");
    assert_eq!(table.get(&key).await.expect("get"), Some(version(5)));
}

pub async fn update_creates_a_missing_item_and_returns_it(table: Arc<dyn Table>) {
    let key = Key::new(unique("upsert"), "A");
    let update = Update {
        set: vec![("name".to_owned(), s("n"))],
        add: vec![("count".to_owned(), 2)],
        remove: vec![],
    };
    let returned = table
        .update(&key, update, None)
        .await
        .expect("update of a missing item");
    let expected = Item::new(key.clone())
        .with("name", s("n"))
        .with("count", Value::N(2));
    assert_eq!(returned, expected);
    assert_eq!(table.get(&key).await.expect("get"), Some(expected));
}

pub async fn update_add_starts_from_zero_and_accumulates(table: Arc<dyn Table>) {
    let key = Key::new(unique("add"), "A");
    table
        .put(Item::new(key.clone()).with("other", s("kept")), None)
        .await
        .expect("put");
    let add = |name: &str, amount: i64| Update {
        add: vec![(name.to_owned(), amount)],
        ..Update::default()
    };
    let item = table
        .update(&key, add("hits", 5), None)
        .await
        .expect("add to a missing attribute");
    assert_eq!(item.get_i64("hits"), Some(5));
    let item = table
        .update(&key, add("hits", -2), None)
        .await
        .expect("add a negative amount");
    assert_eq!(item.get_i64("hits"), Some(3));
    let both = Update {
        add: vec![("hits".to_owned(), 1), ("views".to_owned(), 7)],
        ..Update::default()
    };
    let item = table
        .update(&key, both, None)
        .await
        .expect("add to two attributes");
    assert_eq!(
        (item.get_i64("hits"), item.get_i64("views")),
        (Some(4), Some(7))
    );
    assert_eq!(item.get_str("other"), Some("kept"));
}

pub async fn concurrent_adds_are_atomic(table: Arc<dyn Table>) {
    const WRITERS: i64 = 20;
    let key = Key::new(unique("concurrent-add"), "COUNTER");
    let tasks: Vec<_> = (0..WRITERS)
        .map(|_| {
            let table = Arc::clone(&table);
            let key = key.clone();
            tokio::spawn(async move {
                let update = Update {
                    add: vec![("hits".to_owned(), 1)],
                    ..Update::default()
                };
                table
                    .update(&key, update, None)
                    .await
                    .expect("concurrent add")
                    .get_i64("hits")
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.expect("writer task").expect("hits is a number"));
    }
    seen.sort_unstable();
    assert_eq!(
        seen,
        (1..=WRITERS).collect::<Vec<_>>(),
        "each add must see the one before it"
    );
    let stored = table
        .get(&key)
        .await
        .expect("get")
        .expect("the counter exists");
    assert_eq!(stored.get_i64("hits"), Some(WRITERS));
}

pub async fn update_sets_and_removes_and_returns_the_whole_item(table: Arc<dyn Table>) {
    let key = Key::new(unique("set-remove"), "A");
    let stored = Item::new(key.clone())
        .with("a", Value::N(1))
        .with("b", s("x"))
        .with("c", Value::Bool(true));
    table.put(stored, None).await.expect("put");
    let update = Update {
        set: vec![
            ("b".to_owned(), s("y")),
            ("d".to_owned(), Value::B(vec![1, 2])),
        ],
        add: vec![],
        remove: vec!["c".to_owned(), "never-there".to_owned()],
    };
    let returned = table.update(&key, update, None).await.expect("update");
    let expected = Item::new(key.clone())
        .with("a", Value::N(1))
        .with("b", s("y"))
        .with("d", Value::B(vec![1, 2]));
    assert_eq!(returned, expected);
    assert_eq!(table.get(&key).await.expect("get"), Some(expected));
}

pub async fn update_with_a_failed_condition_changes_nothing(table: Arc<dyn Table>) {
    let pk = unique("update-condition");
    let key = Key::new(&pk, "A");
    let stored = Item::new(key.clone()).with("v", Value::N(1));
    table.put(stored.clone(), None).await.expect("put");
    let bump = || Update {
        add: vec![("v".to_owned(), 1)],
        set: vec![("x".to_owned(), s("x"))],
        remove: vec![],
    };
    let wrong = Condition::AttrEquals("v".to_owned(), Value::N(5));
    assert_eq!(
        table.update(&key, bump(), Some(wrong)).await,
        Err(TableError::ConditionFailed)
    );
    assert_eq!(table.get(&key).await.expect("get"), Some(stored.clone()));
    let right = Condition::AttrEquals("v".to_owned(), Value::N(1));
    let updated = table
        .update(&key, bump(), Some(right))
        .await
        .expect("update when v = 1");
    assert_eq!(updated, stored.with("v", Value::N(2)).with("x", s("x")));

    let missing = Key::new(&pk, "MISSING");
    assert_eq!(
        table
            .update(&missing, bump(), Some(Condition::ItemExists))
            .await,
        Err(TableError::ConditionFailed)
    );
    assert_eq!(
        table.get(&missing).await.expect("get"),
        None,
        "a failed update must not create the item"
    );
}

pub async fn update_refuses_add_on_a_non_number_and_changes_to_the_key(table: Arc<dyn Table>) {
    let key = Key::new(unique("update-invalid"), "A");
    let stored = Item::new(key.clone())
        .with("name", s("x"))
        .with("flag", Value::Bool(true));
    table.put(stored.clone(), None).await.expect("put");
    for name in ["name", "flag"] {
        let add = Update {
            add: vec![(name.to_owned(), 1)],
            ..Update::default()
        };
        assert!(
            matches!(
                table.update(&key, add, None).await,
                Err(TableError::Invalid(_))
            ),
            "ADD to {name}"
        );
    }
    for name in ["pk", "sk"] {
        let set = Update {
            set: vec![(name.to_owned(), s("other"))],
            ..Update::default()
        };
        assert!(
            matches!(
                table.update(&key, set, None).await,
                Err(TableError::Invalid(_))
            ),
            "SET {name}"
        );
        let remove = Update {
            remove: vec![name.to_owned()],
            ..Update::default()
        };
        assert!(
            matches!(
                table.update(&key, remove, None).await,
                Err(TableError::Invalid(_))
            ),
            "REMOVE {name}"
        );
    }
    assert_eq!(table.get(&key).await.expect("get"), Some(stored));
}

pub async fn delete_with_and_without_a_condition(table: Arc<dyn Table>) {
    let pk = unique("delete");
    let key = Key::new(&pk, "A");
    table
        .delete(&Key::new(&pk, "MISSING"), None)
        .await
        .expect("deleting a missing item is fine");
    assert_eq!(
        table
            .delete(&Key::new(&pk, "MISSING"), Some(Condition::ItemExists))
            .await,
        Err(TableError::ConditionFailed)
    );

    let stored = Item::new(key.clone()).with("v", Value::N(1));
    table.put(stored.clone(), None).await.expect("put");
    let wrong = Condition::AttrEquals("v".to_owned(), Value::N(2));
    assert_eq!(
        table.delete(&key, Some(wrong)).await,
        Err(TableError::ConditionFailed)
    );
    assert_eq!(table.get(&key).await.expect("get"), Some(stored.clone()));
    table
        .delete(
            &key,
            Some(Condition::AttrEquals("v".to_owned(), Value::N(1))),
        )
        .await
        .expect("conditional delete");
    assert_eq!(table.get(&key).await.expect("get"), None);

    table.put(stored, None).await.expect("put again");
    table.delete(&key, None).await.expect("delete");
    assert_eq!(table.get(&key).await.expect("get"), None);
}

fn puts(pk: &str, sort_keys: &[&str]) -> Vec<WriteRequest> {
    sort_keys
        .iter()
        .map(|sk| WriteRequest::Put(Item::new(Key::new(pk, *sk)).with("sk-copy", s(sk))))
        .collect()
}

fn query(pk: &str, sk: SortKeyCondition, forward: bool, limit: usize) -> Query {
    Query {
        index: None,
        pk: pk.to_owned(),
        sk,
        forward,
        limit,
        cursor: None,
    }
}

fn reversed(items: &[&str]) -> Vec<String> {
    items.iter().rev().map(|item| (*item).to_owned()).collect()
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

pub async fn query_applies_sort_key_conditions_in_both_directions(table: Arc<dyn Table>) {
    let pk = unique("query-conditions");
    let other = unique("query-conditions-other");
    let all = ["a", "b", "b#1", "b#2", "b#3", "c"];
    let mut writes = puts(&pk, &all);
    writes.extend(puts(&other, &["b#1"]));
    table.batch_write(writes).await.expect("batch_write");

    let cases = [
        (SortKeyCondition::Any, &all[..]),
        (SortKeyCondition::BeginsWith("b#".to_owned()), &all[2..5]),
        (
            SortKeyCondition::Between("b#2".to_owned(), "c".to_owned()),
            &all[3..],
        ),
        (
            SortKeyCondition::Between("b".to_owned(), "b#2".to_owned()),
            &all[1..4],
        ),
        (
            SortKeyCondition::Between("a0".to_owned(), "a1".to_owned()),
            &[][..],
        ),
    ];
    for (condition, expected) in cases {
        let forward = query_all(table.as_ref(), query(&pk, condition.clone(), true, 100)).await;
        assert_eq!(
            sort_keys(&forward),
            owned(expected),
            "{condition:?} forward"
        );
        let backward = query_all(table.as_ref(), query(&pk, condition.clone(), false, 100)).await;
        assert_eq!(
            sort_keys(&backward),
            reversed(expected),
            "{condition:?} backward"
        );
    }
    let items = query_all(table.as_ref(), query(&pk, SortKeyCondition::Any, true, 100)).await;
    assert!(
        items
            .iter()
            .all(|item| item.get_str("sk-copy") == Some(item.key.sk.as_str())),
        "whole items"
    );
}

pub async fn query_pages_through_a_partition_exactly_once_in_order(table: Arc<dyn Table>) {
    let pk = unique("query-pages");
    let all = ["00", "01", "02", "03", "04", "05", "06"];
    let mut writes = puts(&pk, &all);
    writes.extend(puts(&unique("query-pages-other"), &["03"]));
    table.batch_write(writes).await.expect("batch_write");
    for limit in [1, 2, 3, 7] {
        let forward = query_all(
            table.as_ref(),
            query(&pk, SortKeyCondition::Any, true, limit),
        )
        .await;
        assert_eq!(sort_keys(&forward), owned(&all), "forward, limit {limit}");
        let backward = query_all(
            table.as_ref(),
            query(&pk, SortKeyCondition::Any, false, limit),
        )
        .await;
        assert_eq!(
            sort_keys(&backward),
            reversed(&all),
            "backward, limit {limit}"
        );
    }
    let between = SortKeyCondition::Between("01".to_owned(), "05".to_owned());
    let page = query_all(table.as_ref(), query(&pk, between.clone(), true, 2)).await;
    assert_eq!(sort_keys(&page), owned(&all[1..6]));
    let page = query_all(table.as_ref(), query(&pk, between, false, 2)).await;
    assert_eq!(sort_keys(&page), reversed(&all[1..6]));

    let first = table
        .query(query(&pk, SortKeyCondition::Any, true, 3))
        .await
        .expect("first page");
    assert_eq!(
        sort_keys(&first.items),
        owned(&all[..3]),
        "a page holds up to the limit"
    );
    assert!(
        first.next.is_some(),
        "a full page with more items after it has a cursor"
    );
}

fn index_item(
    pk: &str,
    sk: &str,
    index: Index,
    index_pk: Option<&str>,
    index_sk: Option<&str>,
) -> Item {
    let (pk_attr, sk_attr) = index.key_attrs();
    let mut item = Item::new(Key::new(pk, sk)).with("payload", s(&format!("{pk}/{sk}")));
    if let Some(value) = index_pk {
        item = item.with(pk_attr, s(value));
    }
    if let Some(value) = index_sk {
        item = item.with(sk_attr, s(value));
    }
    item
}

fn index_query(index: Index, pk: &str, sk: SortKeyCondition, forward: bool, limit: usize) -> Query {
    Query {
        index: Some(index),
        pk: pk.to_owned(),
        sk,
        forward,
        limit,
        cursor: None,
    }
}

fn index_sort_keys(items: &[Item], index: Index) -> Vec<String> {
    let (_, sk_attr) = index.key_attrs();
    items
        .iter()
        .map(|item| item.get_str(sk_attr).unwrap_or_default().to_owned())
        .collect()
}

pub async fn index_queries_are_sparse_and_paginate(table: Arc<dyn Table>) {
    for index in [Index::Gsi1, Index::Gsi2] {
        let base = unique("index");
        let index_pk = unique("index-partition");
        let other_index_pk = unique("index-partition-other");
        let sorted = ["t1", "t2", "t3", "t4", "t5"];
        // Spread over several table partitions, written out of order.
        let mut expected = Vec::new();
        let mut writes = Vec::new();
        for (n, index_sk) in [(3, "t3"), (1, "t1"), (5, "t5"), (2, "t2"), (4, "t4")] {
            let item = index_item(
                &format!("{base}#{}", n % 2),
                &format!("item-{n}"),
                index,
                Some(&index_pk),
                Some(index_sk),
            );
            expected.push(item.clone());
            writes.push(WriteRequest::Put(item));
        }
        for item in [
            index_item(&base, "no-sort-key", index, Some(&index_pk), None),
            index_item(&base, "no-partition-key", index, None, Some("t1")),
            index_item(&base, "neither", index, None, None),
            index_item(
                &base,
                "other-index-partition",
                index,
                Some(&other_index_pk),
                Some("t1"),
            ),
        ] {
            writes.push(WriteRequest::Put(item));
        }
        table.batch_write(writes).await.expect("batch_write");

        let everything = index_query(index, &index_pk, SortKeyCondition::Any, true, 100);
        eventually(
            INDEX_SETTLE,
            "the index showing the written items",
            || async { query_all(table.as_ref(), everything.clone()).await.len() == sorted.len() },
        )
        .await;
        let mut items = query_all(
            table.as_ref(),
            index_query(index, &index_pk, SortKeyCondition::Any, true, 2),
        )
        .await;
        assert_eq!(
            index_sort_keys(&items, index),
            owned(&sorted),
            "{index:?} forward pages"
        );
        items.sort_by(|a, b| a.key.cmp(&b.key));
        expected.sort_by(|a, b| a.key.cmp(&b.key));
        assert_eq!(
            items, expected,
            "{index:?} returns whole items, and only those in the index"
        );
        let backward = query_all(
            table.as_ref(),
            index_query(index, &index_pk, SortKeyCondition::Any, false, 2),
        )
        .await;
        assert_eq!(
            index_sort_keys(&backward, index),
            reversed(&sorted),
            "{index:?} backward pages"
        );
        let between = SortKeyCondition::Between("t2".to_owned(), "t4".to_owned());
        let middle = query_all(
            table.as_ref(),
            index_query(index, &index_pk, between, true, 1),
        )
        .await;
        assert_eq!(
            index_sort_keys(&middle, index),
            owned(&sorted[1..4]),
            "{index:?} between"
        );
        let prefix = SortKeyCondition::BeginsWith("t5".to_owned());
        let last = query_all(
            table.as_ref(),
            index_query(index, &index_pk, prefix, false, 1),
        )
        .await;
        assert_eq!(
            index_sort_keys(&last, index),
            owned(&sorted[4..]),
            "{index:?} begins_with"
        );

        // Removing an index key attribute takes the item out of the index.
        let (_, sk_attr) = index.key_attrs();
        let removed = Update {
            remove: vec![sk_attr.to_owned()],
            ..Update::default()
        };
        table
            .update(&expected[0].key, removed, None)
            .await
            .expect("remove the index sort key");
        eventually(INDEX_SETTLE, "the index dropping the item", || async {
            query_all(table.as_ref(), everything.clone()).await.len() == sorted.len() - 1
        })
        .await;
    }
}

pub async fn index_items_with_equal_sort_keys_page_without_loss_or_repetition(
    table: Arc<dyn Table>,
) {
    let index = Index::Gsi2;
    let base = unique("index-ties");
    let index_pk = unique("index-ties-partition");
    let mut expected = BTreeSet::new();
    let mut writes = Vec::new();
    for n in 0..5 {
        let item = index_item(
            &format!("{base}#{}", n % 3),
            &format!("item-{n}"),
            index,
            Some(&index_pk),
            Some("same"),
        );
        expected.insert(item.key.clone());
        writes.push(WriteRequest::Put(item));
    }
    table.batch_write(writes).await.expect("batch_write");
    let everything = index_query(index, &index_pk, SortKeyCondition::Any, true, 100);
    eventually(
        INDEX_SETTLE,
        "the index showing the written items",
        || async { query_all(table.as_ref(), everything.clone()).await.len() == expected.len() },
    )
    .await;
    for forward in [true, false] {
        for limit in [1, 2] {
            let items = query_all(
                table.as_ref(),
                index_query(index, &index_pk, SortKeyCondition::Any, forward, limit),
            )
            .await;
            let keys: Vec<Key> = items.iter().map(|item| item.key.clone()).collect();
            let distinct: BTreeSet<Key> = keys.iter().cloned().collect();
            assert_eq!(
                keys.len(),
                distinct.len(),
                "an item repeated (forward {forward}, limit {limit})"
            );
            assert_eq!(
                distinct, expected,
                "an item missing (forward {forward}, limit {limit})"
            );
        }
    }
}

pub async fn tampered_cursors_are_invalid(table: Arc<dyn Table>) {
    let pk = unique("cursor");
    table
        .batch_write(puts(&pk, &["a", "b", "c"]))
        .await
        .expect("batch_write");
    let first = table
        .query(query(&pk, SortKeyCondition::Any, true, 1))
        .await
        .expect("first page");
    let real = first
        .next
        .expect("a cursor after a full page with more items")
        .0;

    let with_cursor = |pk: &str, index: Option<Index>, cursor: &str| Query {
        index,
        cursor: Some(Cursor(cursor.to_owned())),
        ..query(pk, SortKeyCondition::Any, true, 1)
    };
    let truncated = real.get(..real.len() / 2).unwrap_or_default();
    for tampered in ["", "not a cursor!", "%%%", "eyJ9", truncated] {
        let result = table.query(with_cursor(&pk, None, tampered)).await;
        assert_eq!(
            result,
            Err(TableError::InvalidCursor),
            "cursor {tampered:?}"
        );
    }
    let elsewhere = table
        .query(with_cursor(&unique("cursor-other"), None, &real))
        .await;
    assert_eq!(
        elsewhere,
        Err(TableError::InvalidCursor),
        "a cursor of another partition"
    );
    let on_index = table
        .query(with_cursor(&pk, Some(Index::Gsi1), &real))
        .await;
    assert_eq!(
        on_index,
        Err(TableError::InvalidCursor),
        "a table cursor on an index"
    );

    let rest = table
        .query(with_cursor(&pk, None, &real))
        .await
        .expect("the real cursor still works");
    assert_eq!(
        rest.items.first().map(|item| item.key.sk.as_str()),
        Some("b")
    );
}

pub async fn batch_write_puts_and_deletes(table: Arc<dyn Table>) {
    let pk = unique("batch-write");
    table
        .batch_write(puts(&pk, &["x", "y", "z"]))
        .await
        .expect("first batch");
    let replaced = Item::new(Key::new(&pk, "y")).with("new", Value::Bool(true));
    let added = Item::new(Key::new(&pk, "a")).with("n", Value::N(1));
    table
        .batch_write(vec![
            WriteRequest::Put(added.clone()),
            WriteRequest::Put(replaced.clone()),
            WriteRequest::Delete(Key::new(&pk, "x")),
            WriteRequest::Delete(Key::new(&pk, "never-there")),
        ])
        .await
        .expect("second batch");
    let items = query_all(table.as_ref(), query(&pk, SortKeyCondition::Any, true, 100)).await;
    let untouched = Item::new(Key::new(&pk, "z")).with("sk-copy", s("z"));
    assert_eq!(items, vec![added, replaced, untouched]);
}

pub async fn batch_write_of_more_than_25_requests_is_invalid(table: Arc<dyn Table>) {
    let pk = unique("batch-write-limit");
    let names: Vec<String> = (0..26).map(|n| format!("{n:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    assert!(matches!(
        table.batch_write(puts(&pk, &refs)).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(
        table.get(&Key::new(&pk, "00")).await.expect("get"),
        None,
        "nothing of a refused batch is written"
    );
    table
        .batch_write(puts(&pk, &refs[..25]))
        .await
        .expect("25 requests are fine");
}

pub async fn batches_with_duplicate_keys_are_invalid(table: Arc<dyn Table>) {
    let pk = unique("batch-duplicates");
    let key = Key::new(&pk, "k");
    let twice = vec![
        WriteRequest::Put(Item::new(key.clone())),
        WriteRequest::Delete(key.clone()),
    ];
    assert!(matches!(
        table.batch_write(twice).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(table.get(&key).await.expect("get"), None);
    assert!(matches!(
        table.batch_get(&[key.clone(), key.clone()]).await,
        Err(TableError::Invalid(_))
    ));
    let too_many: Vec<Key> = (0..101).map(|n| Key::new(&pk, format!("{n:03}"))).collect();
    assert!(matches!(
        table.batch_get(&too_many).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(
        table
            .batch_get(&too_many[..100])
            .await
            .expect("100 keys are fine"),
        vec![]
    );
}

pub async fn batch_get_returns_only_existing_items(table: Arc<dyn Table>) {
    let pk = unique("batch-get");
    let a = Item::new(Key::new(&pk, "a")).with("v", Value::N(1));
    let b = Item::new(Key::new(&pk, "b")).with("v", s("two"));
    table
        .batch_write(vec![
            WriteRequest::Put(a.clone()),
            WriteRequest::Put(b.clone()),
        ])
        .await
        .expect("batch_write");
    let keys = [b.key.clone(), Key::new(&pk, "missing"), a.key.clone()];
    let mut items = table.batch_get(&keys).await.expect("batch_get");
    items.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(items, vec![a, b]);
}

pub async fn transact_write_is_all_or_nothing(table: Arc<dyn Table>) {
    let pk = unique("transact");
    let key = |sk: &str| Key::new(&pk, sk);
    let guard = Item::new(key("guard")).with("version", Value::N(1));
    let doomed = Item::new(key("doomed")).with("v", s("still here"));
    table
        .batch_write(vec![
            WriteRequest::Put(guard.clone()),
            WriteRequest::Put(doomed.clone()),
        ])
        .await
        .expect("setup");
    let add_one = |name: &str| Update {
        add: vec![(name.to_owned(), 1)],
        ..Update::default()
    };
    let new_item = Item::new(key("new")).with("v", s("new"));

    let cancelled = table
        .transact_write(vec![
            TransactItem::Put {
                item: new_item.clone(),
                condition: None,
            },
            TransactItem::Update {
                key: key("guard"),
                update: add_one("version"),
                condition: Some(Condition::AttrEquals("version".to_owned(), Value::N(7))),
            },
            TransactItem::Delete {
                key: key("doomed"),
                condition: None,
            },
            TransactItem::Update {
                key: key("counter"),
                update: add_one("n"),
                condition: None,
            },
        ])
        .await;
    assert_eq!(
        cancelled,
        Err(TableError::TransactionCanceled { failed: vec![1] })
    );
    assert_eq!(table.get(&key("new")).await.expect("get"), None);
    assert_eq!(
        table.get(&key("guard")).await.expect("get"),
        Some(guard.clone())
    );
    assert_eq!(table.get(&key("doomed")).await.expect("get"), Some(doomed));
    assert_eq!(table.get(&key("counter")).await.expect("get"), None);

    let failed_check = table
        .transact_write(vec![
            TransactItem::Put {
                item: new_item.clone(),
                condition: None,
            },
            TransactItem::ConditionCheck {
                key: key("missing"),
                condition: Condition::ItemExists,
            },
        ])
        .await;
    assert_eq!(
        failed_check,
        Err(TableError::TransactionCanceled { failed: vec![1] })
    );
    assert_eq!(table.get(&key("new")).await.expect("get"), None);

    table
        .transact_write(vec![
            TransactItem::Put {
                item: new_item.clone(),
                condition: Some(Condition::ItemNotExists),
            },
            TransactItem::Update {
                key: key("guard"),
                update: add_one("version"),
                condition: Some(Condition::AttrEquals("version".to_owned(), Value::N(1))),
            },
            TransactItem::Delete {
                key: key("doomed"),
                condition: Some(Condition::ItemExists),
            },
            TransactItem::Update {
                key: key("counter"),
                update: add_one("n"),
                condition: None,
            },
            TransactItem::ConditionCheck {
                key: key("absent"),
                condition: Condition::ItemNotExists,
            },
        ])
        .await
        .expect("a transaction whose conditions hold");
    assert_eq!(table.get(&key("new")).await.expect("get"), Some(new_item));
    assert_eq!(
        table.get(&key("guard")).await.expect("get"),
        Some(guard.with("version", Value::N(2)))
    );
    assert_eq!(table.get(&key("doomed")).await.expect("get"), None);
    assert_eq!(
        table
            .get(&key("counter"))
            .await
            .expect("get")
            .and_then(|item| item.get_i64("n")),
        Some(1)
    );
    assert_eq!(
        table.get(&key("absent")).await.expect("get"),
        None,
        "a condition check writes nothing"
    );
}

pub async fn transact_write_refuses_duplicate_keys_and_more_than_100_items(table: Arc<dyn Table>) {
    let pk = unique("transact-invalid");
    let key = Key::new(&pk, "k");
    let twice = vec![
        TransactItem::Put {
            item: Item::new(key.clone()),
            condition: None,
        },
        TransactItem::Update {
            key: key.clone(),
            update: Update::default(),
            condition: None,
        },
    ];
    assert!(matches!(
        table.transact_write(twice).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(table.get(&key).await.expect("get"), None);
    let too_many: Vec<TransactItem> = (0..101)
        .map(|n| TransactItem::Put {
            item: Item::new(Key::new(&pk, format!("{n:03}"))),
            condition: None,
        })
        .collect();
    assert!(matches!(
        table.transact_write(too_many).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(table.get(&Key::new(&pk, "000")).await.expect("get"), None);
}

pub async fn items_over_400_kib_are_invalid(table: Arc<dyn Table>) {
    let pk = unique("item-size");
    let too_big = Item::new(Key::new(&pk, "big")).with("blob", s(&"x".repeat(MAX_ITEM_BYTES + 1)));
    assert!(matches!(
        table.put(too_big, None).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(table.get(&Key::new(&pk, "big")).await.expect("get"), None);

    let large = Item::new(Key::new(&pk, "large")).with("blob", s(&"y".repeat(300 * 1024)));
    table
        .put(large.clone(), None)
        .await
        .expect("a 300 KiB item fits");
    assert_eq!(
        table.get(&large.key).await.expect("get"),
        Some(large.clone())
    );
    let grow = Update {
        set: vec![("more".to_owned(), Value::B(vec![7; 150 * 1024]))],
        ..Update::default()
    };
    assert!(matches!(
        table.update(&large.key, grow, None).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(table.get(&large.key).await.expect("get"), Some(large));
}

pub async fn values_of_every_type_round_trip(table: Arc<dyn Table>) {
    let pk = unique("values");
    let in_a_day = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or(0)
        + 86_400;
    let item = Item::new(Key::new(&pk, "all"))
        .with("text", s("héllo \"world\" 日本 😀"))
        .with("empty", s(""))
        .with("zero", Value::N(0))
        .with("negative", Value::N(-42))
        .with("max", Value::N(i64::MAX))
        .with("min", Value::N(i64::MIN))
        .with("bytes", Value::B(vec![0, 1, 2, 127, 128, 255]))
        .with("yes", Value::Bool(true))
        .with("no", Value::Bool(false))
        .with(
            crate::table::TTL_ATTR,
            Value::N(i64::try_from(in_a_day).unwrap_or(i64::MAX)),
        );
    table.put(item.clone(), None).await.expect("put");
    assert_eq!(table.get(&item.key).await.expect("get"), Some(item.clone()));
    assert_eq!(
        table
            .batch_get(std::slice::from_ref(&item.key))
            .await
            .expect("batch_get"),
        vec![item.clone()]
    );
    let queried = query_all(table.as_ref(), query(&pk, SortKeyCondition::Any, true, 10)).await;
    assert_eq!(queried, vec![item]);
}

pub async fn keys_sort_by_utf8_bytes(table: Arc<dyn Table>) {
    let pk = format!("{}#ünï#日本", unique("bytes"));
    let names = [
        "a", "B", "a#b", "a#", "#", "é", "z", "日本", "\u{FFFD}", "😀", "A b", "a~", "a#b#c",
    ];
    table
        .batch_write(puts(&pk, &names))
        .await
        .expect("batch_write");
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));

    let forward = query_all(table.as_ref(), query(&pk, SortKeyCondition::Any, true, 5)).await;
    assert_eq!(
        sort_keys(&forward),
        owned(&expected),
        "UTF-8 byte order (U+FFFD before 😀)"
    );
    let backward = query_all(table.as_ref(), query(&pk, SortKeyCondition::Any, false, 5)).await;
    assert_eq!(sort_keys(&backward), reversed(&expected));
    let prefixed = query_all(
        table.as_ref(),
        query(&pk, SortKeyCondition::BeginsWith("a#".to_owned()), true, 5),
    )
    .await;
    assert_eq!(sort_keys(&prefixed), owned(&["a#", "a#b", "a#b#c"]));
    let unicode = Key::new(&pk, "日本");
    assert_eq!(
        table.get(&unicode).await.expect("get").map(|item| item.key),
        Some(unicode)
    );
}

pub async fn invalid_requests_are_refused(table: Arc<dyn Table>) {
    let pk = unique("invalid");
    for limit in [0, MAX_QUERY_LIMIT + 1] {
        let result = table
            .query(query(&pk, SortKeyCondition::Any, true, limit))
            .await;
        assert!(
            matches!(result, Err(TableError::Invalid(_))),
            "limit {limit}"
        );
    }
    let backwards = SortKeyCondition::Between("b".to_owned(), "a".to_owned());
    assert!(matches!(
        table.query(query(&pk, backwards, true, 10)).await,
        Err(TableError::Invalid(_))
    ));

    let empty_sort_key = Item::new(Key::new(&pk, ""));
    assert!(matches!(
        table.put(empty_sort_key, None).await,
        Err(TableError::Invalid(_))
    ));
    assert!(matches!(
        table.get(&Key::new("", "a")).await,
        Err(TableError::Invalid(_))
    ));

    let key = Key::new(&pk, "a");
    let numeric_index_key = Item::new(key.clone())
        .with("gsi1pk", Value::N(1))
        .with("gsi1sk", s("x"));
    assert!(matches!(
        table.put(numeric_index_key, None).await,
        Err(TableError::Invalid(_))
    ));
    let set_numeric = Update {
        set: vec![("gsi2sk".to_owned(), Value::N(1))],
        ..Update::default()
    };
    assert!(matches!(
        table.update(&key, set_numeric, None).await,
        Err(TableError::Invalid(_))
    ));
    assert_eq!(table.get(&key).await.expect("get"), None);
}
