//! Structured state is kept as JSON text in one `data` attribute, next to the few attributes
//! the store itself must see (keys, index keys, counters, version, ttl).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::table::{Item, TableError, Value};

pub const DATA_ATTR: &str = "data";
pub const VERSION_ATTR: &str = "version";

pub fn encode<T: Serialize>(value: &T) -> Result<Value, TableError> {
    serde_json::to_string(value)
        .map(Value::S)
        .map_err(|error| TableError::Invalid(format!("cannot encode item data: {error}")))
}

/// Decodes the `data` attribute. A stored item that no longer decodes is reported as the store
/// being unusable for it rather than silently skipped.
pub fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, TableError> {
    let text = item
        .get_str(DATA_ATTR)
        .ok_or_else(|| corrupt(item, "no data attribute"))?;
    serde_json::from_str(text).map_err(|error| corrupt(item, &error.to_string()))
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
