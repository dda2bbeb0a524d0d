//! Behavior state: visitor profiles, sessions, raw events, friction points, intent signals and
//! the site aggregates the dashboard reads.
//!
//! A scorer commits a batch's folds as one transaction: each profile (conditional on the
//! version its fold read, and carrying the applied message ids), the sessions, and one item of
//! pending counters per site. Either all of it lands or none, so redelivery can never double
//! count. A roll-up later adds many pending items to the site's counter items at once
//! ([`pending`] says why); readers add what is still pending.
//!
//! [`writes`] builds the transactions; [`roll_up`] adds pending counters to the counter items;
//! [`records`] holds what the admin API reads back.

mod pending;
mod records;
mod roll_up;
mod writes;

pub use pending::PendingCounters;
pub use records::{FrictionPoint, IntentSignal, PageCount, ScoreAverages, SiteTotals};
pub use roll_up::{MAX_PENDING_READ, RollUpPolicy};

use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, IdentifyRequest};
use crm_domain::scoring::{SessionState, SiteDelta, VisitorFold, VisitorProfile};
use crm_domain::site::SiteId;
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use records::{friction_point_from, intent_signal_from};
use writes::{SCORE_SUM_ATTRS, TOTAL_SK, counter_updates, fold_items, pending_item};

use crate::repo::codec::{DATA_ATTR, decode, encode, encode_compressed, version};
use crate::repo::keys;
use crate::table::{
    Condition, Cursor, Index, Item, Key, MAX_BATCH_GET, MAX_TRANSACT_ITEMS, Query,
    SortKeyCondition, Table, TableError, TransactItem, Update, Value, query_all,
};

/// Upper bound of friction points or intent signals read for one ranked list.
pub const MAX_RANKED_ITEMS: usize = 1000;
/// Sessions read per query when listing a visitor's sessions.
const SESSIONS_PAGE: usize = 200;

#[derive(Clone)]
pub struct BehaviorRepo {
    table: Arc<dyn Table>,
}

/// A beacon's accepted events as kept for retention, export and recalculation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RawBeacon {
    /// The queue message id.
    pub id: String,
    pub received_at: Millis,
    pub events: Vec<crm_domain::event::Event>,
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
    /// Another writer changed these folds' profiles (positions in the committed slice) since
    /// they were read: read them again and refold.
    #[error("{} visitor profile(s) changed since they were read", .0.len())]
    Conflict(Vec<usize>),
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

    /// Keeps the accepted events of beacons of one visitor, in one item that expires after the
    /// site's retention counted from the earliest beacon. The item is named after the beacons,
    /// so writing the same beacons again rewrites it; a beacon written in two items (two
    /// scorers racing) is read once, by [`BehaviorRepo::raw_beacons`].
    pub async fn put_raw_events(
        &self,
        envelopes: &[&BeaconEnvelope],
        retention_days: u32,
    ) -> Result<(), TableError> {
        let Some(earliest) = envelopes.iter().min_by_key(|envelope| envelope.received_at) else {
            return Ok(());
        };
        let name = match envelopes {
            [only] => only.id.clone(),
            _ => {
                let mut ids: Vec<&str> = envelopes
                    .iter()
                    .map(|envelope| envelope.id.as_str())
                    .collect();
                ids.sort_unstable();
                writes::stable_id(&ids)
            }
        };
        let key = keys::raw_events(
            &earliest.site,
            &earliest.visitor,
            earliest.received_at,
            &name,
        );
        let beacons: Vec<RawBeacon> = envelopes
            .iter()
            .map(|envelope| RawBeacon {
                id: envelope.id.clone(),
                received_at: envelope.received_at,
                events: envelope.events.clone(),
            })
            .collect();
        let expires_at = earliest.received_at.0 / 1000 + i64::from(retention_days) * 86_400;
        let item = Item::new(key)
            .with(DATA_ATTR, encode_compressed(&beacons)?)
            .with(crate::table::TTL_ATTR, Value::N(expires_at));
        self.table.put(item, None).await
    }

    /// A visitor's stored beacons, oldest first, each once (reads at most `max_items` items).
    pub async fn raw_beacons(
        &self,
        site: &SiteId,
        visitor: &str,
        max_items: usize,
    ) -> Result<Vec<RawBeacon>, TableError> {
        let mut beacons: Vec<RawBeacon> = Vec::new();
        let mut cursor = None;
        let mut read = 0;
        loop {
            let page = self
                .table
                .query(Query {
                    index: None,
                    pk: keys::visitor_partition(site, visitor),
                    sk: SortKeyCondition::BeginsWith(keys::RAW_EVENTS_SK_PREFIX.to_owned()),
                    forward: true,
                    limit: (max_items - read).clamp(1, 100),
                    cursor,
                })
                .await?;
            read += page.items.len();
            for item in &page.items {
                for beacon in decode::<Vec<RawBeacon>>(item)? {
                    if !beacons.iter().any(|kept| kept.id == beacon.id) {
                        beacons.push(beacon);
                    }
                }
            }
            match page.next {
                Some(next) if read < max_items => cursor = Some(next),
                _ => break,
            }
        }
        beacons.sort_by(|a, b| {
            a.received_at
                .cmp(&b.received_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(beacons)
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

    /// How many items committing `fold` writes besides the pending counters.
    pub fn fold_writes(fold: &VisitorFold) -> usize {
        1 + fold.sessions.len()
    }

    /// Commits folds atomically: every profile (each conditional on the version its fold
    /// started from), every session, and one pending-counters item per site.
    pub async fn commit_folds(
        &self,
        folds: &[(&VisitorFold, &StoredVisitor)],
        committed_at: Millis,
    ) -> Result<(), CommitError> {
        let mut items = Vec::new();
        let mut profile_positions = Vec::with_capacity(folds.len());
        for (fold, stored) in folds {
            profile_positions.push(items.len());
            items.extend(fold_items(fold, stored)?);
        }
        let mut sites: Vec<&SiteId> = Vec::new();
        for (fold, _) in folds {
            if !sites.contains(&&fold.profile.site) {
                sites.push(&fold.profile.site);
            }
        }
        for site in sites {
            let site_folds: Vec<(&VisitorFold, &StoredVisitor)> = folds
                .iter()
                .filter(|(fold, _)| &fold.profile.site == site)
                .copied()
                .collect();
            let mut counters = PendingCounters::default();
            for (fold, stored) in &site_folds {
                counters.add_fold(fold, stored);
            }
            if !counters.is_empty() {
                items.push(pending_item(site, &counters, &site_folds, committed_at)?);
            }
        }
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(CommitError::TooLarge(items.len()));
        }
        match self.table.transact_write(items).await {
            Ok(()) => Ok(()),
            Err(TableError::TransactionCanceled { failed }) => {
                let conflicted: Vec<usize> = profile_positions
                    .iter()
                    .enumerate()
                    .filter(|(_, position)| failed.contains(position))
                    .map(|(fold, _)| fold)
                    .collect();
                if conflicted.is_empty() {
                    Err(TableError::TransactionCanceled { failed }.into())
                } else {
                    Err(CommitError::Conflict(conflicted))
                }
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
        let mut counters = PendingCounters::default();
        counters.add_day(at.0.div_euclid(MILLIS_PER_DAY), delta);
        items.extend(counter_updates(site, &counters));
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

    /// A visitor's `limit` most recent sessions (by start), oldest first. Session keys are
    /// keyed hashes, in no time order, so every session of the visitor is read: they are as
    /// many as the visitor's visits within the site's session retention.
    pub async fn list_sessions(
        &self,
        site: &SiteId,
        visitor: &str,
        limit: usize,
    ) -> Result<Vec<SessionState>, TableError> {
        let query = Query {
            sk: SortKeyCondition::BeginsWith(keys::SESSION_SK_PREFIX.to_owned()),
            limit: SESSIONS_PAGE,
            ..Query::partition(keys::visitor_partition(site, visitor))
        };
        let mut sessions = query_all(self.table.as_ref(), query)
            .await?
            .iter()
            .map(decode)
            .collect::<Result<Vec<SessionState>, _>>()?;
        sessions.sort_by_key(|session| session.started_at);
        let older = sessions.len().saturating_sub(limit);
        sessions.drain(..older);
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

    /// Friction points, most frequent first, pending counts included (reads at most
    /// [`MAX_RANKED_ITEMS`]).
    pub async fn ranked_friction_points(
        &self,
        site: &SiteId,
    ) -> Result<Vec<FrictionPoint>, TableError> {
        let pending = self.pending_counters(site).await?;
        let mut points = self
            .read_partition(keys::friction_partition(site), MAX_RANKED_ITEMS)
            .await?
            .iter()
            .filter_map(friction_point_from)
            .collect();
        records::add_pending_friction(&mut points, pending.friction);
        Ok(ranked(points, |point| (point.count, point.id.clone())))
    }

    /// Intent signals, most frequent first, pending counts included (reads at most
    /// [`MAX_RANKED_ITEMS`]).
    pub async fn ranked_intent_signals(
        &self,
        site: &SiteId,
    ) -> Result<Vec<IntentSignal>, TableError> {
        let pending = self.pending_counters(site).await?;
        let mut signals = self
            .read_partition(keys::intent_partition(site), MAX_RANKED_ITEMS)
            .await?
            .iter()
            .filter_map(intent_signal_from)
            .collect();
        records::add_pending_intent(&mut signals, pending.intent);
        Ok(ranked(signals, |signal| (signal.count, signal.id.clone())))
    }

    /// Marks a friction point resolved; `None` when there is no such point. Pending counts are
    /// rolled up first, so a point seen only since the last roll-up can be resolved too.
    pub async fn resolve_friction_point(
        &self,
        site: &SiteId,
        id: &str,
        at: Millis,
    ) -> Result<Option<FrictionPoint>, TableError> {
        while self.roll_up(site).await? > 0 {}
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
                None => break,
            }
        }
        let pending = self.pending_counters(site).await?;
        for (_, counts) in pending.days.range(from_day..=to_day) {
            totals.add(counts);
        }
        Ok(totals)
    }

    /// All-time averages of the visitors' scores as of their last activity.
    pub async fn score_averages(&self, site: &SiteId) -> Result<ScoreAverages, TableError> {
        let key = Key::new(keys::aggregates_partition(site), TOTAL_SK);
        let stored = self.table.get(&key).await?;
        let pending = self.pending_counters(site).await?;
        let stored_i64 = |name: &str| {
            stored
                .as_ref()
                .and_then(|item| item.get_i64(name))
                .unwrap_or(0)
        };
        let pending_visitors: u64 = pending.days.values().map(|counts| counts[0]).sum();
        let visitors = stored_i64("visitors") + i64::try_from(pending_visitors).unwrap_or(i64::MAX);
        let sums: Vec<i64> = SCORE_SUM_ATTRS
            .iter()
            .zip(pending.score_sums)
            .map(|(name, pending_sum)| stored_i64(name) + pending_sum)
            .collect();
        let average = |sum: i64| {
            if visitors == 0 {
                0.0
            } else {
                let tenths = sum as f64 / visitors as f64;
                (tenths.round() / 10.0).clamp(0.0, 100.0)
            }
        };
        Ok(ScoreAverages {
            visitors,
            engagement: average(sums[0]),
            intent: average(sums[1]),
            friction: average(sums[2]),
            churn_risk: average(sums[3]),
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
        let mut views: std::collections::BTreeMap<String, i64> = items
            .iter()
            .map(|item| (item.key.sk.clone(), item.get_i64("views").unwrap_or(0)))
            .collect();
        for (path, pending) in self.pending_counters(site).await?.pages {
            *views.entry(path).or_default() += i64::try_from(pending).unwrap_or(i64::MAX);
        }
        let mut pages: Vec<PageCount> = views
            .into_iter()
            .map(|(path, views)| PageCount { path, views })
            .collect();
        pages.sort_by(|a, b| b.views.cmp(&a.views).then_with(|| a.path.cmp(&b.path)));
        pages.truncate(limit);
        Ok(pages)
    }

    /// Up to `max_items` of a partition, in sort-key order.
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

/// Highest count first, ties by id.
fn ranked<T>(mut records: Vec<T>, count_and_id: fn(&T) -> (i64, String)) -> Vec<T> {
    records.sort_by_cached_key(|record| {
        let (count, id) = count_and_id(record);
        (std::cmp::Reverse(count), id)
    });
    records
}
