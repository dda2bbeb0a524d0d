//! Sites: which ids may send beacons, from which origins, kept for how long.

use std::sync::Arc;

use crm_domain::site::{SiteConfig, SiteId};

use super::codec::{DATA_ATTR, decode, encode};
use super::keys;
use crate::table::{Condition, Index, Item, Query, SortKeyCondition, Table, TableError, Value};

#[derive(Clone)]
pub struct SiteRepo {
    table: Arc<dyn Table>,
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
            let page = self
                .table
                .query(Query {
                    index: Some(Index::Gsi1),
                    pk: keys::SITES_INDEX_PK.to_owned(),
                    sk: SortKeyCondition::Any,
                    forward: true,
                    limit: 100,
                    cursor,
                })
                .await?;
            for item in &page.items {
                sites.push(decode(item)?);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(sites),
            }
        }
    }
}

fn site_item(site: &SiteConfig) -> Result<Item, TableError> {
    Ok(Item::new(keys::site_config(&site.id))
        .with(DATA_ATTR, encode(site)?)
        .with("gsi1pk", Value::S(keys::SITES_INDEX_PK.to_owned()))
        .with("gsi1sk", Value::S(site.id.to_string())))
}
