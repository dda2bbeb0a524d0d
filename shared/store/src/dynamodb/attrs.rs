//! Port values as DynamoDB attribute values and back: `S`, `N` (a 64-bit integer written in
//! decimal), `B` and `BOOL`. Anything else read from the table (lists, maps, sets, NULL, a number
//! outside `i64`) was not written through the port and is refused rather than guessed at.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::limits::{PK_ATTR, SK_ATTR};
use crate::table::{Item, Key, TableError, Value};

pub(crate) type AttrMap = HashMap<String, AttributeValue>;

pub(crate) fn to_attr(value: &Value) -> AttributeValue {
    match value {
        Value::S(text) => AttributeValue::S(text.clone()),
        Value::N(number) => AttributeValue::N(number.to_string()),
        Value::B(bytes) => AttributeValue::B(Blob::new(bytes.clone())),
        Value::Bool(flag) => AttributeValue::Bool(*flag),
    }
}

pub(crate) fn from_attr(name: &str, value: &AttributeValue) -> Result<Value, TableError> {
    match value {
        AttributeValue::S(text) => Ok(Value::S(text.clone())),
        AttributeValue::N(number) => number.parse().map(Value::N).map_err(|_| {
            TableError::Invalid(format!(
                "attribute {name} holds the number {number}, outside the 64-bit integers the port reads"
            ))
        }),
        AttributeValue::B(blob) => Ok(Value::B(blob.as_ref().to_vec())),
        AttributeValue::Bool(flag) => Ok(Value::Bool(*flag)),
        _ => Err(TableError::Invalid(format!(
            "attribute {name} has a DynamoDB type the port does not read"
        ))),
    }
}

pub(crate) fn key_map(key: &Key) -> AttrMap {
    HashMap::from([
        (PK_ATTR.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK_ATTR.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// The whole item, key attributes included, as PutItem takes it.
pub(crate) fn item_map(item: &Item) -> AttrMap {
    let mut map = key_map(&item.key);
    map.extend(
        item.attrs
            .iter()
            .map(|(name, value)| (name.clone(), to_attr(value))),
    );
    map
}

fn key_attr(map: &AttrMap, name: &str) -> Result<String, TableError> {
    match map.get(name) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        _ => Err(TableError::Invalid(format!(
            "an item read from DynamoDB has no string key attribute {name}"
        ))),
    }
}

pub(crate) fn item_from_map(map: &AttrMap) -> Result<Item, TableError> {
    let key = Key::new(key_attr(map, PK_ATTR)?, key_attr(map, SK_ATTR)?);
    let mut attrs = BTreeMap::new();
    for (name, value) in map {
        if name != PK_ATTR && name != SK_ATTR {
            attrs.insert(name.clone(), from_attr(name, value)?);
        }
    }
    Ok(Item { key, attrs })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_port_value_round_trips_through_an_attribute_value() {
        let item = Item::new(Key::new("P#é", "S"))
            .with("text", Value::S("日本 😀".to_owned()))
            .with("empty", Value::S(String::new()))
            .with("min", Value::N(i64::MIN))
            .with("max", Value::N(i64::MAX))
            .with("bytes", Value::B(vec![0, 255]))
            .with("flag", Value::Bool(false));
        assert_eq!(item_from_map(&item_map(&item)).unwrap(), item);
    }

    #[test]
    fn values_the_port_cannot_represent_are_refused() {
        let mut map = key_map(&Key::new("p", "s"));
        map.insert("n".to_owned(), AttributeValue::N("1.5".to_owned()));
        assert!(matches!(item_from_map(&map), Err(TableError::Invalid(_))));
        map.insert(
            "n".to_owned(),
            AttributeValue::N("9223372036854775808".to_owned()),
        );
        assert!(matches!(item_from_map(&map), Err(TableError::Invalid(_))));
        map.insert("n".to_owned(), AttributeValue::Null(true));
        assert!(matches!(item_from_map(&map), Err(TableError::Invalid(_))));
        let keyless = HashMap::from([("pk".to_owned(), AttributeValue::S("p".to_owned()))]);
        assert!(matches!(
            item_from_map(&keyless),
            Err(TableError::Invalid(_))
        ));
    }
}
