//! Capacity units as DynamoDB bills them, counted around any `Table`: the yardstick for the
//! cost of a write path, measured on the embedded store with the same requests DynamoDB would get.
//!
//! Writes cost 1 unit per started KiB of the larger of the item before and after; reads
//! (strongly consistent) 1 unit per started 4 KiB; items in a transaction cost double. A write
//! whose condition fails is billed too. The wrapper reads items to size them; those reads are
//! not counted. Units are also counted per label (a name the caller gives each key, such as
//! "profile" or "session"), which is how a write path's cost is broken down.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::table::{
    Condition, Item, Key, Page, Query, Table, TableResult, TransactItem, Update, WriteRequest,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapacityUsage {
    pub write_units: u64,
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

    /// Adds `units` for the items under `keys`, as one request.
    fn charge_writes(&self, keys_and_units: &[(&Key, u64)]) {
        let Ok(mut usage) = self.usage.lock() else {
            return;
        };
        usage.total.write_requests += 1;
        let mut labels_seen = Vec::new();
        for (key, units) in keys_and_units {
            let label = (self.label)(key);
            usage.total.write_units += units;
            let by_label = usage.by_label.entry(label).or_default();
            by_label.write_units += units;
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

    async fn stored_size(&self, key: &Key) -> usize {
        match self.inner.get(key).await {
            Ok(Some(item)) => item.size(),
            _ => 0,
        }
    }

    /// Units for a write to `key`, whose stored size was `before`, as it is now.
    async fn write_cost(&self, key: &Key, before: usize) -> u64 {
        write_units(before.max(self.stored_size(key).await))
    }
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
        let before = self.stored_size(&key).await.max(item.size());
        let result = self.inner.put(item, condition).await;
        let units = self.write_cost(&key, before).await;
        self.charge_writes(&[(&key, units)]);
        result
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> TableResult<Item> {
        let before = self.stored_size(key).await;
        let result = self.inner.update(key, update, condition).await;
        let units = self.write_cost(key, before).await;
        self.charge_writes(&[(key, units)]);
        result
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> TableResult<()> {
        let before = self.stored_size(key).await;
        let result = self.inner.delete(key, condition).await;
        self.charge_writes(&[(key, write_units(before))]);
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
            let (key, own) = match request {
                WriteRequest::Put(item) => (item.key.clone(), item.size()),
                WriteRequest::Delete(key) => (key.clone(), 0),
            };
            befores.push((key.clone(), self.stored_size(&key).await.max(own)));
        }
        let result = self.inner.batch_write(requests).await;
        let charges: Vec<(&Key, u64)> = befores
            .iter()
            .map(|(key, before)| (key, write_units(*before)))
            .collect();
        self.charge_writes(&charges);
        result
    }

    async fn transact_write(&self, items: Vec<TransactItem>) -> TableResult<()> {
        let mut befores = Vec::with_capacity(items.len());
        for item in &items {
            let (key, own) = match item {
                TransactItem::Put { item, .. } => (item.key.clone(), item.size()),
                TransactItem::Update { key, .. }
                | TransactItem::Delete { key, .. }
                | TransactItem::ConditionCheck { key, .. } => (key.clone(), 0),
            };
            let before = self.stored_size(&key).await.max(own);
            befores.push((key, before));
        }
        let result = self.inner.transact_write(items).await;
        let mut charges = Vec::with_capacity(befores.len());
        for (key, before) in &befores {
            charges.push((key, 2 * self.write_cost(key, *before).await));
        }
        self.charge_writes(&charges);
        result
    }
}
