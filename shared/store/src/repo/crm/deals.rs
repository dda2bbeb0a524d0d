//! Deals: versioned records in their own partition with their events (the stage history), listed
//! through the `DEALS` index (all deals, a pipeline's deals as one prefix) or an owner's index,
//! and linked from their contact's partition (the contact's deals, GDPR erase).

use std::sync::Arc;

use crm_domain::deals::{Deal, DealEvent, DealStatus};
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};

use super::change::{Change, Expect};
use super::keys::contact as contact_key;
use super::person::{OnErase, PersonRef};
use super::record::{Versioned, read_record, record_item};
use super::sales_keys as keys;
use super::scan::filtered_page;
use crate::repo::codec::{DATA_ATTR, decode, encode, version};
use crate::table::{
    Condition, Cursor, Index, Item, Key, MAX_BATCH_GET, MAX_BATCH_WRITE, MAX_QUERY_LIMIT, Query,
    SortKeyCondition, Table, TableError, TransactItem, Update, Value, WriteRequest,
};

/// A list page examines at most this many deals for its filters (the cursor resumes after).
pub const MAX_EXAMINED: usize = 1000;
/// The forecast and the analytics read at most this many deals per request.
pub const MAX_AGGREGATED: usize = 10_000;
/// A contact's timeline shows the events of at most this many of its deals.
pub const MAX_CONTACT_DEALS: usize = 50;
/// Fields of a deal that erasing its contact nulls: the link and the title (it may name them).
pub const PERSONAL_FIELDS: [&str; 2] = ["contact_id", "title"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealRecord {
    #[serde(flatten)]
    pub deal: Deal,
    pub updated_at: Millis,
}

pub type StoredDeal = Versioned<DealRecord>;

/// Which deals a list returns; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealFilter {
    pub pipeline_id: Option<String>,
    pub stage_id: Option<String>,
    pub owner_id: Option<String>,
    pub status: Option<DealStatus>,
    pub contact_id: Option<String>,
}

impl DealFilter {
    pub fn keeps(&self, deal: &Deal) -> bool {
        let is = |wanted: &Option<String>, actual: Option<&str>| {
            wanted
                .as_deref()
                .is_none_or(|wanted| Some(wanted) == actual)
        };
        is(&self.pipeline_id, Some(&deal.pipeline_id))
            && is(&self.stage_id, Some(&deal.stage_id))
            && is(&self.owner_id, deal.owner_id.as_deref())
            && is(&self.contact_id, deal.contact_id.as_deref())
            && self.status.is_none_or(|status| status == deal.status)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("more than {MAX_AGGREGATED} deals match; narrow by pipeline or owner")]
    TooMany,
    #[error(transparent)]
    Table(#[from] TableError),
}

/// Indexes (into the [`Change`]) of a deal write's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DealWrite {
    pub record: usize,
    /// The stage counter: the target stage (or its pipeline) no longer exists.
    pub stage: Option<usize>,
    /// The contact check: the named contact does not exist.
    pub contact: Option<usize>,
}

#[derive(Clone)]
pub struct DealRepo {
    table: Arc<dyn Table>,
}

impl DealRepo {
    pub fn new(table: Arc<dyn Table>) -> DealRepo {
        DealRepo { table }
    }

    pub async fn get(&self, id: &str) -> Result<Option<StoredDeal>, TableError> {
        read_record(&*self.table, &keys::deal(id)).await
    }

    /// One page of deals in id (creation) order. The narrowest index serves it: the contact's
    /// links, the owner's index, the pipeline's prefix, or all deals; the rest is filtered.
    pub async fn list(
        &self,
        filter: &DealFilter,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<StoredDeal>, Option<Cursor>), TableError> {
        if let Some(contact) = &filter.contact_id {
            return self.list_by_contact(contact, filter, limit, cursor).await;
        }
        let page = filtered_page(
            &*self.table,
            source(filter, cursor),
            limit,
            MAX_EXAMINED,
            |item| decode::<DealRecord>(item).is_ok_and(|record| filter.keeps(&record.deal)),
        )
        .await?;
        let deals = page.items.iter().map(stored).collect::<Result<_, _>>()?;
        Ok((deals, page.next))
    }

    async fn list_by_contact(
        &self,
        contact: &str,
        filter: &DealFilter,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<StoredDeal>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: None,
                pk: super::keys::contact_partition(contact),
                sk: SortKeyCondition::BeginsWith(contact_link_prefix()),
                forward: true,
                limit: limit.min(MAX_BATCH_GET),
                cursor,
            })
            .await?;
        let keys: Vec<Key> = page
            .items
            .iter()
            .map(|item| PersonRef::from_item(item).map(|link| link.target))
            .collect::<Result<_, _>>()?;
        let mut deals: Vec<StoredDeal> = self
            .table
            .batch_get(&keys)
            .await?
            .iter()
            .map(stored)
            .collect::<Result<_, _>>()?;
        deals.retain(|deal| filter.keeps(&deal.record.deal));
        deals.sort_by(|a, b| a.record.deal.id.cmp(&b.record.deal.id));
        Ok((deals, page.next))
    }

    /// Every deal of a pipeline and/or owner (all deals without either), for aggregates.
    pub async fn aggregate_source(
        &self,
        pipeline_id: Option<&str>,
        owner_id: Option<&str>,
    ) -> Result<Vec<Deal>, AggregateError> {
        let filter = DealFilter {
            pipeline_id: pipeline_id.map(str::to_owned),
            owner_id: owner_id.map(str::to_owned),
            ..DealFilter::default()
        };
        let mut query = source(&filter, None);
        query.limit = MAX_QUERY_LIMIT;
        let mut deals = Vec::new();
        loop {
            let page = self.table.query(query.clone()).await?;
            for item in &page.items {
                let record: DealRecord = decode(item)?;
                if filter.keeps(&record.deal) {
                    deals.push(record.deal);
                }
            }
            if deals.len() > MAX_AGGREGATED {
                return Err(AggregateError::TooMany);
            }
            match page.next {
                Some(next) => query.cursor = Some(next),
                None => return Ok(deals),
            }
        }
    }

    /// The deal's stage history, oldest first.
    pub async fn history(
        &self,
        deal: &str,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<DealEvent>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: None,
                pk: keys::deal_partition(deal),
                sk: SortKeyCondition::BeginsWith(keys::DEAL_EVENT_SK_PREFIX.to_owned()),
                forward: true,
                limit,
                cursor,
            })
            .await?;
        let events = page.items.iter().map(decode).collect::<Result<_, _>>()?;
        Ok((events, page.next))
    }

    /// The events of a contact's deals (created, stage changes, won, lost), oldest first, for
    /// the contact's timeline: at most `per_deal` events of each of its first
    /// [`MAX_CONTACT_DEALS`] deals.
    pub async fn contact_events(
        &self,
        contact: &str,
        per_deal: usize,
    ) -> Result<Vec<DealEvent>, TableError> {
        let filter = DealFilter {
            contact_id: Some(contact.to_owned()),
            ..DealFilter::default()
        };
        let (deals, _) = self
            .list_by_contact(contact, &filter, MAX_CONTACT_DEALS, None)
            .await?;
        let mut events = Vec::new();
        for deal in deals {
            let (mut more, _) = self.history(&deal.record.deal.id, per_deal, None).await?;
            events.append(&mut more);
        }
        events.sort_by_key(|event| event.at);
        Ok(events)
    }

    /// Deletes a deleted deal's events (after the audited delete committed).
    pub async fn delete_events(&self, deal: &str) -> Result<(), TableError> {
        loop {
            let page = self
                .table
                .query(Query {
                    index: None,
                    pk: keys::deal_partition(deal),
                    sk: SortKeyCondition::BeginsWith(keys::DEAL_EVENT_SK_PREFIX.to_owned()),
                    forward: true,
                    limit: MAX_BATCH_WRITE,
                    cursor: None,
                })
                .await?;
            if page.items.is_empty() {
                return Ok(());
            }
            let requests = page
                .items
                .into_iter()
                .map(|item| WriteRequest::Delete(item.key))
                .collect();
            self.table.batch_write(requests).await?;
        }
    }
}

/// Adds a new deal: the record, its `created` event, its stage counter (which must exist: the
/// pipeline and stage are current), and the contact link (the contact must exist).
pub fn create_items(
    change: &mut Change,
    record: &DealRecord,
    event: &DealEvent,
    event_id: &str,
) -> Result<DealWrite, TableError> {
    let deal = &record.deal;
    let index = change.put(deal_item(record, 1)?, Expect::Absent);
    let stage = change.push(move_counter(&deal.pipeline_id, None, Some(&deal.stage_id)));
    change.put(event_item(event, event_id)?, Expect::Anything);
    let contact = match &deal.contact_id {
        Some(contact) => Some(link_contact(change, &deal.id, contact)?),
        None => None,
    };
    Ok(DealWrite {
        record: index,
        stage: Some(stage),
        contact,
    })
}

/// Writes `after` over `before` (with `event` when the stage changed): moves the stage counters
/// and the contact link along.
pub fn update_items(
    change: &mut Change,
    before: &StoredDeal,
    after: &DealRecord,
    event: Option<(&DealEvent, &str)>,
) -> Result<DealWrite, TableError> {
    let (old, new) = (&before.record.deal, &after.deal);
    let record = change.put(
        deal_item(after, before.version + 1)?,
        Expect::Version(before.version),
    );
    let stage = (old.stage_id != new.stage_id).then(|| {
        change.push(move_counter(
            &new.pipeline_id,
            Some(&old.stage_id),
            Some(&new.stage_id),
        ))
    });
    if let Some((event, id)) = event {
        change.put(event_item(event, id)?, Expect::Anything);
    }
    let mut contact = None;
    if old.contact_id != new.contact_id {
        if let Some(previous) = &old.contact_id {
            change.delete(contact_link(&old.id, previous).key(), Expect::Anything);
        }
        if let Some(next) = &new.contact_id {
            contact = Some(link_contact(change, &new.id, next)?);
        }
    }
    Ok(DealWrite {
        record,
        stage,
        contact,
    })
}

/// Deletes the deal, its stage count and its contact link (events go after, see
/// [`DealRepo::delete_events`]).
pub fn delete_items(change: &mut Change, current: &StoredDeal) -> usize {
    let deal = &current.record.deal;
    let record = change.delete(keys::deal(&deal.id), Expect::Version(current.version));
    change.push(move_counter(&deal.pipeline_id, Some(&deal.stage_id), None));
    if let Some(contact) = &deal.contact_id {
        change.delete(contact_link(&deal.id, contact).key(), Expect::Anything);
    }
    record
}

/// The link from a contact's partition to a deal naming it: erase nulls the deal's personal
/// fields and keeps the rest (amount, stage) for the figures.
pub fn contact_link(deal: &str, contact: &str) -> PersonRef {
    PersonRef {
        contact: contact.to_owned(),
        target: keys::deal(deal),
        on_erase: OnErase::Scrub {
            fields: PERSONAL_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            attrs: Vec::new(),
        },
    }
}

fn link_contact(change: &mut Change, deal: &str, contact: &str) -> Result<usize, TableError> {
    let check = change.check(contact_key(contact), Condition::ItemExists);
    change.put(contact_link(deal, contact).item()?, Expect::Anything);
    Ok(check)
}

/// The sort-key prefix of a contact's links to deals.
fn contact_link_prefix() -> String {
    let probe = keys::deal("");
    format!("{}{}", super::keys::PERSON_REF_SK_PREFIX, probe.pk)
}

/// Moves one deal from stage `from` to stage `to` in the pipeline's counters; the target stage's
/// counter must exist (the stage is current).
fn move_counter(pipeline: &str, from: Option<&str>, to: Option<&str>) -> TransactItem {
    let mut add = Vec::new();
    if let Some(from) = from {
        add.push((keys::stage_counter(from), -1));
    }
    if let Some(to) = to {
        add.push((keys::stage_counter(to), 1));
    }
    TransactItem::Update {
        key: keys::deal_counts(pipeline),
        update: Update {
            add,
            ..Update::default()
        },
        condition: Some(match to {
            Some(to) => Condition::AttrExists(keys::stage_counter(to)),
            None => Condition::ItemExists,
        }),
    }
}

fn source(filter: &DealFilter, cursor: Option<Cursor>) -> Query {
    let (index, pk, sk) = match (&filter.owner_id, &filter.pipeline_id) {
        (Some(owner), _) => (Index::Gsi2, keys::owner_index(owner), SortKeyCondition::Any),
        (None, Some(pipeline)) => (
            Index::Gsi1,
            keys::DEALS_INDEX_PK.to_owned(),
            SortKeyCondition::BeginsWith(keys::deal_index_sk(pipeline, "")),
        ),
        (None, None) => (
            Index::Gsi1,
            keys::DEALS_INDEX_PK.to_owned(),
            SortKeyCondition::Any,
        ),
    };
    Query {
        index: Some(index),
        pk,
        sk,
        forward: true,
        limit: MAX_QUERY_LIMIT,
        cursor,
    }
}

pub fn deal_item(record: &DealRecord, version: i64) -> Result<Item, TableError> {
    let deal = &record.deal;
    let mut item = record_item(keys::deal(&deal.id), record, version)?
        .with("gsi1pk", Value::S(keys::DEALS_INDEX_PK.to_owned()))
        .with(
            "gsi1sk",
            Value::S(keys::deal_index_sk(&deal.pipeline_id, &deal.id)),
        );
    if let Some(owner) = &deal.owner_id {
        item = item
            .with("gsi2pk", Value::S(keys::owner_index(owner)))
            .with("gsi2sk", Value::S(deal.id.clone()));
    }
    Ok(item)
}

fn event_item(event: &DealEvent, id: &str) -> Result<Item, TableError> {
    Ok(Item::new(keys::deal_event(&event.deal_id, event.at, id)).with(DATA_ATTR, encode(event)?))
}

fn stored(item: &Item) -> Result<StoredDeal, TableError> {
    Ok(Versioned {
        record: decode(item)?,
        version: version(item),
    })
}
