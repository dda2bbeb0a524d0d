//! A CRM write as one transaction: the record items, their conditions, and the audit entries
//! describing them. [`commit`] refuses a change without an audit entry, so that every write path
//! that goes through it is audited in the same transaction as the write itself.

use crate::repo::codec::VERSION_ATTR;
use crate::table::{
    Condition, Item, Key, MAX_TRANSACT_ITEMS, Table, TableError, TransactItem, Update, Value,
};

use super::audit::AuditEntry;

/// What the stored item must be for a write to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No item with that key (a create, a uniqueness claim).
    Absent,
    /// The item exists at exactly this version (optimistic concurrency). Version 0 is an item
    /// written before it was versioned (no `version` attribute).
    Version(i64),
    /// The item exists, at any version.
    Present,
    /// No condition.
    Anything,
}

impl Expect {
    fn condition(self) -> Option<Condition> {
        match self {
            Expect::Absent => Some(Condition::ItemNotExists),
            Expect::Version(0) => Some(Condition::And(vec![
                Condition::ItemExists,
                Condition::AttrNotExists(VERSION_ATTR.to_owned()),
            ])),
            Expect::Version(version) => Some(Condition::AttrEquals(
                VERSION_ATTR.to_owned(),
                Value::N(version),
            )),
            Expect::Present => Some(Condition::ItemExists),
            Expect::Anything => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Change {
    items: Vec<TransactItem>,
    audited: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The conditions of these items (indexes returned by the `Change` methods) did not hold.
    #[error("the record changed or exists already (items {failed:?})")]
    Conflict { failed: Vec<usize> },
    #[error(transparent)]
    Table(#[from] TableError),
}

impl CommitError {
    /// Whether the item at `index` is one whose condition failed.
    pub fn failed_at(&self, index: usize) -> bool {
        matches!(self, CommitError::Conflict { failed } if failed.contains(&index))
    }
}

impl Change {
    pub fn new() -> Change {
        Change::default()
    }

    /// Adds a put; returns its index for [`CommitError::failed_at`].
    pub fn put(&mut self, item: Item, expect: Expect) -> usize {
        self.push(TransactItem::Put {
            item,
            condition: expect.condition(),
        })
    }

    pub fn update(&mut self, key: Key, update: Update, expect: Expect) -> usize {
        self.push(TransactItem::Update {
            key,
            update,
            condition: expect.condition(),
        })
    }

    pub fn delete(&mut self, key: Key, expect: Expect) -> usize {
        self.push(TransactItem::Delete {
            key,
            condition: expect.condition(),
        })
    }

    pub fn check(&mut self, key: Key, condition: Condition) -> usize {
        self.push(TransactItem::ConditionCheck { key, condition })
    }

    pub fn push(&mut self, item: TransactItem) -> usize {
        self.items.push(item);
        self.items.len() - 1
    }

    /// Records `entry` in the same transaction (its items: the entry, and a person link when it
    /// names one).
    pub fn audit(&mut self, entry: &AuditEntry) -> Result<(), TableError> {
        for item in entry.items()? {
            self.items.push(TransactItem::Put {
                item,
                condition: None,
            });
        }
        self.audited = true;
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Writes the change atomically. A change without an audit entry, or with more items than one
/// transaction holds, is refused before anything is written.
pub async fn commit(table: &dyn Table, change: Change) -> Result<(), CommitError> {
    if !change.audited {
        return Err(TableError::Invalid("a CRM write must carry an audit entry".to_owned()).into());
    }
    if change.items.len() > MAX_TRANSACT_ITEMS {
        return Err(TableError::Invalid(format!(
            "a change of {} items is more than one transaction holds",
            change.items.len()
        ))
        .into());
    }
    match table.transact_write(change.items).await {
        Ok(()) => Ok(()),
        Err(TableError::TransactionCanceled { failed }) => Err(CommitError::Conflict { failed }),
        Err(error) => Err(error.into()),
    }
}
