//! Behavior state: visitor profiles, sessions, raw events, friction points, intent signals and
//! the site aggregates the dashboard reads.
//!
//! A scorer commits one visitor's fold as one transaction: the profile (conditional on the
//! version it read, and carrying the applied message ids), the sessions, and every counter the
//! fold adds to. Either all of it lands or none, so redelivery can never double count.
//!
//! [`writes`] builds that transaction; [`records`] holds what the admin API reads back.

mod records;
mod writes;

pub use records::{FrictionPoint, IntentSignal, PageCount, ScoreAverages, SiteTotals};

use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, IdentifyRequest};
use crm_domain::scoring::{SessionState, SiteDelta, VisitorFold, VisitorProfile};
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use records::{friction_point_from, intent_signal_from};
use writes::{SCORE_SUM_ATTRS, TOTAL_SK, aggregate_updates, fold_items};

use crate::repo::codec::{DATA_ATTR, decode, encode, version};
use crate::repo::keys;
use crate::table::{
    Condition, Cursor, Index, Item, Key, MAX_BATCH_GET, MAX_TRANSACT_ITEMS, Query,
    SortKeyCondition, Table, TableError, TransactItem, Update, Value,
};

/// Upper bound of friction points or intent signals read for one ranked list.
pub const MAX_RANKED_ITEMS: usize = 1000;

#[derive(Clone)]
pub struct BehaviorRepo {
    table: Arc<dyn Table>,
}

/// What a scorer reads before folding: the profile as stored, its version, and the sessions.
#[derive(Debug, Clone, Default)]
pub struct StoredVisitor {
    pub profile: Option<VisitorProfile>,
    pub version: i64,
    pub sessions: Vec<SessionState>,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// Another writer changed the profile since it was read: read again and refold.
    #[error("the visitor profile changed since it was read")]
    Conflict,
    /// The fold needs more items than one transaction holds.
    #[error("the fold touches {0} items, more than one transaction holds")]
    TooLarge(usize),
    #[error(transparent)]
    Table(#[from] TableError),
}

impl BehaviorRepo {
    pub fn new(table: Arc<dyn Table>) -> BehaviorRepo {
        BehaviorRepo { table }
    }

    pub async fn load_visitor(
        &self,
        site: &SiteId,
        visitor: &str,
        session_ids: &[&str],
    ) -> Result<StoredVisitor, TableError> {
        let mut stored = StoredVisitor::default();
        if let Some(item) = self.table.get(&keys::profile(site, visitor)).await? {
            stored.version = version(&item);
            stored.profile = Some(decode(&item)?);
        }
        if stored.profile.is_none() {
            return Ok(stored);
        }
        let session_keys: Vec<Key> = session_ids
            .iter()
            .map(|session| keys::session(site, visitor, session))
            .collect();
        for chunk in session_keys.chunks(MAX_BATCH_GET) {
            for item in self.table.batch_get(chunk).await? {
                stored.sessions.push(decode(&item)?);
            }
        }
        Ok(stored)
    }

    /// Keeps a beacon's accepted events (one item per beacon, expiring after the site's
    /// retention). Writing it again on redelivery rewrites the same item.
    pub async fn put_raw_events(
        &self,
        envelope: &BeaconEnvelope,
        retention_days: u32,
    ) -> Result<(), TableError> {
        let key = keys::raw_events(
            &envelope.site,
            &envelope.visitor,
            envelope.received_at,
            &envelope.id,
        );
        let expires_at = envelope.received_at.0 / 1000 + i64::from(retention_days) * 86_400;
        let item = Item::new(key)
            .with(DATA_ATTR, encode(&envelope.events)?)
            .with(crate::table::TTL_ATTR, Value::N(expires_at));
        self.table.put(item, None).await
    }

    /// Records a consented identify request durably until contacts are linked to visitors.
    pub async fn put_identify_request(
        &self,
        envelope: &BeaconEnvelope,
        request: &IdentifyRequest,
    ) -> Result<(), TableError> {
        let item = Item::new(keys::identify_request(
            &envelope.site,
            &envelope.visitor,
            &envelope.id,
        ))
        .with(DATA_ATTR, encode(request)?)
        .with(
            "gsi1pk",
            Value::S(keys::IDENTIFY_PENDING_INDEX_PK.to_owned()),
        )
        .with(
            "gsi1sk",
            Value::S(format!(
                "{}#{}",
                keys::padded_millis(request.ts),
                envelope.id
            )),
        );
        self.table.put(item, None).await
    }

    /// Commits one visitor's fold atomically. `stored` is what the fold started from.
    pub async fn commit_fold(
        &self,
        fold: &VisitorFold,
        stored: &StoredVisitor,
    ) -> Result<(), CommitError> {
        let items = fold_items(fold, stored)?;
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(CommitError::TooLarge(items.len()));
        }
        match self.table.transact_write(items).await {
            Ok(()) => Ok(()),
            Err(TableError::TransactionCanceled { failed }) if failed.contains(&0) => {
                Err(CommitError::Conflict)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Counts bot traffic the ingest dropped. Idempotent through a marker item per message.
    pub async fn commit_site_delta_once(
        &self,
        site: &SiteId,
        message_id: &str,
        delta: &SiteDelta,
        at: Millis,
    ) -> Result<(), TableError> {
        let marker = Item::new(Key::new(format!("MSG#{message_id}"), "DONE"))
            .with(crate::table::TTL_ATTR, Value::N(at.0 / 1000 + 14 * 86_400));
        let mut items = vec![TransactItem::Put {
            item: marker,
            condition: Some(Condition::ItemNotExists),
        }];
        items.extend(aggregate_updates(site, delta, None, at));
        match self.table.transact_write(items).await {
            Err(TableError::TransactionCanceled { failed }) if failed == [0] => Ok(()),
            other => other,
        }
    }

    pub async fn get_profile(
        &self,
        site: &SiteId,
        visitor: &str,
    ) -> Result<Option<VisitorProfile>, TableError> {
        match self.table.get(&keys::profile(site, visitor)).await? {
            Some(item) => decode(&item).map(Some),
            None => Ok(None),
        }
    }

    /// Visitors, most recently active first.
    pub async fn list_visitors(
        &self,
        site: &SiteId,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<(Vec<VisitorProfile>, Option<Cursor>), TableError> {
        let page = self
            .table
            .query(Query {
                index: Some(Index::Gsi1),
                pk: keys::visitors_index(site),
                sk: SortKeyCondition::Any,
                forward: false,
                limit,
                cursor,
            })
            .await?;
        let profiles = page
            .items
            .iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((profiles, page.next))
    }

    /// A visitor's sessions, at most `limit` of them, in session-id order.
    pub async fn list_sessions(
        &self,
        site: &SiteId,
        visitor: &str,
        limit: usize,
    ) -> Result<Vec<SessionState>, TableError> {
        let page = self
            .table
            .query(Query {
                index: None,
                pk: keys::visitor_partition(site, visitor),
                sk: SortKeyCondition::BeginsWith(keys::SESSION_SK_PREFIX.to_owned()),
                forward: true,
                limit,
                cursor: None,
            })
            .await?;
        let mut sessions = page
            .items
            .iter()
            .map(decode)
            .collect::<Result<Vec<SessionState>, _>>()?;
        sessions.sort_by_key(|session| session.started_at);
        Ok(sessions)
    }

    pub async fn get_session(
        &self,
        site: &SiteId,
        session: &str,
    ) -> Result<Option<SessionState>, TableError> {
        let page = self
            .table
            .query(Query {
                index: Some(Index::Gsi2),
                pk: keys::session_index(site, session),
                sk: SortKeyCondition::Any,
                forward: true,
                limit: 1,
                cursor: None,
            })
            .await?;
        page.items.first().map(decode).transpose()
    }

    /// Friction points, most frequent first (reads at most [`MAX_RANKED_ITEMS`]).
    pub async fn ranked_friction_points(
        &self,
        site: &SiteId,
    ) -> Result<Vec<FrictionPoint>, TableError> {
        self.ranked(
            keys::friction_partition(site),
            friction_point_from,
            |point| (point.count, point.id.clone()),
        )
        .await
    }

    /// Intent signals, most frequent first (reads at most [`MAX_RANKED_ITEMS`]).
    pub async fn ranked_intent_signals(
        &self,
        site: &SiteId,
    ) -> Result<Vec<IntentSignal>, TableError> {
        self.ranked(keys::intent_partition(site), intent_signal_from, |signal| {
            (signal.count, signal.id.clone())
        })
        .await
    }

    /// A counter partition's records, highest count first, ties by id.
    async fn ranked<T>(
        &self,
        partition: String,
        read: fn(&Item) -> Option<T>,
        count_and_id: fn(&T) -> (i64, String),
    ) -> Result<Vec<T>, TableError> {
        let items = self.read_partition(partition, MAX_RANKED_ITEMS).await?;
        let mut records: Vec<T> = items.iter().filter_map(read).collect();
        records.sort_by_cached_key(|record| {
            let (count, id) = count_and_id(record);
            (std::cmp::Reverse(count), id)
        });
        Ok(records)
    }

    /// Marks a friction point resolved; `None` when there is no such point.
    pub async fn resolve_friction_point(
        &self,
        site: &SiteId,
        id: &str,
        at: Millis,
    ) -> Result<Option<FrictionPoint>, TableError> {
        let update = Update {
            set: vec![
                ("resolved".to_owned(), Value::Bool(true)),
                ("resolved_at".to_owned(), Value::N(at.0)),
            ],
            ..Update::default()
        };
        let key = Key::new(keys::friction_partition(site), id);
        match self
            .table
            .update(&key, update, Some(Condition::ItemExists))
            .await
        {
            Ok(item) => Ok(friction_point_from(&item)),
            Err(TableError::ConditionFailed) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Counters summed over the days `[from_day, to_day]`.
    pub async fn totals(
        &self,
        site: &SiteId,
        from_day: i64,
        to_day: i64,
    ) -> Result<SiteTotals, TableError> {
        let from = keys::daily_aggregate(site, from_day).sk;
        let to = keys::daily_aggregate(site, to_day).sk;
        let mut totals = SiteTotals::default();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(Query {
                    index: None,
                    pk: keys::aggregates_partition(site),
                    sk: SortKeyCondition::Between(from.clone(), to.clone()),
                    forward: true,
                    limit: 400,
                    cursor,
                })
                .await?;
            for item in &page.items {
                let get = |name: &str| item.get_i64(name).unwrap_or(0);
                totals.visitors += get("visitors");
                totals.sessions += get("sessions");
                totals.events += get("events");
                totals.page_views += get("page_views");
                totals.rejected_events += get("rejected_events");
                totals.bot_beacons += get("bot_beacons");
                totals.bot_events += get("bot_events");
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(totals),
            }
        }
    }

    /// All-time averages of the visitors' scores as of their last activity.
    pub async fn score_averages(&self, site: &SiteId) -> Result<ScoreAverages, TableError> {
        let key = Key::new(keys::aggregates_partition(site), TOTAL_SK);
        let Some(item) = self.table.get(&key).await? else {
            return Ok(ScoreAverages::default());
        };
        let visitors = item.get_i64("visitors").unwrap_or(0);
        let average = |name: &str| {
            if visitors == 0 {
                0.0
            } else {
                let tenths = item.get_i64(name).unwrap_or(0) as f64 / visitors as f64;
                (tenths.round() / 10.0).clamp(0.0, 100.0)
            }
        };
        Ok(ScoreAverages {
            visitors,
            engagement: average(SCORE_SUM_ATTRS[0]),
            intent: average(SCORE_SUM_ATTRS[1]),
            friction: average(SCORE_SUM_ATTRS[2]),
            churn_risk: average(SCORE_SUM_ATTRS[3]),
        })
    }

    /// The most viewed pages of all time (reads at most [`MAX_RANKED_ITEMS`] paths).
    pub async fn top_pages(
        &self,
        site: &SiteId,
        limit: usize,
    ) -> Result<Vec<PageCount>, TableError> {
        let items = self
            .read_partition(keys::pages_partition(site), MAX_RANKED_ITEMS)
            .await?;
        let mut pages: Vec<PageCount> = items
            .iter()
            .map(|item| PageCount {
                path: item.key.sk.clone(),
                views: item.get_i64("views").unwrap_or(0),
            })
            .collect();
        pages.sort_by(|a, b| b.views.cmp(&a.views).then_with(|| a.path.cmp(&b.path)));
        pages.truncate(limit);
        Ok(pages)
    }

    async fn read_partition(&self, pk: String, max_items: usize) -> Result<Vec<Item>, TableError> {
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(Query {
                    index: None,
                    pk: pk.clone(),
                    sk: SortKeyCondition::Any,
                    forward: true,
                    limit: (max_items - items.len()).clamp(1, 500),
                    cursor,
                })
                .await?;
            items.extend(page.items);
            match page.next {
                Some(next) if items.len() < max_items => cursor = Some(next),
                _ => return Ok(items),
            }
        }
    }
}
