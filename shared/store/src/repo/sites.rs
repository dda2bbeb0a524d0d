//! Sites: which ids may send beacons, from which origins, kept for how long.
//!
//! The item's `data` is the [`SiteConfig`] every ingest host reads; the admin API's bookkeeping
//! (`version`, `created_at`, `updated_at`) sits in attributes beside it, so readers of the config
//! are unaffected. Sites written by `put` (seeding, crm-local) have version 0 until first edited.
//!
//! # Deleted sites
//! Deleting a site keeps its item as a tombstone (`deleted_at`), listed in its own index
//! partition ([`keys::DELETED_SITES_INDEX_PK`]): the site's visitors' data outlives the record,
//! and the retention job, which finds a site's data through the site's id, must go on sweeping
//! it. Readers of the config ([`SiteRepo::get`]) see no site; [`SiteRepo::list`] gives both.

use std::sync::Arc;

use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;

use super::codec::{DATA_ATTR, VERSION_ATTR, decode, encode, version};
use super::keys;
use crate::table::{
    Condition, Cursor, Index, Item, Key, Query, SortKeyCondition, Table, TableError, Value,
    query_all,
};

const CREATED_AT_ATTR: &str = "created_at";
const UPDATED_AT_ATTR: &str = "updated_at";
const DELETED_AT_ATTR: &str = "deleted_at";

#[derive(Clone)]
pub struct SiteRepo {
    table: Arc<dyn Table>,
}

/// A site with the admin API's bookkeeping.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSite {
    pub config: SiteConfig,
    pub version: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// When an admin deleted the site; `None` while it is live.
    pub deleted_at: Option<Millis>,
}

impl StoredSite {
    fn from_item(item: &Item) -> Result<StoredSite, TableError> {
        Ok(StoredSite {
            config: decode(item)?,
            version: version(item),
            created_at: Millis(item.get_i64(CREATED_AT_ATTR).unwrap_or(0)),
            updated_at: Millis(item.get_i64(UPDATED_AT_ATTR).unwrap_or(0)),
            deleted_at: item.get_i64(DELETED_AT_ATTR).map(Millis),
        })
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// What deleting the site at `now` stores in its place: the next version, marked deleted.
    pub fn tombstone(&self, now: Millis) -> StoredSite {
        StoredSite {
            version: self.version + 1,
            updated_at: now,
            deleted_at: Some(now),
            ..self.clone()
        }
    }

    /// The item to write (in an audited [`crate::repo::crm::Change`]).
    pub fn item(&self) -> Result<Item, TableError> {
        let item = Item::new(self.key())
            .with(DATA_ATTR, encode(&self.config)?)
            .with(VERSION_ATTR, Value::N(self.version))
            .with(CREATED_AT_ATTR, Value::N(self.created_at.0))
            .with(UPDATED_AT_ATTR, Value::N(self.updated_at.0));
        Ok(match self.deleted_at {
            None => with_index_entry(item, keys::SITES_INDEX_PK, &self.config.id),
            Some(at) => with_index_entry(item, keys::DELETED_SITES_INDEX_PK, &self.config.id)
                .with(DELETED_AT_ATTR, Value::N(at.0)),
        })
    }

    pub fn key(&self) -> Key {
        keys::site_config(&self.config.id)
    }
}

impl SiteRepo {
    pub fn new(table: Arc<dyn Table>) -> SiteRepo {
        SiteRepo { table }
    }

    /// The site's configuration; `None` for a site that does not exist or was deleted.
    pub async fn get(&self, site: &SiteId) -> Result<Option<SiteConfig>, TableError> {
        Ok(self
            .get_stored(site)
            .await?
            .filter(|stored| !stored.is_deleted())
            .map(|stored| stored.config))
    }

    /// The site with its bookkeeping, deleted or not.
    pub async fn get_stored(&self, site: &SiteId) -> Result<Option<StoredSite>, TableError> {
        match self.table.get(&keys::site_config(site)).await? {
            Some(item) => StoredSite::from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    pub async fn put(&self, site: &SiteConfig) -> Result<(), TableError> {
        self.table.put(site_item(site)?, None).await
    }

    /// Creates the site unless one with that id exists, deleted or not; returns whether it was
    /// created.
    pub async fn create_if_missing(&self, site: &SiteConfig) -> Result<bool, TableError> {
        match self
            .table
            .put(site_item(site)?, Some(Condition::ItemNotExists))
            .await
        {
            Ok(()) => Ok(true),
            Err(TableError::ConditionFailed) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Every site, live and deleted, in id order (sites are few: two index partitions hold
    /// them all).
    pub async fn list(&self) -> Result<Vec<StoredSite>, TableError> {
        let mut sites = Vec::new();
        for partition in [keys::SITES_INDEX_PK, keys::DELETED_SITES_INDEX_PK] {
            let query = Query {
                index: Some(Index::Gsi1),
                ..Query::partition(partition)
            };
            for item in query_all(self.table.as_ref(), query).await? {
                sites.push(StoredSite::from_item(&item)?);
            }
        }
        sites.sort_by(|a, b| a.config.id.cmp(&b.config.id));
        Ok(sites)
    }

    /// One page of the live sites in id order.
    pub async fn list_page(
        &self,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<StoredSite>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: Some(Index::Gsi1),
                pk: keys::SITES_INDEX_PK.to_owned(),
                sk: SortKeyCondition::Any,
                forward: true,
                limit,
                cursor,
            })
            .await?;
        let sites = page
            .items
            .iter()
            .map(StoredSite::from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((sites, page.next))
    }
}

fn site_item(site: &SiteConfig) -> Result<Item, TableError> {
    Ok(with_index_entry(
        Item::new(keys::site_config(&site.id)).with(DATA_ATTR, encode(site)?),
        keys::SITES_INDEX_PK,
        &site.id,
    ))
}

fn with_index_entry(item: Item, partition: &str, site: &SiteId) -> Item {
    item.with("gsi1pk", Value::S(partition.to_owned()))
        .with("gsi1sk", Value::S(site.to_string()))
}
