//! The port's limits, checked before a request leaves the process. DynamoDB refuses most of these
//! itself, but emulators do not (moto accepts more than 25 batch writes, duplicate keys in a
//! batch, numeric index keys), and a refusal found here costs no request.
//!
//! The rules and the item size accounting are those of the SQLite adapter's `limits` module,
//! which is private to that adapter: DynamoDB counts the UTF-8 length of every attribute name
//! plus the size of its value (strings and binaries by length, a number about one byte per two
//! significant digits plus one, a boolean one byte), key attributes included.

use std::collections::HashSet;

use crate::table::{Index, Item, Key, MAX_ITEM_BYTES, TableError, Update, Value};

pub(crate) const PK_ATTR: &str = "pk";
pub(crate) const SK_ATTR: &str = "sk";

const MAX_PARTITION_KEY_BYTES: usize = 2048;
const MAX_SORT_KEY_BYTES: usize = 1024;

const INDEXES: [Index; 2] = [Index::Gsi1, Index::Gsi2];

fn invalid(message: impl Into<String>) -> TableError {
    TableError::Invalid(message.into())
}

fn is_key_attr(name: &str) -> bool {
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

/// Everything DynamoDB checks about an item before storing it.
pub(crate) fn check_item(item: &Item) -> Result<(), TableError> {
    check_key(&item.key)?;
    for (name, value) in &item.attrs {
        if name.is_empty() {
            return Err(invalid("attribute names cannot be empty"));
        }
        if is_key_attr(name) {
            return Err(invalid(format!(
                "{name} is the item's key, not an attribute"
            )));
        }
        check_index_value(name, value)?;
    }
    let size = item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "item size {size} exceeds {MAX_ITEM_BYTES} bytes"
        )));
    }
    Ok(())
}

/// What can be refused in an update without reading the stored item: touching a key attribute,
/// an empty name, one attribute in two actions, an index key that would not be a string, or SET
/// values that alone exceed the item size limit. (An update that makes a stored item too large
/// is refused by DynamoDB itself.)
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
            .saturating_add(value_size(value))
    });
    if set_size > MAX_ITEM_BYTES {
        return Err(invalid(format!(
            "the update sets {set_size} bytes, more than an item may hold ({MAX_ITEM_BYTES})"
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

/// Refuses a request that names one item twice, after checking every key.
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

    fn s(text: &str) -> Value {
        Value::S(text.to_owned())
    }

    #[test]
    fn size_counts_names_and_values_including_the_key() {
        let sized = item().with("ab", s("xyz")).with("f", Value::Bool(true));
        assert_eq!(item_size(&sized), 2 + 1 + 2 + 1 + 2 + 3 + 1 + 1);
        assert_eq!(number_size(0), 2);
        assert_eq!(number_size(12_345), 4);
        assert_eq!(number_size(-12), 3);
        assert_eq!(number_size(i64::MIN), 12);
    }

    #[test]
    fn an_item_at_the_size_limit_is_accepted_and_one_byte_more_is_not() {
        let overhead = item_size(&item().with("v", s("")));
        let fits = item().with("v", s(&"x".repeat(MAX_ITEM_BYTES - overhead)));
        assert_eq!(check_item(&fits), Ok(()));
        let over = item().with("v", s(&"x".repeat(MAX_ITEM_BYTES - overhead + 1)));
        assert!(matches!(check_item(&over), Err(TableError::Invalid(_))));
    }

    #[test]
    fn index_keys_must_be_non_empty_strings_which_moto_does_not_check() {
        assert!(check_item(&item().with("gsi1pk", Value::N(1))).is_err());
        assert!(check_item(&item().with("gsi2sk", Value::Bool(true))).is_err());
        assert!(check_item(&item().with("gsi2sk", s(""))).is_err());
        assert!(check_item(&item().with("gsi1sk", s(&"k".repeat(1025)))).is_err());
        assert_eq!(check_item(&item().with("gsi1pk", s("x"))), Ok(()));
        assert!(check_key(&Key::new("", "s")).is_err());
        assert!(check_key(&Key::new("p", "")).is_err());
        assert!(check_key(&Key::new("p".repeat(2049), "s")).is_err());
        assert!(check_item(&item().with("pk", s("x"))).is_err());
    }

    #[test]
    fn updates_may_not_touch_keys_overlap_or_make_index_keys_non_strings() {
        let set = |name: &str, value: Value| Update {
            set: vec![(name.to_owned(), value)],
            ..Update::default()
        };
        assert!(check_update(&set("pk", s("q"))).is_err());
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
    }
}
