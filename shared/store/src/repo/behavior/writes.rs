//! The writes of one fold, as one transaction: the profile (conditional on the version read),
//! the sessions, the site counters, page counters, friction points and intent signals.

use crm_domain::scoring::{FrictionObservation, IntentObservation, Scores, SiteDelta, VisitorFold};
use crm_domain::site::SiteId;
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::StoredVisitor;
use crate::repo::codec::{DATA_ATTR, VERSION_ATTR, encode};
use crate::repo::keys;
use crate::table::{Condition, Item, Key, TableError, TransactItem, Update, Value};

const COUNTER_ATTRS: [&str; 7] = [
    "visitors",
    "sessions",
    "events",
    "page_views",
    "rejected_events",
    "bot_beacons",
    "bot_events",
];
pub(super) const SCORE_SUM_ATTRS: [&str; 4] = [
    "sum_engagement",
    "sum_intent",
    "sum_friction",
    "sum_churn_risk",
];
pub(super) const TOTAL_SK: &str = "TOTAL";

/// Every write of one fold, the profile first (its condition failing means a conflict).
pub(super) fn fold_items(
    fold: &VisitorFold,
    stored: &StoredVisitor,
) -> Result<Vec<TransactItem>, TableError> {
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
pub(super) fn aggregate_updates(
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
