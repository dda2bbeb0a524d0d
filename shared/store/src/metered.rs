//! Capacity units as DynamoDB bills them, counted around any `Table`: the yardstick for the
//! cost of a write path, measured on the embedded store with the same requests DynamoDB would get.
//!
//! Writes cost 1 unit per started KiB of the larger of the item before and after; reads
//! (strongly consistent) 1 unit per started 4 KiB; items in a transaction cost double. A write
//! whose condition fails is billed too. The wrapper reads items to size them; those reads are
//! not counted. Units are also counted per label (a name the caller gives each key, such as
//! "profile" or "session"), which is how a write path's cost is broken down.
//!
//! Index writes are counted apart (`index_write_units`), as DynamoDB bills them on top: for each
//! of the table's two indexes (`gsi1`, `gsi2`, projecting every attribute) that the item is in
//! before or after a successful write, 1 unit per started KiB of the item — twice when the write
//! moves it to another index key (a delete and a put). Never doubled by a transaction.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::table::{
    Condition, Item, Key, Page, Query, Table, TableResult, TransactItem, Update, WriteRequest,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapacityUsage {
    pub write_units: u64,
    /// Writes to the global secondary indexes, billed on top of `write_units`.
    pub index_write_units: u64,
    pub read_units: u64,
    pub write_requests: u64,
    pub read_requests: u64,
}

/// Names the kind of item a key belongs to, for the per-label breakdown.
pub type KeyLabel = fn(&Key) -> &'static str;

pub struct MeteredTable {
    inner: Arc<dyn Table>,
    label: KeyLabel,
    usage: Mutex<Usage>,
}

#[derive(Default)]
struct Usage {
    total: CapacityUsage,
    by_label: BTreeMap<&'static str, CapacityUsage>,
}

fn write_units(bytes: usize) -> u64 {
    (bytes.div_ceil(1024)).max(1) as u64
}

/// The index key attributes of the table's global secondary indexes.
const INDEXES: [(&str, &str); 2] = [("gsi1pk", "gsi1sk"), ("gsi2pk", "gsi2sk")];

/// Index write units of one write that changed the item from `before` to `after` (`None`: absent).
fn index_write_units(before: Option<&Item>, after: Option<&Item>) -> u64 {
    let index_key = |item: Option<&Item>, (pk, sk): (&str, &str)| {
        let item = item?;
        Some((item.attrs.get(pk)?.clone(), item.attrs.get(sk).cloned()))
    };
    let units = |item: Option<&Item>| item.map_or(0, |item| write_units(item.size()));
    INDEXES
        .into_iter()
        .map(
            |index| match (index_key(before, index), index_key(after, index)) {
                (None, None) => 0,
                (Some(_), None) => units(before),
                (None, Some(_)) => units(after),
                (Some(old), Some(new)) if old == new => units(before).max(units(after)),
                (Some(_), Some(_)) => units(before) + units(after),
            },
        )
        .sum()
}

fn read_units(bytes: usize) -> u64 {
    (bytes.div_ceil(4096)).max(1) as u64
}

impl MeteredTable {
    pub fn new(inner: Arc<dyn Table>) -> MeteredTable {
        MeteredTable::labelled(inner, |_| "all")
    }

    pub fn labelled(inner: Arc<dyn Table>, label: KeyLabel) -> MeteredTable {
        MeteredTable {
            inner,
            label,
            usage: Mutex::new(Usage::default()),
        }
    }

    pub fn usage(&self) -> CapacityUsage {
        self.usage
            .lock()
            .map(|usage| usage.total)
            .unwrap_or_default()
    }

    /// The same units as [`MeteredTable::usage`], split by the label of each item's key. A
    /// request touching items of several labels counts once under each.
    pub fn usage_by_label(&self) -> BTreeMap<&'static str, CapacityUsage> {
        self.usage
            .lock()
            .map(|usage| usage.by_label.clone())
            .unwrap_or_default()
    }

    /// Adds the table and index units of the items under `keys`, as one request.
    fn charge_writes(&self, charges: &[WriteCharge]) {
        let Ok(mut usage) = self.usage.lock() else {
            return;
        };
        usage.total.write_requests += 1;
        let mut labels_seen = Vec::new();
        for WriteCharge {
            key,
            units,
            index_units,
        } in charges
        {
            let label = (self.label)(key);
            usage.total.write_units += units;
            usage.total.index_write_units += index_units;
            let by_label = usage.by_label.entry(label).or_default();
            by_label.write_units += units;
            by_label.index_write_units += index_units;
            if !labels_seen.contains(&label) {
                by_label.write_requests += 1;
                labels_seen.push(label);
            }
        }
    }

    fn charge_read(&self, key: Option<&Key>, units: u64) {
        let Ok(mut usage) = self.usage.lock() else {
            return;
        };
        usage.total.read_units += units;
        usage.total.read_requests += 1;
        if let Some(key) = key {
            let by_label = usage.by_label.entry((self.label)(key)).or_default();
            by_label.read_units += units;
            by_label.read_requests += 1;
        }
    }

    async fn stored(&self, key: &Key) -> Option<Item> {
        self.inner.get(key).await.ok().flatten()
    }

    /// What a write to `key` cost, given the item before it and the size the request sent: the
    /// larger of before, sent and after for the table; index writes only when it was `written`.
    async fn charge_for(
        &self,
        key: &Key,
        before: Option<&Item>,
        sent: usize,
        written: bool,
        factor: u64,
    ) -> WriteCharge {
        let after = self.stored(key).await;
        let size = |item: Option<&Item>| item.map_or(0, Item::size);
        WriteCharge {
            key: key.clone(),
            units: factor * write_units(size(before).max(sent).max(size(after.as_ref()))),
            index_units: if written {
                index_write_units(before, after.as_ref())
            } else {
                0
            },
        }
    }
}

struct WriteCharge {
    key: Key,
    units: u64,
    index_units: u64,
}

#[async_trait]
impl Table for MeteredTable {
    async fn get(&self, key: &Key) -> TableResult<Option<Item>> {
        let result = self.inner.get(key).await;
        let size = result
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map_or(0, Item::size);
        self.charge_read(Some(key), read_units(size));
        result
    }

    async fn batch_get(&self, keys: &[Key]) -> TableResult<Vec<Item>> {
        let items = self.inner.batch_get(keys).await?;
        let units: u64 = items.iter().map(|item| read_units(item.size())).sum();
        self.charge_read(keys.first(), units);
        Ok(items)
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> TableResult<()> {
        let key = item.key.clone();
        let before = self.stored(&key).await;
        let sent = item.size();
        let result = self.inner.put(item, condition).await;
        let charge = self
            .charge_for(&key, before.as_ref(), sent, result.is_ok(), 1)
            .await;
        self.charge_writes(&[charge]);
        result
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> TableResult<Item> {
        let before = self.stored(key).await;
        let result = self.inner.update(key, update, condition).await;
        let charge = self
            .charge_for(key, before.as_ref(), 0, result.is_ok(), 1)
            .await;
        self.charge_writes(&[charge]);
        result
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> TableResult<()> {
        let before = self.stored(key).await;
        let result = self.inner.delete(key, condition).await;
        let charge = self
            .charge_for(key, before.as_ref(), 0, result.is_ok(), 1)
            .await;
        self.charge_writes(&[charge]);
        result
    }

    async fn query(&self, query: Query) -> TableResult<Page> {
        let page = self.inner.query(query).await?;
        let bytes: usize = page.items.iter().map(Item::size).sum();
        self.charge_read(page.items.first().map(|item| &item.key), read_units(bytes));
        Ok(page)
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> TableResult<()> {
        let mut befores = Vec::with_capacity(requests.len());
        for request in &requests {
            let (key, sent) = match request {
                WriteRequest::Put(item) => (item.key.clone(), item.size()),
                WriteRequest::Delete(key) => (key.clone(), 0),
            };
            let before = self.stored(&key).await;
            befores.push((key, before, sent));
        }
        let result = self.inner.batch_write(requests).await;
        let mut charges = Vec::with_capacity(befores.len());
        for (key, before, sent) in &befores {
            charges.push(
                self.charge_for(key, before.as_ref(), *sent, result.is_ok(), 1)
                    .await,
            );
        }
        self.charge_writes(&charges);
        result
    }

    async fn transact_write(&self, items: Vec<TransactItem>) -> TableResult<()> {
        let mut befores = Vec::with_capacity(items.len());
        for item in &items {
            // A condition check is billed like a write, but writes no index.
            let (key, sent, writes) = match item {
                TransactItem::Put { item, .. } => (item.key.clone(), item.size(), true),
                TransactItem::Update { key, .. } | TransactItem::Delete { key, .. } => {
                    (key.clone(), 0, true)
                }
                TransactItem::ConditionCheck { key, .. } => (key.clone(), 0, false),
            };
            let before = self.stored(&key).await;
            befores.push((key, before, sent, writes));
        }
        let result = self.inner.transact_write(items).await;
        let mut charges = Vec::with_capacity(befores.len());
        for (key, before, sent, writes) in &befores {
            let written = *writes && result.is_ok();
            charges.push(
                self.charge_for(key, before.as_ref(), *sent, written, 2)
                    .await,
            );
        }
        self.charge_writes(&charges);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Value;

    fn item(sk: &str, index: Option<&str>, bytes: usize) -> Item {
        let item = Item::new(Key::new("P", sk)).with("data", Value::S("x".repeat(bytes)));
        match index {
            Some(sort) => item
                .with("gsi1pk", Value::S("IDX".to_owned()))
                .with("gsi1sk", Value::S(sort.to_owned())),
            None => item,
        }
    }

    #[test]
    fn an_index_is_written_when_the_item_enters_stays_in_or_leaves_it() {
        let (small, large) = (item("a", Some("1"), 10), item("a", Some("1"), 1500));
        assert_eq!(index_write_units(None, Some(&small)), 1);
        assert_eq!(index_write_units(Some(&small), Some(&large)), 2);
        assert_eq!(index_write_units(Some(&large), None), 2);
        let moved = item("a", Some("2"), 10);
        assert_eq!(
            index_write_units(Some(&small), Some(&moved)),
            2,
            "delete + put"
        );
        let unindexed = item("a", None, 10);
        assert_eq!(index_write_units(None, Some(&unindexed)), 0);
        assert_eq!(index_write_units(Some(&unindexed), Some(&small)), 1);
        let both = small
            .clone()
            .with("gsi2pk", Value::S("OTHER".to_owned()))
            .with("gsi2sk", Value::S("x".to_owned()));
        assert_eq!(index_write_units(None, Some(&both)), 2, "one per index");
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn index_writes_are_counted_apart_and_only_for_writes_that_happened() {
        let sqlite = crate::sqlite::SqliteTable::in_memory().unwrap();
        let metered = MeteredTable::new(Arc::new(sqlite));
        metered.put(item("a", Some("1"), 10), None).await.unwrap();
        // In a transaction: the table units double, the index units do not.
        metered
            .transact_write(vec![TransactItem::Put {
                item: item("b", Some("1"), 10),
                condition: None,
            }])
            .await
            .unwrap();
        let refused = metered
            .put(item("a", Some("1"), 10), Some(Condition::ItemNotExists))
            .await;
        assert!(refused.is_err());
        let usage = metered.usage();
        assert_eq!((usage.write_units, usage.index_write_units), (1 + 2 + 1, 2));
    }
}
