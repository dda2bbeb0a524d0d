//! What the behavior repository reads back for the admin API: friction points, intent signals,
//! site totals, score averages and page counts.

use crm_domain::scoring::{FrictionKind, IntentKind};
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
