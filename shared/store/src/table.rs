//! The `Table` port: the subset of DynamoDB the CRM uses, so that the embedded SQLite adapter and
//! the DynamoDB adapter have one meaning. Conformance suites in [`crate::conformance`] pin it down.
//!
//! Items have a partition key `pk` and a sort key `sk` (strings), plus attributes. Two sparse
//! global secondary indexes are keyed by the string attributes `gsi1pk`/`gsi1sk` and
//! `gsi2pk`/`gsi2sk`: an item is in an index only when it has both of that index's attributes.
//! Sort keys order by bytes, like DynamoDB strings. The `ttl` attribute (epoch seconds) marks
//! items the store may delete once expired; until then they are read like any other item.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// DynamoDB's item size limit; adapters refuse larger items the same way.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
pub const MAX_BATCH_WRITE: usize = 25;
pub const MAX_BATCH_GET: usize = 100;
pub const MAX_TRANSACT_ITEMS: usize = 100;
pub const MAX_QUERY_LIMIT: usize = 1000;

pub const TTL_ATTR: &str = "ttl";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Key {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// An attribute value. Structured state is stored as JSON text in an `S` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    S(String),
    N(i64),
    B(Vec<u8>),
    Bool(bool),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::S(s) => Some(s),
            _ => None,
        }
    }

    /// Bytes DynamoDB counts for this value: a number takes one byte per two significant digits
    /// (trailing zeros do not count) plus one.
    pub fn size(&self) -> usize {
        match self {
            Value::S(text) => text.len(),
            Value::B(bytes) => bytes.len(),
            Value::Bool(_) => 1,
            Value::N(number) => {
                let digits = number.unsigned_abs().to_string();
                let significant = digits.trim_end_matches('0').len().max(1);
                significant.div_ceil(2) + 1 + usize::from(*number < 0)
            }
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::N(n) => Some(*n),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub key: Key,
    pub attrs: BTreeMap<String, Value>,
}

impl Item {
    pub fn new(key: Key) -> Item {
        Item {
            key,
            attrs: BTreeMap::new(),
        }
    }

    pub fn with(mut self, name: impl Into<String>, value: Value) -> Item {
        self.attrs.insert(name.into(), value);
        self
    }

    /// The item's size as DynamoDB counts it against the 400 KiB limit and bills it: attribute
    /// names plus values, the key attributes included.
    pub fn size(&self) -> usize {
        let key = "pk".len() + self.key.pk.len() + "sk".len() + self.key.sk.len();
        self.attrs.iter().fold(key, |total, (name, value)| {
            total
                .saturating_add(name.len())
                .saturating_add(value.size())
        })
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(Value::as_str)
    }

    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.attrs.get(name).and_then(Value::as_i64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    Gsi1,
    Gsi2,
}

impl Index {
    pub fn key_attrs(self) -> (&'static str, &'static str) {
        match self {
            Index::Gsi1 => ("gsi1pk", "gsi1sk"),
            Index::Gsi2 => ("gsi2pk", "gsi2sk"),
        }
    }
}

/// A condition on the item as stored before the write (DynamoDB's ConditionExpression subset).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    ItemExists,
    ItemNotExists,
    AttrExists(String),
    AttrNotExists(String),
    AttrEquals(String, Value),
    And(Vec<Condition>),
}

/// An update expression: SET, ADD (numeric, a missing attribute counts as 0) and REMOVE.
/// Updating a missing item creates it, as DynamoDB's UpdateItem does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, Value)>,
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SortKeyCondition {
    Any,
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Option<Index>,
    pub pk: String,
    pub sk: SortKeyCondition,
    /// Ascending sort key order when true.
    pub forward: bool,
    /// At most this many items in the page (1..=[`MAX_QUERY_LIMIT`]).
    pub limit: usize,
    /// Where the previous page ended.
    pub cursor: Option<Cursor>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Query {
        Query {
            index: None,
            pk: pk.into(),
            sk: SortKeyCondition::Any,
            forward: true,
            limit: 100,
            cursor: None,
        }
    }
}

/// Every item `query` selects, following its pages (for what is known to be small).
pub async fn query_all(table: &dyn Table, mut query: Query) -> TableResult<Vec<Item>> {
    let mut items = Vec::new();
    loop {
        let page = table.query(query.clone()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// An opaque page position. Clients see it only as a string; a tampered cursor is rejected with
/// [`TableError::InvalidCursor`], never trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor(pub String);

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub next: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteRequest {
    Put(Item),
    Delete(Key),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransactItem {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        update: Update,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    ConditionCheck {
        key: Key,
        condition: Condition,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("the condition of the write did not hold")]
    ConditionFailed,
    /// Indexes (into the request) of the transaction items whose condition did not hold.
    #[error("the transaction was cancelled: conditions failed at {failed:?}")]
    TransactionCanceled { failed: Vec<usize> },
    #[error("invalid cursor")]
    InvalidCursor,
    /// A request the store can never accept (too many items, duplicate keys, item too large).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Throttling or a transient fault: retrying later may succeed.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
}

impl TableError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, TableError::Unavailable(_))
    }
}

pub type TableResult<T> = Result<T, TableError>;

#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> TableResult<Option<Item>>;

    /// At most [`MAX_BATCH_GET`] distinct keys; returns the items that exist, in no set order.
    async fn batch_get(&self, keys: &[Key]) -> TableResult<Vec<Item>>;

    async fn put(&self, item: Item, condition: Option<Condition>) -> TableResult<()>;

    /// Returns the item as it is after the update.
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> TableResult<Item>;

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> TableResult<()>;

    async fn query(&self, query: Query) -> TableResult<Page>;

    /// At most [`MAX_BATCH_WRITE`] requests with distinct keys; not atomic, never conditional.
    async fn batch_write(&self, requests: Vec<WriteRequest>) -> TableResult<()>;

    /// At most [`MAX_TRANSACT_ITEMS`] items with distinct keys; all or nothing.
    async fn transact_write(&self, items: Vec<TransactItem>) -> TableResult<()>;
}
