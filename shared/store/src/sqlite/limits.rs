//! DynamoDB's request limits, enforced before anything is written so the embedded store refuses
//! exactly what DynamoDB refuses: empty or oversized keys, index keys that are not strings, items
//! over [`MAX_ITEM_BYTES`], too many or duplicate keys in a batch or transaction.
//!
//! Item size follows DynamoDB's accounting: the UTF-8 length of every attribute name plus the
//! size of its value (strings and binaries by length, a number about one byte per two
//! significant digits plus one, a boolean one byte), the key attributes included.

use std::collections::HashSet;

use crate::table::{Index, Item, Key, MAX_ITEM_BYTES, TableError, Value};

/// DynamoDB's limits on partition and sort key values.
pub(crate) const MAX_PARTITION_KEY_BYTES: usize = 2048;
pub(crate) const MAX_SORT_KEY_BYTES: usize = 1024;

/// The attribute names the table's key is stored under.
pub(crate) const PK_ATTR: &str = "pk";
pub(crate) const SK_ATTR: &str = "sk";

pub(crate) const INDEXES: [Index; 2] = [Index::Gsi1, Index::Gsi2];

fn invalid(message: impl Into<String>) -> TableError {
    TableError::Invalid(message.into())
}

pub(crate) fn is_key_attr(name: &str) -> bool {
    name == PK_ATTR || name == SK_ATTR
}

pub(crate) fn check_key(key: &Key) -> Result<(), TableError> {
    check_key_value(PK_ATTR, &key.pk, MAX_PARTITION_KEY_BYTES)?;
    check_key_value(SK_ATTR, &key.sk, MAX_SORT_KEY_BYTES)
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

/// Everything DynamoDB checks about an item before storing it.
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
    for index in INDEXES {
        let (pk_attr, sk_attr) = index.key_attrs();
        for (name, max) in [
            (pk_attr, MAX_PARTITION_KEY_BYTES),
            (sk_attr, MAX_SORT_KEY_BYTES),
        ] {
            match item.attrs.get(name) {
                None => {}
                Some(Value::S(value)) => check_key_value(name, value, max)?,
                Some(_) => {
                    return Err(invalid(format!(
                        "index key attribute {name} must be a string"
                    )));
                }
            }
        }
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "item size {size} exceeds {MAX_ITEM_BYTES} bytes"
        )));
    }
    Ok(())
}

pub(crate) fn item_size(item: &Item) -> usize {
    let key = PK_ATTR.len() + item.key.pk.len() + SK_ATTR.len() + item.key.sk.len();
    item.attrs.iter().fold(key, |total, (name, value)| {
        total
            .saturating_add(name.len())
            .saturating_add(value_size(value))
    })
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::S(text) => text.len(),
        Value::B(bytes) => bytes.len(),
        Value::Bool(_) => 1,
        Value::N(number) => number_size(*number),
    }
}

/// One byte per two significant digits (trailing zeros do not count) plus one.
fn number_size(number: i64) -> usize {
    let digits = number.unsigned_abs().to_string();
    let significant = digits.trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1 + usize::from(number < 0)
}

/// Refuses more than `max` requests (`what` names them in the error).
pub(crate) fn check_count(count: usize, max: usize, what: &str) -> Result<(), TableError> {
    if count > max {
        return Err(invalid(format!(
            "{what}: {count} items, at most {max} allowed"
        )));
    }
    Ok(())
}

/// Refuses a request that names one item twice, then checks every key.
pub(crate) fn check_distinct<'a>(
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item::new(Key::new("p", "s"))
    }

    #[test]
    fn size_counts_names_and_values_including_the_key() {
        let sized = item()
            .with("ab", Value::S("xyz".to_owned()))
            .with("f", Value::Bool(true));
        assert_eq!(item_size(&sized), 2 + 1 + 2 + 1 + 2 + 3 + 1 + 1);
    }

    #[test]
    fn numbers_cost_about_a_byte_per_two_digits() {
        assert_eq!(number_size(0), 2);
        assert_eq!(number_size(12_345), 4);
        assert_eq!(number_size(1_000_000), 2);
        assert_eq!(number_size(-12), 3);
        assert_eq!(number_size(i64::MIN), 12);
    }

    #[test]
    fn an_item_at_the_limit_is_accepted_and_one_byte_more_is_not() {
        let overhead = item_size(&item().with("v", Value::S(String::new())));
        let fits = item().with("v", Value::S("x".repeat(MAX_ITEM_BYTES - overhead)));
        assert_eq!(check_item(&fits), Ok(()));
        let over = item().with("v", Value::S("x".repeat(MAX_ITEM_BYTES - overhead + 1)));
        assert!(matches!(check_item(&over), Err(TableError::Invalid(_))));
    }

    #[test]
    fn keys_must_be_non_empty_and_index_keys_strings() {
        assert!(check_key(&Key::new("", "s")).is_err());
        assert!(check_key(&Key::new("p", "")).is_err());
        assert!(check_key(&Key::new("p".repeat(2049), "s")).is_err());
        assert!(check_item(&item().with("gsi1pk", Value::N(1))).is_err());
        assert!(check_item(&item().with("gsi2sk", Value::S(String::new()))).is_err());
        assert!(check_item(&item().with("pk", Value::S("x".to_owned()))).is_err());
        assert_eq!(
            check_item(&item().with("gsi1pk", Value::S("x".to_owned()))),
            Ok(())
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let keys = [Key::new("p", "a"), Key::new("p", "b"), Key::new("p", "a")];
        assert!(check_distinct(&keys[..2], "batch").is_ok());
        assert!(matches!(
            check_distinct(&keys, "batch"),
            Err(TableError::Invalid(_))
        ));
    }
}
