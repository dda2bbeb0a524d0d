//! What the behavior repository reads back for the admin API: friction points, intent signals,
//! site totals, score averages and page counts.

use std::collections::BTreeMap;

use crm_domain::scoring::{FrictionKind, FrictionObservation, IntentKind, IntentObservation};
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};

use crate::table::{Item, Value};

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

impl SiteTotals {
    /// Adds a day's counters (in `writes::COUNTER_ATTRS` order).
    pub(super) fn add(&mut self, counts: &[u64; 7]) {
        let fields = [
            &mut self.visitors,
            &mut self.sessions,
            &mut self.events,
            &mut self.page_views,
            &mut self.rejected_events,
            &mut self.bot_beacons,
            &mut self.bot_events,
        ];
        for (field, count) in fields.into_iter().zip(counts) {
            *field += i64::try_from(*count).unwrap_or(i64::MAX);
        }
    }
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

pub(super) fn friction_point_from(item: &Item) -> Option<FrictionPoint> {
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

pub(super) fn intent_signal_from(item: &Item) -> Option<IntentSignal> {
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

/// Adds pending observations to the stored friction points (new points start unresolved).
pub(super) fn add_pending_friction(
    points: &mut Vec<FrictionPoint>,
    pending: BTreeMap<String, FrictionObservation>,
) {
    for (id, observation) in pending {
        let count = i64::try_from(observation.count).unwrap_or(i64::MAX);
        match points.iter_mut().find(|point| point.id == id) {
            Some(point) => {
                point.count += count;
                point.last_seen = point.last_seen.max(observation.last_seen);
            }
            None => points.push(FrictionPoint {
                id,
                page: observation.page,
                element: observation.element,
                kind: observation.kind,
                count,
                last_seen: observation.last_seen,
                resolved: false,
                resolved_at: None,
            }),
        }
    }
}

pub(super) fn add_pending_intent(
    signals: &mut Vec<IntentSignal>,
    pending: BTreeMap<String, IntentObservation>,
) {
    for (id, observation) in pending {
        let count = i64::try_from(observation.count).unwrap_or(i64::MAX);
        match signals.iter_mut().find(|signal| signal.id == id) {
            Some(signal) => {
                signal.count += count;
                signal.last_seen = signal.last_seen.max(observation.last_seen);
            }
            None => signals.push(IntentSignal {
                id,
                page: observation.page,
                kind: observation.kind,
                detail: observation.detail,
                count,
                last_seen: observation.last_seen,
            }),
        }
    }
}
