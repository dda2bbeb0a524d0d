//! Value cases: the item size limit, every value type, UTF-8 byte order of keys, and requests
//! DynamoDB refuses outright.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::super::support::{query_all, s, sort_keys, unique};
use super::{owned, puts, query, reversed};
use crate::table::{
    Item, Key, MAX_ITEM_BYTES, MAX_QUERY_LIMIT, SortKeyCondition, Table, TableError, Update, Value,
};

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
