//! Single-item cases: get, put, update and delete, with and without conditions.

use std::sync::Arc;

use super::super::support::{s, unique};
use crate::table::{Condition, Item, Key, Table, TableError, Update, Value};

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
