//! Query cases: sort key conditions, both directions, pagination on the table and on the
//! sparse secondary indexes, and cursors that were tampered with.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::super::support::{eventually, query_all, s, sort_keys, unique};
use super::{INDEX_SETTLE, owned, puts, query, reversed};
use crate::table::{
    Cursor, Index, Item, Key, Query, SortKeyCondition, Table, TableError, Update, WriteRequest,
};

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
