//! Behavior state: visitor profiles, sessions, raw events, friction points, intent signals and
//! the site aggregates the dashboard reads.
//!
//! A scorer commits one visitor's fold as one transaction: the profile (conditional on the
//! version it read, and carrying the applied message ids), the sessions, and every counter the
//! fold adds to. Either all of it lands or none, so redelivery can never double count.

use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, IdentifyRequest};
use crm_domain::scoring::{
    FrictionKind, FrictionObservation, IntentKind, IntentObservation, Scores, SessionState,
    SiteDelta, VisitorFold, VisitorProfile,
};
use crm_domain::site::SiteId;
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::codec::{DATA_ATTR, VERSION_ATTR, decode, encode, version};
use super::keys;
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrictionPoint {
    pub id: String,
    pub page: String,
    pub element: String,
    pub kind: FrictionKind,
    pub count: i64,
    pub last_seen: Millis,
    pub resolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentSignal {
    pub id: String,
    pub page: String,
    pub kind: IntentKind,
    pub detail: String,
    pub count: i64,
    pub last_seen: Millis,
}

/// Site-wide counters summed over a window of days, plus all-time score sums.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SiteTotals {
    pub visitors: i64,
    pub sessions: i64,
    pub events: i64,
    pub page_views: i64,
    pub rejected_events: i64,
    pub bot_beacons: i64,
    pub bot_events: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScoreAverages {
    pub visitors: i64,
    pub engagement: f64,
    pub intent: f64,
    pub friction: f64,
    pub churn_risk: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageCount {
    pub path: String,
    pub views: i64,
}

const COUNTER_ATTRS: [&str; 7] = [
    "visitors",
    "sessions",
    "events",
    "page_views",
    "rejected_events",
    "bot_beacons",
    "bot_events",
];
const SCORE_SUM_ATTRS: [&str; 4] = [
    "sum_engagement",
    "sum_intent",
    "sum_friction",
    "sum_churn_risk",
];
const TOTAL_SK: &str = "TOTAL";

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

/// Every write of one fold, the profile first (its condition failing means a conflict).
fn fold_items(fold: &VisitorFold, stored: &StoredVisitor) -> Result<Vec<TransactItem>, TableError> {
    let profile = &fold.profile;
    let site = &profile.site;
    let profile_condition = if stored.profile.is_some() {
        Condition::AttrEquals(VERSION_ATTR.to_owned(), Value::N(stored.version))
    } else {
        Condition::ItemNotExists
    };
    let profile_item = Item::new(keys::profile(site, &profile.visitor))
        .with(DATA_ATTR, encode(profile)?)
        .with(VERSION_ATTR, Value::N(stored.version + 1))
        .with("gsi1pk", Value::S(keys::visitors_index(site)))
        .with(
            "gsi1sk",
            Value::S(format!(
                "{}#{}",
                keys::padded_millis(profile.last_seen),
                profile.visitor
            )),
        );
    let mut items = vec![TransactItem::Put {
        item: profile_item,
        condition: Some(profile_condition),
    }];
    for session in &fold.sessions {
        let item = Item::new(keys::session(site, &session.visitor, &session.session))
            .with(DATA_ATTR, encode(session)?)
            .with(
                "gsi2pk",
                Value::S(keys::session_index(site, &session.session)),
            )
            .with("gsi2sk", Value::S(keys::SESSION_INDEX_SK.to_owned()));
        items.push(TransactItem::Put {
            item,
            condition: None,
        });
    }
    let previous_scores = stored.profile.as_ref().map(|previous| previous.scores);
    let at = profile.last_seen;
    items.extend(aggregate_updates(
        site,
        &fold.delta,
        Some((previous_scores, profile.scores)),
        at,
    ));
    items.extend(
        fold.friction
            .iter()
            .map(|observation| friction_update(site, observation)),
    );
    items.extend(
        fold.intent
            .iter()
            .map(|observation| intent_update(site, observation)),
    );
    Ok(items)
}

/// The day's and the all-time counters; `scores` moves the all-time score sums from the
/// visitor's previous scores (if any) to its new ones.
fn aggregate_updates(
    site: &SiteId,
    delta: &SiteDelta,
    scores: Option<(Option<Scores>, Scores)>,
    at: Millis,
) -> Vec<TransactItem> {
    let counters = [
        delta.new_visitors,
        delta.new_sessions,
        delta.events,
        delta.page_views,
        delta.rejected_events,
        delta.bot_beacons,
        delta.bot_events,
    ];
    let add: Vec<(String, i64)> = COUNTER_ATTRS
        .iter()
        .zip(counters)
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| ((*name).to_owned(), saturating_i64(count)))
        .collect();
    let mut total_add = add.clone();
    if let Some((previous, current)) = scores {
        let old = previous.unwrap_or_default();
        let pairs = [
            (old.engagement, current.engagement),
            (old.intent, current.intent),
            (old.friction, current.friction),
            (old.churn_risk, current.churn_risk),
        ];
        for (name, (before, after)) in SCORE_SUM_ATTRS.iter().zip(pairs) {
            total_add.push((
                (*name).to_owned(),
                tenths(after)
                    - if previous.is_some() {
                        tenths(before)
                    } else {
                        0
                    },
            ));
        }
    }
    let mut updates = Vec::new();
    if !add.is_empty() {
        updates.push(TransactItem::Update {
            key: keys::daily_aggregate(site, at.0.div_euclid(MILLIS_PER_DAY)),
            update: Update {
                add,
                ..Update::default()
            },
            condition: None,
        });
    }
    if !total_add.is_empty() {
        updates.push(TransactItem::Update {
            key: Key::new(keys::aggregates_partition(site), TOTAL_SK),
            update: Update {
                add: total_add,
                ..Update::default()
            },
            condition: None,
        });
    }
    for (path, views) in &delta.pages {
        updates.push(TransactItem::Update {
            key: keys::page_counter(site, path),
            update: Update {
                add: vec![("views".to_owned(), saturating_i64(*views))],
                ..Update::default()
            },
            condition: None,
        });
    }
    updates
}

fn friction_update(site: &SiteId, observation: &FrictionObservation) -> TransactItem {
    counter_update(
        keys::friction_partition(site),
        serde_plain(&observation.kind),
        &observation.page,
        ("element", &observation.element),
        observation.count,
        observation.last_seen,
    )
}

fn intent_update(site: &SiteId, observation: &IntentObservation) -> TransactItem {
    counter_update(
        keys::intent_partition(site),
        serde_plain(&observation.kind),
        &observation.page,
        ("detail", &observation.detail),
        observation.count,
        observation.last_seen,
    )
}

/// Adds `count` to the counter of (kind, page, detail) in `partition`, creating it if needed.
fn counter_update(
    partition: String,
    kind: String,
    page: &str,
    (detail_name, detail): (&str, &str),
    count: u64,
    last_seen: Millis,
) -> TransactItem {
    TransactItem::Update {
        key: Key::new(partition, stable_id(&[&kind, page, detail])),
        update: Update {
            set: vec![
                ("page".to_owned(), Value::S(page.to_owned())),
                (detail_name.to_owned(), Value::S(detail.to_owned())),
                ("kind".to_owned(), Value::S(kind)),
                ("last_seen".to_owned(), Value::N(last_seen.0)),
            ],
            add: vec![("count".to_owned(), saturating_i64(count))],
            remove: Vec::new(),
        },
        condition: None,
    }
}

fn friction_point_from(item: &Item) -> Option<FrictionPoint> {
    Some(FrictionPoint {
        id: item.key.sk.clone(),
        page: item.get_str("page")?.to_owned(),
        element: item.get_str("element")?.to_owned(),
        kind: serde_json::from_value(serde_json::Value::String(item.get_str("kind")?.to_owned()))
            .ok()?,
        count: item.get_i64("count").unwrap_or(0),
        last_seen: Millis(item.get_i64("last_seen").unwrap_or(0)),
        resolved: matches!(item.attrs.get("resolved"), Some(Value::Bool(true))),
        resolved_at: item.get_i64("resolved_at").map(Millis),
    })
}

fn intent_signal_from(item: &Item) -> Option<IntentSignal> {
    Some(IntentSignal {
        id: item.key.sk.clone(),
        page: item.get_str("page")?.to_owned(),
        detail: item.get_str("detail").unwrap_or_default().to_owned(),
        kind: serde_json::from_value(serde_json::Value::String(item.get_str("kind")?.to_owned()))
            .ok()?,
        count: item.get_i64("count").unwrap_or(0),
        last_seen: Millis(item.get_i64("last_seen").unwrap_or(0)),
    })
}

/// The snake_case name serde gives a unit enum variant.
fn serde_plain<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// A short id that is the same for the same parts on every host.
fn stable_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..12])
}

fn tenths(score: f64) -> i64 {
    (score * 10.0).round() as i64
}

fn saturating_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
