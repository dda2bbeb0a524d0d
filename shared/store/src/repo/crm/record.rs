//! Versioned records: the record as JSON in `data`, its version (1 on create, +1 per write) in
//! `version`. The version is what `ETag` and `If-Match` carry.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::repo::codec::{DATA_ATTR, VERSION_ATTR, decode, encode, version};
use crate::table::{Item, Key, Table, TableError, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    pub record: T,
    pub version: i64,
}

pub async fn read_record<T: DeserializeOwned>(
    table: &dyn Table,
    key: &Key,
) -> Result<Option<Versioned<T>>, TableError> {
    match table.get(key).await? {
        Some(item) => Ok(Some(Versioned {
            record: decode(&item)?,
            version: version(&item),
        })),
        None => Ok(None),
    }
}

/// The item of `record` at `version`; add index attributes with [`Item::with`].
pub fn record_item<T: Serialize>(key: Key, record: &T, version: i64) -> Result<Item, TableError> {
    Ok(Item::new(key)
        .with(DATA_ATTR, encode(record)?)
        .with(VERSION_ATTR, Value::N(version)))
}
