//! A `Table` wrapper that makes the job-state checkpoint fail, to play crashes and overlapping
//! runs at the one point where they matter: after deleting, before saving the cursor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use crm_store::table::{
    Condition, Item, Key, Page, Query, Table, TableError, TableResult, TransactItem, Update,
    WriteRequest,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtCheckpoint {
    /// The store is unavailable when the job saves its cursor (the run dies there).
    Unavailable,
    /// Another run of the job saves its cursor first (bumps the state's version).
    AnotherRunSavesFirst,
}

pub struct CheckpointFault {
    inner: Arc<dyn Table>,
    fault: AtCheckpoint,
    armed: AtomicBool,
}

impl CheckpointFault {
    /// Faults the first checkpoint only.
    pub fn once(inner: Arc<dyn Table>, fault: AtCheckpoint) -> Arc<dyn Table> {
        Arc::new(CheckpointFault {
            inner,
            fault,
            armed: AtomicBool::new(true),
        })
    }
}

fn is_job_state(key: &Key) -> bool {
    key.pk.starts_with("JOB#")
}

#[async_trait]
impl Table for CheckpointFault {
    async fn get(&self, key: &Key) -> TableResult<Option<Item>> {
        self.inner.get(key).await
    }

    async fn batch_get(&self, keys: &[Key]) -> TableResult<Vec<Item>> {
        self.inner.batch_get(keys).await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> TableResult<()> {
        if is_job_state(&item.key) && self.armed.swap(false, Ordering::SeqCst) {
            match self.fault {
                AtCheckpoint::Unavailable => {
                    return Err(TableError::Unavailable("injected at checkpoint".to_owned()));
                }
                AtCheckpoint::AnotherRunSavesFirst => {
                    let bump = Update {
                        add: vec![("version".to_owned(), 1)],
                        ..Update::default()
                    };
                    self.inner.update(&item.key, bump, None).await?;
                }
            }
        }
        self.inner.put(item, condition).await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> TableResult<Item> {
        self.inner.update(key, update, condition).await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> TableResult<()> {
        self.inner.delete(key, condition).await
    }

    async fn query(&self, query: Query) -> TableResult<Page> {
        self.inner.query(query).await
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> TableResult<()> {
        self.inner.batch_write(requests).await
    }

    async fn transact_write(&self, items: Vec<TransactItem>) -> TableResult<()> {
        self.inner.transact_write(items).await
    }
}
