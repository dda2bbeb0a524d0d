//! The behavior scoring engine: a pure fold of (previous state, events, now) into new state.
//!
//! The event scorer loads a visitor's profile and the sessions a batch touches, calls
//! [`fold_visitor`] once per visitor per batch, and stores what it returns. Formulas are
//! documented with worked examples in `docs/scoring.md`.
//!
//! One idea per file: `curves` (saturation, rounding), `formulas` (the four scores), `pages`
//! (which paths show intent), `trend` (falling engagement), `observations` (friction points and
//! intent signals) and `fold` (applying envelopes to state).

pub mod curves;
mod fold;
pub mod formulas;
pub mod observations;
pub mod pages;
pub mod remembered;
pub mod trend;

use serde::{Deserialize, Serialize};

pub use fold::{
    BACK_AND_FORTH_WINDOW_MS, MAX_ENGAGED_MS_PER_PAGE, MAX_SESSION_PAGES, MAX_VISIT_DAYS,
};
pub use trend::EngagementTrend;

use crate::message::{BeaconEnvelope, DroppedReport, VisitorKeyKind};
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
///
/// Stored in every profile and session item, where DynamoDB bills each started KiB: a signal
/// counter at 0 (most of them, for most visitors) is left out of the JSON and reads back as 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BehaviorTotals {
    pub events: u64,
    pub page_views: u64,
    pub engaged_ms: u64,
    pub max_scroll: u8,
    #[serde(skip_serializing_if = "is_zero")]
    pub intent_page_views: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cta_clicks: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub form_starts: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub form_submits: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub hover_intents: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub quote_or_demo_requests: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub rage_clicks: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub dead_clicks: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub form_abandons: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub errors: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub back_and_forth: u64,
}

fn is_zero(counter: &u64) -> bool {
    *counter == 0
}

impl BehaviorTotals {
    /// Adds another set of counters (the highest scroll depth wins).
    pub fn add(&mut self, other: &BehaviorTotals) {
        self.events += other.events;
        self.page_views += other.page_views;
        self.engaged_ms = self.engaged_ms.saturating_add(other.engaged_ms);
        self.max_scroll = self.max_scroll.max(other.max_scroll);
        self.intent_page_views += other.intent_page_views;
        self.cta_clicks += other.cta_clicks;
        self.form_starts += other.form_starts;
        self.form_submits += other.form_submits;
        self.hover_intents += other.hover_intents;
        self.quote_or_demo_requests += other.quote_or_demo_requests;
        self.rage_clicks += other.rage_clicks;
        self.dead_clicks += other.dead_clicks;
        self.form_abandons += other.form_abandons;
        self.errors += other.errors;
        self.back_and_forth += other.back_and_forth;
    }
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
    /// The last [`REMEMBERED_MESSAGES`] applied messages, oldest first, as digests of their ids
    /// ([`remembered`]; whole ids in profiles stored before).
    pub applied_messages: Vec<String>,
    /// Running sums behind the "falling engagement" part of churn risk.
    #[serde(default)]
    pub engagement_trend: EngagementTrend,
    /// When the last event that added intent points happened: the lead score's intent factor
    /// decays from it. `None` without intent signals, and in profiles stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_intent_at: Option<Millis>,
}

impl VisitorProfile {
    /// Scores as seen at `now` (churn risk grows with time since the last visit).
    pub fn scores_at(&self, now: Millis) -> Scores {
        Scores {
            churn_risk: formulas::churn_risk(self, now),
            ..self.scores
        }
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
    /// When the current page was viewed, to tell quick back-and-forth from reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_page_view_at: Option<Millis>,
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

impl SiteDelta {
    /// What a bot report adds: only the bot counters.
    pub fn from_dropped(report: &DroppedReport) -> SiteDelta {
        SiteDelta {
            bot_beacons: u64::from(report.bot_beacons),
            bot_events: u64::from(report.bot_events),
            ..SiteDelta::default()
        }
    }

    /// Whether applying this delta would change nothing.
    pub fn is_empty(&self) -> bool {
        *self == SiteDelta::default()
    }

    /// Adds another delta's figures to this one's.
    pub fn add(&mut self, other: &SiteDelta) {
        let counters = [
            (&mut self.new_visitors, other.new_visitors),
            (&mut self.new_sessions, other.new_sessions),
            (&mut self.events, other.events),
            (&mut self.page_views, other.page_views),
            (&mut self.rejected_events, other.rejected_events),
            (&mut self.bot_beacons, other.bot_beacons),
            (&mut self.bot_events, other.bot_events),
        ];
        for (count, added) in counters {
            *count = count.saturating_add(added);
        }
        for (path, views) in &other.pages {
            let total = self.pages.entry(path.clone()).or_default();
            *total = total.saturating_add(*views);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VisitorFold {
    pub profile: VisitorProfile,
    /// Every session the applied messages touched, in their new state.
    pub sessions: Vec<SessionState>,
    pub friction: Vec<FrictionObservation>,
    pub intent: Vec<IntentObservation>,
    /// What the fold adds to the site's counters, per UTC day (days since the epoch) on which
    /// the counted things happened: an event on its own day, a new session or visitor on the
    /// day of its first event, rejected events on the day their beacon was received.
    pub deltas: std::collections::BTreeMap<i64, SiteDelta>,
    /// Ids of messages applied by this fold.
    pub applied: Vec<String>,
    /// Ids of messages skipped because the profile had applied them already.
    pub duplicates: Vec<String>,
}

impl VisitorFold {
    /// The fold's deltas of every day, added up.
    pub fn total_delta(&self) -> SiteDelta {
        let mut total = SiteDelta::default();
        for delta in self.deltas.values() {
            total.add(delta);
        }
        total
    }
}

/// Folds the envelopes of one visitor (same site and visitor key) into its state.
///
/// `sessions` holds the stored state of sessions the envelopes refer to (absent ones are new).
/// Envelopes whose id is in `profile.applied_messages` are skipped, so redelivery is harmless;
/// an id given twice in `envelopes` is applied once. Envelopes are applied in (received_at, id)
/// order, so the order of `envelopes` does not matter.
///
/// The result depends only on the state and the envelopes, not on `now`: stored scores are as
/// of the visitor's `last_seen` (read them at any time with [`VisitorProfile::scores_at`]), so a
/// redelivery folded an hour later yields exactly the same state. `now` stays in the signature
/// for the rules that will need the clock (decay), which the scheduled jobs apply.
pub fn fold_visitor(
    profile: Option<VisitorProfile>,
    sessions: Vec<SessionState>,
    envelopes: &[&BeaconEnvelope],
    now: Millis,
) -> VisitorFold {
    let _ = now;
    fold::fold(profile, sessions, envelopes)
}

#[cfg(test)]
mod tests;
