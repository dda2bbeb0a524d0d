//! Batch and transaction cases: their limits, duplicate keys, and all-or-nothing transactions.

use std::sync::Arc;

use super::super::support::{query_all, s, unique};
use super::{puts, query};
use crate::table::{
    Condition, Item, Key, SortKeyCondition, Table, TableError, TransactItem, Update, Value,
    WriteRequest,
};

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
