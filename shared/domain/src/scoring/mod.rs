//! The behavior scoring engine: a pure fold of (previous state, events, now) into new state.
//!
//! The event scorer loads a visitor's profile and the sessions a batch touches, calls
//! [`fold_visitor`] once per visitor per batch, and stores what it returns. Formulas are
//! documented with worked examples in `docs/scoring.md`.

use serde::{Deserialize, Serialize};

use crate::message::{BeaconEnvelope, VisitorKeyKind};
use crate::site::SiteId;
use crate::time::Millis;

/// How many applied message ids a profile remembers to make redelivery harmless.
pub const REMEMBERED_MESSAGES: usize = 64;

/// Four behavior scores, each in 0.0..=100.0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub engagement: f64,
    pub intent: f64,
    pub friction: f64,
    pub churn_risk: f64,
}

/// Counters of behavior signals, shared by sessions and visitor profiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BehaviorTotals {
    pub events: u64,
    pub page_views: u64,
    pub engaged_ms: u64,
    pub max_scroll: u8,
    pub intent_page_views: u64,
    pub cta_clicks: u64,
    pub form_starts: u64,
    pub form_submits: u64,
    pub hover_intents: u64,
    pub quote_or_demo_requests: u64,
    pub rage_clicks: u64,
    pub dead_clicks: u64,
    pub form_abandons: u64,
    pub errors: u64,
    pub back_and_forth: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorProfile {
    pub site: SiteId,
    pub visitor: String,
    pub visitor_kind: VisitorKeyKind,
    pub first_seen: Millis,
    pub last_seen: Millis,
    pub sessions: u64,
    /// Distinct UTC days with activity, ascending, the most recent kept (bounded).
    pub visit_days: Vec<i64>,
    pub totals: BehaviorTotals,
    /// Scores as of `last_seen`; read them through [`VisitorProfile::scores_at`].
    pub scores: Scores,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Ids of the last [`REMEMBERED_MESSAGES`] applied messages, oldest first.
    pub applied_messages: Vec<String>,
}

impl VisitorProfile {
    /// Scores as seen at `now` (churn risk grows with time since the last visit).
    pub fn scores_at(&self, now: Millis) -> Scores {
        todo!()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    pub site: SiteId,
    pub session: String,
    pub visitor: String,
    pub started_at: Millis,
    pub last_seen: Millis,
    /// Paths in visit order (bounded); consecutive duplicates collapsed.
    pub pages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub totals: BehaviorTotals,
    pub scores: Scores,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrictionKind {
    RageClick,
    DeadClick,
    FormAbandon,
    Error,
}

/// A friction point seen in this batch: the store keys it by (site, page, element, kind) and
/// adds `count` to what it already has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrictionObservation {
    pub page: String,
    /// CSS selector of the element, the form name, or the error message (masked, bounded).
    pub element: String,
    pub kind: FrictionKind,
    pub count: u64,
    pub last_seen: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    PricingView,
    DemoView,
    ContactView,
    CtaClick,
    FormSubmit,
    HoverIntent,
    QuoteRequest,
    DemoRequest,
}

/// An intent signal seen in this batch, keyed by (site, page, kind, detail) like friction points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentObservation {
    pub page: String,
    pub kind: IntentKind,
    /// The CTA name, form name or hovered element; empty for page views.
    pub detail: String,
    pub count: u64,
    pub last_seen: Millis,
}

/// Site-wide figures a batch adds to the day's aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SiteDelta {
    pub new_visitors: u64,
    pub new_sessions: u64,
    pub events: u64,
    pub page_views: u64,
    pub rejected_events: u64,
    pub bot_beacons: u64,
    pub bot_events: u64,
    /// Page views per path.
    pub pages: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisitorFold {
    pub profile: VisitorProfile,
    /// Every session the applied messages touched, in their new state.
    pub sessions: Vec<SessionState>,
    pub friction: Vec<FrictionObservation>,
    pub intent: Vec<IntentObservation>,
    pub delta: SiteDelta,
    /// Ids of messages applied by this fold.
    pub applied: Vec<String>,
    /// Ids of messages skipped because the profile had applied them already.
    pub duplicates: Vec<String>,
}

/// Folds the envelopes of one visitor (same site and visitor key) into its state.
///
/// `sessions` holds the stored state of sessions the envelopes refer to (absent ones are new).
/// Envelopes whose id is in `profile.applied_messages` are skipped, so redelivery is harmless.
pub fn fold_visitor(
    profile: Option<VisitorProfile>,
    sessions: Vec<SessionState>,
    envelopes: &[&BeaconEnvelope],
    now: Millis,
) -> VisitorFold {
    todo!()
}
