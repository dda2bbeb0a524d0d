//! DynamoDB's request limits, checked by every `Table` adapter before anything is read or
//! written, so that the embedded store refuses exactly what DynamoDB refuses and the DynamoDB
//! adapter refuses what emulators let through (moto accepts more than 25 batch writes, duplicate
//! keys in a batch, numeric index keys); a refusal found here costs no request.
//!
//! Refused: empty or oversized keys, empty attribute names, the key stored as an attribute, index
//! keys that are not non-empty strings within the key length limits, items over
//! [`MAX_ITEM_BYTES`] (as [`Item::size`] counts them), too many or duplicate keys in a batch or
//! transaction, updates that touch the key or name one attribute twice, and queries outside the
//! port's bounds.

// Only the adapters call these checks; a build with neither adapter has no use for them.
#![cfg_attr(not(any(feature = "sqlite", feature = "dynamodb")), allow(dead_code))]

use std::collections::HashSet;

use crate::table::{
    Index, Item, Key, MAX_BATCH_GET, MAX_BATCH_WRITE, MAX_ITEM_BYTES, MAX_QUERY_LIMIT,
    MAX_TRANSACT_ITEMS, Query, SortKeyCondition, TableError, TransactItem, Update, Value,
    WriteRequest,
};

/// The attribute names the table's key is stored under.
pub(crate) const PK_ATTR: &str = "pk";
pub(crate) const SK_ATTR: &str = "sk";

/// DynamoDB's limits on partition and sort key values.
const MAX_PARTITION_KEY_BYTES: usize = 2048;
const MAX_SORT_KEY_BYTES: usize = 1024;

pub(crate) const INDEXES: [Index; 2] = [Index::Gsi1, Index::Gsi2];

fn invalid(message: impl Into<String>) -> TableError {
    TableError::Invalid(message.into())
}

pub(crate) fn is_key_attr(name: &str) -> bool {
    name == PK_ATTR || name == SK_ATTR
}

/// The most bytes a value of the key attribute `name` may have, when `name` is a table or index
/// key attribute.
fn key_attr_limit(name: &str) -> Option<usize> {
    if name == PK_ATTR {
        return Some(MAX_PARTITION_KEY_BYTES);
    }
    if name == SK_ATTR {
        return Some(MAX_SORT_KEY_BYTES);
    }
    INDEXES.iter().find_map(|index| {
        let (pk_attr, sk_attr) = index.key_attrs();
        if name == pk_attr {
            Some(MAX_PARTITION_KEY_BYTES)
        } else if name == sk_attr {
            Some(MAX_SORT_KEY_BYTES)
        } else {
            None
        }
    })
}

fn check_key_value(name: &str, value: &str, max: usize) -> Result<(), TableError> {
    if value.is_empty() {
        return Err(invalid(format!(
            "key attribute {name} cannot be an empty string"
        )));
    }
    if value.len() > max {
        return Err(invalid(format!(
            "key attribute {name} is longer than {max} bytes"
        )));
    }
    Ok(())
}

pub(crate) fn check_key(key: &Key) -> Result<(), TableError> {
    check_key_value(PK_ATTR, &key.pk, MAX_PARTITION_KEY_BYTES)?;
    check_key_value(SK_ATTR, &key.sk, MAX_SORT_KEY_BYTES)
}

/// An index key attribute must be a non-empty string within the key length limits.
fn check_index_value(name: &str, value: &Value) -> Result<(), TableError> {
    match (key_attr_limit(name), value) {
        (None, _) => Ok(()),
        (Some(max), Value::S(text)) => check_key_value(name, text, max),
        (Some(_), _) => Err(invalid(format!(
            "index key attribute {name} must be a string"
        ))),
    }
}

/// Everything DynamoDB checks about an item before storing it: its key, then every attribute
/// name, then the index key values, then the size.
pub(crate) fn check_item(item: &Item) -> Result<(), TableError> {
    check_key(&item.key)?;
    for name in item.attrs.keys() {
        if name.is_empty() {
            return Err(invalid("attribute names cannot be empty"));
        }
        if is_key_attr(name) {
            return Err(invalid(format!(
                "{name} is the item's key, not an attribute"
            )));
        }
    }
    for (name, value) in &item.attrs {
        check_index_value(name, value)?;
    }
    let size = item.size();
    if size > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "item size {size} exceeds {MAX_ITEM_BYTES} bytes"
        )));
    }
    Ok(())
}

/// What DynamoDB refuses in an update expression whatever the stored item: touching a key
/// attribute, an empty name, one attribute in two actions ("paths overlap"), an index key that
/// would not be a string, or SET values that alone exceed the item size limit. (An update that
/// makes a stored item too large is refused once the item is known: by DynamoDB itself, or by
/// the embedded store checking the updated item.)
pub(crate) fn check_update(update: &Update) -> Result<(), TableError> {
    let names = update
        .set
        .iter()
        .map(|(name, _)| name)
        .chain(update.add.iter().map(|(name, _)| name))
        .chain(update.remove.iter());
    let mut seen = HashSet::new();
    for name in names {
        if name.is_empty() {
            return Err(invalid("attribute names cannot be empty"));
        }
        if is_key_attr(name) {
            return Err(invalid(format!(
                "cannot update attribute {name}: it is part of the key"
            )));
        }
        if !seen.insert(name.as_str()) {
            return Err(invalid(format!(
                "attribute {name} appears in more than one action of the update"
            )));
        }
    }
    for (name, value) in &update.set {
        check_index_value(name, value)?;
    }
    for (name, _) in &update.add {
        if key_attr_limit(name).is_some() {
            return Err(invalid(format!(
                "cannot ADD to index key attribute {name}: it must be a string"
            )));
        }
    }
    let set_size = update.set.iter().fold(0usize, |total, (name, value)| {
        total
            .saturating_add(name.len())
            .saturating_add(value.size())
    });
    if set_size > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "the update sets {set_size} bytes, more than an item may hold ({MAX_ITEM_BYTES})"
        )));
    }
    Ok(())
}

/// Refuses more than `max` requests (`what` names them in the error).
fn check_count(count: usize, max: usize, what: &str) -> Result<(), TableError> {
    if count > max {
        return Err(invalid(format!(
            "{what}: {count} items, at most {max} allowed"
        )));
    }
    Ok(())
}

/// Refuses a request that names one item twice, after checking every key.
fn check_distinct<'a>(
    keys: impl IntoIterator<Item = &'a Key>,
    what: &str,
) -> Result<(), TableError> {
    let mut seen = HashSet::new();
    for key in keys {
        check_key(key)?;
        if !seen.insert(key) {
            return Err(invalid(format!(
                "{what}: the key {}/{} appears more than once",
                key.pk, key.sk
            )));
        }
    }
    Ok(())
}

/// At most [`MAX_BATCH_GET`] valid, distinct keys.
pub(crate) fn check_batch_get(keys: &[Key]) -> Result<(), TableError> {
    check_count(keys.len(), MAX_BATCH_GET, "batch_get")?;
    check_distinct(keys, "batch_get")
}

pub(crate) fn write_key(request: &WriteRequest) -> &Key {
    match request {
        WriteRequest::Put(item) => &item.key,
        WriteRequest::Delete(key) => key,
    }
}

/// At most [`MAX_BATCH_WRITE`] requests with valid, distinct keys, every item put valid.
pub(crate) fn check_batch_write(requests: &[WriteRequest]) -> Result<(), TableError> {
    check_count(requests.len(), MAX_BATCH_WRITE, "batch_write")?;
    check_distinct(requests.iter().map(write_key), "batch_write")?;
    for request in requests {
        if let WriteRequest::Put(item) = request {
            check_item(item)?;
        }
    }
    Ok(())
}

pub(crate) fn transact_key(item: &TransactItem) -> &Key {
    match item {
        TransactItem::Put { item, .. } => &item.key,
        TransactItem::Update { key, .. }
        | TransactItem::Delete { key, .. }
        | TransactItem::ConditionCheck { key, .. } => key,
    }
}

/// At most [`MAX_TRANSACT_ITEMS`] items with valid, distinct keys, every put and update valid.
pub(crate) fn check_transact_write(items: &[TransactItem]) -> Result<(), TableError> {
    check_count(items.len(), MAX_TRANSACT_ITEMS, "transact_write")?;
    check_distinct(items.iter().map(transact_key), "transact_write")?;
    for item in items {
        match item {
            TransactItem::Put { item, .. } => check_item(item)?,
            TransactItem::Update { update, .. } => check_update(update)?,
            TransactItem::Delete { .. } | TransactItem::ConditionCheck { .. } => {}
        }
    }
    Ok(())
}

/// A query's limit within 1..=[`MAX_QUERY_LIMIT`], a partition key, and BETWEEN bounds in order.
/// (Its cursor is each adapter's to check.)
pub(crate) fn check_query(query: &Query) -> Result<(), TableError> {
    if query.limit == 0 || query.limit > MAX_QUERY_LIMIT {
        return Err(invalid(format!(
            "query limit {} is outside 1..={MAX_QUERY_LIMIT}",
            query.limit
        )));
    }
    if query.pk.is_empty() {
        return Err(invalid("the partition key of a query cannot be empty"));
    }
    if let SortKeyCondition::Between(low, high) = &query.sk
        && low > high
    {
        return Err(invalid(
            "BETWEEN needs its lower bound at most its upper bound",
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item::new(Key::new("p", "s"))
    }

    fn s(text: &str) -> Value {
        Value::S(text.to_owned())
    }

    #[test]
    fn size_counts_names_and_values_including_the_key() {
        let sized = item().with("ab", s("xyz")).with("f", Value::Bool(true));
        assert_eq!(sized.size(), 2 + 1 + 2 + 1 + 2 + 3 + 1 + 1);
    }

    #[test]
    fn numbers_cost_about_a_byte_per_two_digits() {
        let size = |number: i64| Value::N(number).size();
        assert_eq!(size(0), 2);
        assert_eq!(size(12_345), 4);
        assert_eq!(size(1_000_000), 2);
        assert_eq!(size(-12), 3);
        assert_eq!(size(i64::MIN), 12);
    }

    #[test]
    fn an_item_at_the_size_limit_is_accepted_and_one_byte_more_is_not() {
        let overhead = item().with("v", s("")).size();
        let fits = item().with("v", s(&"x".repeat(MAX_ITEM_BYTES - overhead)));
        assert_eq!(check_item(&fits), Ok(()));
        let over = item().with("v", s(&"x".repeat(MAX_ITEM_BYTES - overhead + 1)));
        assert!(matches!(check_item(&over), Err(TableError::Invalid(_))));
    }

    /// Moto does not check index keys; DynamoDB and the embedded store refuse them.
    #[test]
    fn keys_must_be_non_empty_and_index_keys_non_empty_strings() {
        assert!(check_key(&Key::new("", "s")).is_err());
        assert!(check_key(&Key::new("p", "")).is_err());
        assert!(check_key(&Key::new("p".repeat(2049), "s")).is_err());
        assert!(check_item(&item().with("gsi1pk", Value::N(1))).is_err());
        assert!(check_item(&item().with("gsi2sk", Value::Bool(true))).is_err());
        assert!(check_item(&item().with("gsi2sk", s(""))).is_err());
        assert!(check_item(&item().with("gsi1sk", s(&"k".repeat(1025)))).is_err());
        assert!(check_item(&item().with("pk", s("x"))).is_err());
        assert!(check_item(&item().with("", s("x"))).is_err());
        assert_eq!(check_item(&item().with("gsi1pk", s("x"))), Ok(()));
    }

    #[test]
    fn updates_may_not_touch_keys_overlap_or_make_index_keys_non_strings() {
        let set = |name: &str, value: Value| Update {
            set: vec![(name.to_owned(), value)],
            ..Update::default()
        };
        assert!(check_update(&set("pk", s("q"))).is_err());
        let remove_key = Update {
            remove: vec!["sk".to_owned()],
            ..Update::default()
        };
        assert!(check_update(&remove_key).is_err());
        assert!(check_update(&set("gsi2sk", Value::N(1))).is_err());
        assert!(check_update(&set("gsi2sk", s("ok"))).is_ok());
        let add_index = Update {
            add: vec![("gsi1pk".to_owned(), 1)],
            ..Update::default()
        };
        assert!(check_update(&add_index).is_err());
        let overlap = Update {
            add: vec![("a".to_owned(), 1)],
            remove: vec!["a".to_owned()],
            ..Update::default()
        };
        assert!(check_update(&overlap).is_err());
        let remove_index = Update {
            remove: vec!["gsi1sk".to_owned()],
            ..Update::default()
        };
        assert!(check_update(&remove_index).is_ok());
        assert!(check_update(&set("big", Value::B(vec![0; MAX_ITEM_BYTES + 1]))).is_err());
        assert!(check_update(&Update::default()).is_ok());
    }

    #[test]
    fn more_than_the_maximum_or_duplicate_keys_are_refused() {
        assert!(check_count(25, 25, "batch").is_ok());
        assert!(check_count(26, 25, "batch").is_err());
        let keys = [Key::new("p", "a"), Key::new("p", "b"), Key::new("p", "a")];
        assert!(check_distinct(&keys[..2], "batch").is_ok());
        assert!(matches!(
            check_distinct(&keys, "batch"),
            Err(TableError::Invalid(_))
        ));
        assert!(check_batch_get(&keys[..2]).is_ok());
        assert!(check_batch_get(&keys).is_err());
    }
}
