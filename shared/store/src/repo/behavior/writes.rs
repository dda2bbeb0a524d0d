//! The writes of the scorer: each fold's profile (conditional on the version read) and
//! sessions; the pending counters committed with them; and the counter updates a roll-up makes.

use crm_domain::scoring::{FrictionObservation, IntentObservation, VisitorFold};
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::StoredVisitor;
use super::pending::PendingCounters;
use crate::repo::codec::{DATA_ATTR, VERSION_ATTR, encode, encode_compressed};
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
/// A pending-counters item's revision: it goes up when a roll-up moves part of the item.
pub(super) const REVISION_ATTR: &str = "rev";

/// The writes of one fold, the profile first (its condition failing means a conflict).
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
    Ok(items)
}

/// The pending-counters item of one commit. Its id is derived from the (visitor, new version)
/// pairs the commit writes, which no other successful commit can write.
pub(super) fn pending_item(
    site: &SiteId,
    counters: &PendingCounters,
    folds: &[(&VisitorFold, &StoredVisitor)],
    committed_at: Millis,
) -> Result<TransactItem, TableError> {
    let versions: Vec<String> = folds
        .iter()
        .map(|(fold, stored)| format!("{}:{}", fold.profile.visitor, stored.version + 1))
        .collect();
    let parts: Vec<&str> = versions.iter().map(String::as_str).collect();
    let item = Item::new(keys::pending_counters(
        site,
        committed_at,
        &stable_id(&parts),
    ))
    .with(DATA_ATTR, encode_compressed(counters)?)
    .with(REVISION_ATTR, Value::N(0));
    Ok(TransactItem::Put {
        item,
        condition: None,
    })
}

/// Adds `counters` to the site's counter items: each day's aggregate, the all-time one (with
/// the score sums), pages, friction points and intent signals.
pub(super) fn counter_updates(site: &SiteId, counters: &PendingCounters) -> Vec<TransactItem> {
    let mut updates = Vec::new();
    let mut all_days = [0u64; 7];
    for (day, counts) in &counters.days {
        for (total, count) in all_days.iter_mut().zip(counts) {
            *total = total.saturating_add(*count);
        }
        let add = counter_adds(counts);
        if !add.is_empty() {
            updates.push(add_to(keys::daily_aggregate(site, *day), add));
        }
    }
    let mut total_add = counter_adds(&all_days);
    for (name, change) in SCORE_SUM_ATTRS.iter().zip(counters.score_sums) {
        if change != 0 {
            total_add.push(((*name).to_owned(), change));
        }
    }
    if !total_add.is_empty() {
        updates.push(add_to(
            Key::new(keys::aggregates_partition(site), TOTAL_SK),
            total_add,
        ));
    }
    for (path, views) in &counters.pages {
        updates.push(add_to(
            keys::page_counter(site, path),
            vec![("views".to_owned(), saturating_i64(*views))],
        ));
    }
    for (id, observation) in &counters.friction {
        updates.push(counter_update(
            keys::friction_partition(site),
            id,
            serde_plain(&observation.kind),
            &observation.page,
            ("element", &observation.element),
            observation.count,
            observation.last_seen,
        ));
    }
    for (id, observation) in &counters.intent {
        updates.push(counter_update(
            keys::intent_partition(site),
            id,
            serde_plain(&observation.kind),
            &observation.page,
            ("detail", &observation.detail),
            observation.count,
            observation.last_seen,
        ));
    }
    updates
}

fn counter_adds(counts: &[u64; 7]) -> Vec<(String, i64)> {
    COUNTER_ATTRS
        .iter()
        .zip(counts)
        .filter(|(_, count)| **count > 0)
        .map(|(name, count)| ((*name).to_owned(), saturating_i64(*count)))
        .collect()
}

fn add_to(key: Key, add: Vec<(String, i64)>) -> TransactItem {
    TransactItem::Update {
        key,
        update: Update {
            add,
            ..Update::default()
        },
        condition: None,
    }
}

pub(super) fn friction_id(observation: &FrictionObservation) -> String {
    stable_id(&[
        &serde_plain(&observation.kind),
        &observation.page,
        &observation.element,
    ])
}

pub(super) fn intent_id(observation: &IntentObservation) -> String {
    stable_id(&[
        &serde_plain(&observation.kind),
        &observation.page,
        &observation.detail,
    ])
}

/// Adds `count` to the counter `id` (of kind, page, detail) in `partition`, creating it if needed.
fn counter_update(
    partition: String,
    id: &str,
    kind: String,
    page: &str,
    (detail_name, detail): (&str, &str),
    count: u64,
    last_seen: Millis,
) -> TransactItem {
    TransactItem::Update {
        key: Key::new(partition, id),
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
pub(super) fn stable_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..12])
}

fn saturating_i64(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
