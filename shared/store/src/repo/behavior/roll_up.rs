//! Rolling pending counters up into the site's counter items, and reading what is pending
//! ([`pending`](super::pending) says why counters wait).

use crm_domain::site::SiteId;
use crm_domain::time::Millis;

use super::BehaviorRepo;
use super::pending::PendingCounters;
use super::writes::{REVISION_ATTR, counter_updates};
use crate::repo::codec::{DATA_ATTR, decode, encode_compressed};
use crate::repo::keys;
use crate::table::{Condition, Item, MAX_TRANSACT_ITEMS, TableError, TransactItem, Value};

/// Upper bound of pending-counters items a reader adds to the counters. Roll-ups keep far fewer
/// waiting (see [`RollUpPolicy`]); past this bound readers see figures that lag until the next
/// roll-up.
pub const MAX_PENDING_READ: usize = 500;
/// Pending-counters items one roll-up reads.
const ROLL_UP_READ: usize = 100;

/// When a roll-up is worth its writes: it rewrites every counter item the pending items touch,
/// so the more pending items it adds at once, the cheaper each is.
#[derive(Debug, Clone, Copy)]
pub struct RollUpPolicy {
    /// Roll up once this many pending items wait…
    pub min_pending: usize,
    /// …or once the oldest has waited this long.
    pub max_wait_ms: i64,
}

impl Default for RollUpPolicy {
    fn default() -> RollUpPolicy {
        RollUpPolicy {
            min_pending: 16,
            max_wait_ms: 60_000,
        }
    }
}

impl BehaviorRepo {
    /// Rolls up the site's pending counters if [`RollUpPolicy`] says it is time; returns what
    /// [`BehaviorRepo::roll_up`] does.
    pub async fn roll_up_if_due(
        &self,
        site: &SiteId,
        now: Millis,
        policy: RollUpPolicy,
    ) -> Result<usize, TableError> {
        let pending = self.read_pending(site, ROLL_UP_READ).await?;
        let oldest = pending
            .first()
            .and_then(|item| keys::pending_counters_committed_at(&item.key.sk));
        let due = pending.len() >= policy.min_pending
            || oldest.is_some_and(|at| now.0 - at.0 >= policy.max_wait_ms);
        if !due {
            return Ok(0);
        }
        self.roll_up_items(site, pending).await
    }

    /// Rolls up whatever the site has pending (at most one transaction's worth); returns how
    /// many pending items were added, wholly or in part, so 0 means nothing was pending.
    pub async fn roll_up(&self, site: &SiteId) -> Result<usize, TableError> {
        let pending = self.read_pending(site, ROLL_UP_READ).await?;
        self.roll_up_items(site, pending).await
    }

    /// One transaction: adds pending items, oldest first, to the counter items and deletes them
    /// (each conditional on the revision read, so two roll-ups never add the same item twice).
    /// A pending item too large for one transaction is moved in parts: what is added is removed
    /// from it, and its revision goes up.
    async fn roll_up_items(&self, site: &SiteId, pending: Vec<Item>) -> Result<usize, TableError> {
        // One slot stays free for the pending item rewritten after a partial move.
        let room = MAX_TRANSACT_ITEMS - 1;
        let mut counters = PendingCounters::default();
        let mut consumed = Vec::new();
        let mut rewrite = None;
        for item in pending {
            let mut added: PendingCounters = decode(&item)?;
            let revision = Condition::AttrEquals(
                REVISION_ATTR.to_owned(),
                item.attrs
                    .get(REVISION_ATTR)
                    .cloned()
                    .unwrap_or(Value::N(0)),
            );
            let mut merged = counters.clone();
            merged.merge(added.clone());
            // The counter updates, the items consumed so far and this one must fit.
            if merged.counter_items() + consumed.len() < room {
                counters = merged;
                consumed.push(TransactItem::Delete {
                    key: item.key,
                    condition: Some(revision),
                });
                continue;
            }
            if consumed.is_empty() {
                let part = added.split_off(room.saturating_sub(counters.counter_items() + 1));
                counters.merge(part);
                let next_revision = item.get_i64(REVISION_ATTR).unwrap_or(0) + 1;
                let remaining = Item::new(item.key)
                    .with(DATA_ATTR, encode_compressed(&added)?)
                    .with(REVISION_ATTR, Value::N(next_revision));
                rewrite = Some(TransactItem::Put {
                    item: remaining,
                    condition: Some(revision),
                });
            }
            break;
        }
        let rolled_up = consumed.len() + usize::from(rewrite.is_some());
        if rolled_up == 0 {
            return Ok(0);
        }
        let mut items = counter_updates(site, &counters);
        items.extend(consumed);
        items.extend(rewrite);
        match self.table.transact_write(items).await {
            Ok(()) => Ok(rolled_up),
            // Another roll-up took some of the same items first: nothing was added here.
            Err(TableError::TransactionCanceled { .. }) => Ok(0),
            Err(error) => Err(error),
        }
    }

    /// What is pending for the site, summed (reads at most [`MAX_PENDING_READ`] items).
    pub async fn pending_counters(&self, site: &SiteId) -> Result<PendingCounters, TableError> {
        let mut counters = PendingCounters::default();
        for item in self.read_pending(site, MAX_PENDING_READ).await? {
            counters.merge(decode(&item)?);
        }
        Ok(counters)
    }

    async fn read_pending(&self, site: &SiteId, max_items: usize) -> Result<Vec<Item>, TableError> {
        self.read_partition(keys::pending_counters_partition(site), max_items)
            .await
    }
}
