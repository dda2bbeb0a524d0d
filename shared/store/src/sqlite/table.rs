//! [`SqliteTable`]: the `Table` port on one SQLite table. Every write is validated against
//! DynamoDB's limits first, then runs in one immediate transaction (read the stored item, check
//! the condition, write), so conditions and `ADD` are atomic as they are on DynamoDB. Expired
//! items stay readable until [`SqliteTable::purge_expired`] removes them, as DynamoDB keeps them
//! until its TTL process deletes them.

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::limits::{
    INDEXES, check_batch_get, check_batch_write, check_item, check_key, check_transact_write,
    check_update, transact_key,
};
use crate::table::{
    Condition, Item, Key, Page, Query, TTL_ATTR, Table, TableError, TableResult, TransactItem,
    Update, WriteRequest,
};

use super::attrs;
use super::connection::{Database, OpenError, StoreFault};
use super::expression::{apply_update, holds};
use super::query;
use super::schema;

/// The embedded `Table`: cheap to clone, `Send + Sync`, usable as `Arc<dyn Table>`.
#[derive(Clone)]
pub struct SqliteTable {
    database: Database,
}

impl SqliteTable {
    /// Opens or creates the store at `path` (its directory must exist).
    pub fn open(path: &Path) -> Result<SqliteTable, OpenError> {
        Ok(SqliteTable {
            database: Database::open(path, schema::create_items)?,
        })
    }

    /// A private store that disappears with its last handle.
    pub fn in_memory() -> Result<SqliteTable, OpenError> {
        Ok(SqliteTable {
            database: Database::in_memory(schema::create_items)?,
        })
    }

    /// Deletes up to `limit` items whose `ttl` (epoch seconds) is before `now_epoch_seconds`;
    /// returns how many it deleted. Call again while it returns `limit`.
    pub async fn purge_expired(&self, now_epoch_seconds: i64, limit: usize) -> TableResult<usize> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.database
            .call(move |connection| {
                connection
                    .execute(
                        "DELETE FROM items WHERE (pk, sk) IN \
                         (SELECT pk, sk FROM items WHERE ttl < ?1 ORDER BY ttl LIMIT ?2)",
                        params![now_epoch_seconds, limit],
                    )
                    .map_err(TableError::sqlite)
            })
            .await
    }

    /// Every item of the store, in key order. Not part of the `Table` port (no request path may
    /// scan): tests use it to prove that something left no trace anywhere.
    pub async fn all_items(&self) -> TableResult<Vec<Item>> {
        self.database
            .call(|connection| {
                let mut statement = connection
                    .prepare("SELECT pk, sk, attrs FROM items ORDER BY pk, sk")
                    .map_err(TableError::sqlite)?;
                let rows = statement
                    .query_map([], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                        ))
                    })
                    .map_err(TableError::sqlite)?;
                let mut items = Vec::new();
                for row in rows {
                    let (pk, sk, text) = row.map_err(TableError::sqlite)?;
                    let key = Key::new(pk, sk);
                    items.push(Item {
                        attrs: attrs::decode(&key, &text)?,
                        key,
                    });
                }
                Ok(items)
            })
            .await
    }

    /// Runs `work` inside one immediate transaction, committed only when it succeeds.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> TableResult<T> + Send + 'static,
    ) -> TableResult<T> {
        self.database
            .call(move |connection| {
                let transaction = connection
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(TableError::sqlite)?;
                let value = work(&transaction)?;
                transaction.commit().map_err(TableError::sqlite)?;
                Ok(value)
            })
            .await
    }
}

fn load(connection: &Connection, key: &Key) -> TableResult<Option<Item>> {
    let text: Option<String> = connection
        .query_row(
            "SELECT attrs FROM items WHERE pk = ?1 AND sk = ?2",
            params![key.pk, key.sk],
            |row| row.get(0),
        )
        .optional()
        .map_err(TableError::sqlite)?;
    text.map(|text| {
        Ok(Item {
            attrs: attrs::decode(key, &text)?,
            key: key.clone(),
        })
    })
    .transpose()
}

/// Writes the whole item, copying its index and TTL attributes into their columns.
fn store(connection: &Connection, item: &Item) -> TableResult<()> {
    let [gsi1, gsi2] = INDEXES.map(|index| {
        let (pk_attr, sk_attr) = index.key_attrs();
        // An item is in an index only when it has both of the index's key attributes.
        match (item.get_str(pk_attr), item.get_str(sk_attr)) {
            (Some(pk), Some(sk)) => (Some(pk), Some(sk)),
            _ => (None, None),
        }
    });
    let ttl = item.get_i64(TTL_ATTR);
    connection
        .execute(
            "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, ttl, attrs) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                item.key.pk,
                item.key.sk,
                gsi1.0,
                gsi1.1,
                gsi2.0,
                gsi2.1,
                ttl,
                attrs::encode(&item.attrs)?
            ],
        )
        .map_err(TableError::sqlite)?;
    Ok(())
}

fn remove(connection: &Connection, key: &Key) -> TableResult<()> {
    connection
        .execute(
            "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
            params![key.pk, key.sk],
        )
        .map_err(TableError::sqlite)?;
    Ok(())
}

fn check_condition(condition: Option<&Condition>, stored: Option<&Item>) -> TableResult<()> {
    match condition {
        Some(condition) if !holds(condition, stored) => Err(TableError::ConditionFailed),
        _ => Ok(()),
    }
}

/// The stored item after `update`, validated as a whole.
fn updated(stored: Option<Item>, key: &Key, update: &Update) -> TableResult<Item> {
    let item = apply_update(stored, key, update)?;
    check_item(&item)?;
    Ok(item)
}

fn transact_condition(item: &TransactItem) -> Option<&Condition> {
    match item {
        TransactItem::Put { condition, .. }
        | TransactItem::Update { condition, .. }
        | TransactItem::Delete { condition, .. } => condition.as_ref(),
        TransactItem::ConditionCheck { condition, .. } => Some(condition),
    }
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> TableResult<Option<Item>> {
        check_key(key)?;
        let key = key.clone();
        self.database
            .call(move |connection| load(connection, &key))
            .await
    }

    async fn batch_get(&self, keys: &[Key]) -> TableResult<Vec<Item>> {
        check_batch_get(keys)?;
        let keys = keys.to_vec();
        self.database
            .call(move |connection| {
                let mut items = Vec::with_capacity(keys.len());
                for key in &keys {
                    items.extend(load(connection, key)?);
                }
                Ok(items)
            })
            .await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> TableResult<()> {
        check_item(&item)?;
        self.write(move |connection| {
            if condition.is_some() {
                check_condition(condition.as_ref(), load(connection, &item.key)?.as_ref())?;
            }
            store(connection, &item)
        })
        .await
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> TableResult<Item> {
        check_key(key)?;
        check_update(&update)?;
        let key = key.clone();
        self.write(move |connection| {
            let stored = load(connection, &key)?;
            check_condition(condition.as_ref(), stored.as_ref())?;
            let item = updated(stored, &key, &update)?;
            store(connection, &item)?;
            Ok(item)
        })
        .await
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> TableResult<()> {
        check_key(key)?;
        let key = key.clone();
        self.write(move |connection| {
            if condition.is_some() {
                check_condition(condition.as_ref(), load(connection, &key)?.as_ref())?;
            }
            remove(connection, &key)
        })
        .await
    }

    async fn query(&self, query: Query) -> TableResult<Page> {
        query::check(&query)?;
        self.database
            .call(move |connection| query::run(connection, &query))
            .await
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> TableResult<()> {
        check_batch_write(&requests)?;
        if requests.is_empty() {
            return Ok(());
        }
        self.write(move |connection| {
            for request in &requests {
                match request {
                    WriteRequest::Put(item) => store(connection, item)?,
                    WriteRequest::Delete(key) => remove(connection, key)?,
                }
            }
            Ok(())
        })
        .await
    }

    async fn transact_write(&self, items: Vec<TransactItem>) -> TableResult<()> {
        check_transact_write(&items)?;
        if items.is_empty() {
            return Ok(());
        }
        self.write(move |connection| {
            let mut stored = Vec::with_capacity(items.len());
            let mut failed = Vec::new();
            for (position, item) in items.iter().enumerate() {
                let current = load(connection, transact_key(item))?;
                if transact_condition(item)
                    .is_some_and(|condition| !holds(condition, current.as_ref()))
                {
                    failed.push(position);
                }
                stored.push(current);
            }
            if !failed.is_empty() {
                // Returning an error drops the transaction, which rolls it back.
                return Err(TableError::TransactionCanceled { failed });
            }
            for (item, current) in items.iter().zip(stored) {
                match item {
                    TransactItem::Put { item, .. } => store(connection, item)?,
                    TransactItem::Update { key, update, .. } => {
                        store(connection, &updated(current, key, update)?)?
                    }
                    TransactItem::Delete { key, .. } => remove(connection, key)?,
                    TransactItem::ConditionCheck { .. } => {}
                }
            }
            Ok(())
        })
        .await
    }
}
