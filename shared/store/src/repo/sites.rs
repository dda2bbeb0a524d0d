//! Sites: which ids may send beacons, from which origins, kept for how long.
//!
//! The item's `data` is the [`SiteConfig`] every ingest host reads; the admin API's bookkeeping
//! (`version`, `created_at`, `updated_at`) sits in attributes beside it, so readers of the config
//! are unaffected. Sites written by `put` (seeding, crm-local) have version 0 until first edited.

use std::sync::Arc;

use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;

use super::codec::{DATA_ATTR, VERSION_ATTR, decode, encode, version};
use super::keys;
use crate::table::{
    Condition, Cursor, Index, Item, Key, Query, SortKeyCondition, Table, TableError, Value,
};

const CREATED_AT_ATTR: &str = "created_at";
const UPDATED_AT_ATTR: &str = "updated_at";

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
}

impl StoredSite {
    fn from_item(item: &Item) -> Result<StoredSite, TableError> {
        Ok(StoredSite {
            config: decode(item)?,
            version: version(item),
            created_at: Millis(item.get_i64(CREATED_AT_ATTR).unwrap_or(0)),
            updated_at: Millis(item.get_i64(UPDATED_AT_ATTR).unwrap_or(0)),
        })
    }

    /// The item to write (in an audited [`crate::repo::crm::Change`]).
    pub fn item(&self) -> Result<Item, TableError> {
        Ok(site_item(&self.config)?
            .with(VERSION_ATTR, Value::N(self.version))
            .with(CREATED_AT_ATTR, Value::N(self.created_at.0))
            .with(UPDATED_AT_ATTR, Value::N(self.updated_at.0)))
    }

    pub fn key(&self) -> Key {
        keys::site_config(&self.config.id)
    }
}

impl SiteRepo {
    pub fn new(table: Arc<dyn Table>) -> SiteRepo {
        SiteRepo { table }
    }

    pub async fn get(&self, site: &SiteId) -> Result<Option<SiteConfig>, TableError> {
        match self.table.get(&keys::site_config(site)).await? {
            Some(item) => decode(&item).map(Some),
            None => Ok(None),
        }
    }

    pub async fn get_stored(&self, site: &SiteId) -> Result<Option<StoredSite>, TableError> {
        match self.table.get(&keys::site_config(site)).await? {
            Some(item) => StoredSite::from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    pub async fn put(&self, site: &SiteConfig) -> Result<(), TableError> {
        self.table.put(site_item(site)?, None).await
    }

    /// Creates the site unless one with that id exists; returns whether it was created.
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

    /// Every site, in id order (sites are few: one index partition holds them all).
    pub async fn list(&self) -> Result<Vec<SiteConfig>, TableError> {
        let mut sites = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.list_page(100, cursor).await?;
            sites.extend(page.into_iter().map(|stored| stored.config));
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(sites),
            }
        }
    }

    /// One page of sites in id order.
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
    Ok(Item::new(keys::site_config(&site.id))
        .with(DATA_ATTR, encode(site)?)
        .with("gsi1pk", Value::S(keys::SITES_INDEX_PK.to_owned()))
        .with("gsi1sk", Value::S(site.id.to_string())))
}
