//! Structured state is kept as JSON in one `data` attribute, next to the few attributes the
//! store itself must see (keys, index keys, counters, version, ttl). Larger values (raw events,
//! pending counters) are deflated first, because DynamoDB bills every written KiB and JSON of
//! events repeats itself (URLs, property names); readers accept both forms.

use miniz_oxide::deflate::compress_to_vec;
use miniz_oxide::inflate::decompress_to_vec_with_limit;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::table::{Item, MAX_ITEM_BYTES, TableError, Value};

pub const DATA_ATTR: &str = "data";
pub const VERSION_ATTR: &str = "version";

/// Deflate level: 6 is zlib's default; higher levels gain little on payloads of a few KiB.
const DEFLATE_LEVEL: u8 = 6;
/// No stored value inflates beyond this: an item holds at most 400 KB, and JSON deflates by far
/// less than 16×. The limit keeps a corrupt value from exhausting memory.
const MAX_INFLATED_BYTES: usize = MAX_ITEM_BYTES * 16;

pub fn encode<T: Serialize>(value: &T) -> Result<Value, TableError> {
    serde_json::to_string(value)
        .map(Value::S)
        .map_err(|error| TableError::Invalid(format!("cannot encode item data: {error}")))
}

/// Encodes as deflated JSON, stored as binary.
pub fn encode_compressed<T: Serialize>(value: &T) -> Result<Value, TableError> {
    let json = serde_json::to_vec(value)
        .map_err(|error| TableError::Invalid(format!("cannot encode item data: {error}")))?;
    Ok(Value::B(compress_to_vec(&json, DEFLATE_LEVEL)))
}

/// Decodes the `data` attribute, plain or deflated. A stored item that no longer decodes is
/// reported as the store being unusable for it rather than silently skipped.
pub fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, TableError> {
    match item.attrs.get(DATA_ATTR) {
        Some(Value::S(text)) => {
            serde_json::from_str(text).map_err(|error| corrupt(item, &error.to_string()))
        }
        Some(Value::B(deflated)) => {
            let json = decompress_to_vec_with_limit(deflated, MAX_INFLATED_BYTES)
                .map_err(|error| corrupt(item, &format!("cannot inflate: {error}")))?;
            serde_json::from_slice(&json).map_err(|error| corrupt(item, &error.to_string()))
        }
        _ => Err(corrupt(item, "no data attribute")),
    }
}

pub fn version(item: &Item) -> i64 {
    item.get_i64(VERSION_ATTR).unwrap_or(0)
}

fn corrupt(item: &Item, why: &str) -> TableError {
    TableError::Unavailable(format!(
        "item {}/{} cannot be read: {why}",
        item.key.pk, item.key.sk
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Key;

    #[test]
    fn compressed_values_decode_like_plain_ones_and_are_smaller() {
        let events: Vec<String> = (0..40)
            .map(|index| format!("https://shop.example/products/{}", index % 3))
            .collect();
        let plain = Item::new(Key::new("p", "s")).with(DATA_ATTR, encode(&events).unwrap());
        let compressed =
            Item::new(Key::new("p", "s")).with(DATA_ATTR, encode_compressed(&events).unwrap());
        assert_eq!(decode::<Vec<String>>(&plain).unwrap(), events);
        assert_eq!(decode::<Vec<String>>(&compressed).unwrap(), events);
        assert!(compressed.size() * 4 < plain.size());
    }

    #[test]
    fn a_corrupt_compressed_value_is_an_error_not_a_panic() {
        let item = Item::new(Key::new("p", "s")).with(DATA_ATTR, Value::B(vec![0xff, 0x00, 0x13]));
        assert!(decode::<Vec<String>>(&item).is_err());
    }
}
