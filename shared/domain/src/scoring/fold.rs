//! The fold itself: apply a visitor's new envelopes, in time order, to its profile and sessions.
//!
//! Hot path (the scorer runs it for every event): counters are accumulated per envelope in a
//! plain struct and added to the session and the profile once; strings are allocated only for a
//! new page in a session's trail, a new page in the site delta or a new observation key.

use super::formulas::{churn_risk, intent_signals, session_scores, visitor_scores};
use super::observations::{Observations, error_element};
use super::pages::{counted_path, intent_page_kind};
use super::remembered;
use super::{
    BehaviorTotals, FrictionKind, IntentKind, SessionState, SiteDelta, VisitorFold, VisitorProfile,
};
use crate::event::{Event, EventKind};
use crate::message::BeaconEnvelope;
use crate::site::SiteId;
use crate::time::Millis;
use std::collections::BTreeMap;

/// Most recent pages kept per session (the entry page is kept apart).
pub const MAX_SESSION_PAGES: usize = 50;
/// Most recent distinct visit days kept per visitor (enough for two 28-day windows).
pub const MAX_VISIT_DAYS: usize = 90;
/// One `page_leave` counts at most 30 minutes of engaged time: a tab left open is not attention.
pub const MAX_ENGAGED_MS_PER_PAGE: u64 = 30 * 60 * 1000;
/// Returning to the previous page within this long after leaving it is "back and forth".
pub const BACK_AND_FORTH_WINDOW_MS: i64 = 10_000;

pub(crate) fn fold(
    profile: Option<VisitorProfile>,
    sessions: Vec<SessionState>,
    envelopes: &[&BeaconEnvelope],
) -> VisitorFold {
    let (fresh, duplicates) = select_fresh(profile.as_ref(), envelopes);
    let Some(&(first, _)) = fresh.first() else {
        let profile = profile.unwrap_or_else(|| new_profile(envelopes.first().copied()));
        return VisitorFold {
            profile,
            sessions: Vec::new(),
            friction: Vec::new(),
            intent: Vec::new(),
            deltas: BTreeMap::new(),
            applied: Vec::new(),
            duplicates,
        };
    };
    let is_new_visitor = profile.is_none();
    let mut profile = profile.unwrap_or_else(|| new_profile(Some(first)));
    let mut state = FoldState {
        sessions: sessions.into_iter().map(SessionSlot::stored).collect(),
        touched: Vec::new(),
        observations: Observations::default(),
        deltas: DailyDeltas::default(),
        last_visit_day: None,
    };
    if is_new_visitor {
        state.deltas.on(envelope_time(first)).new_visitors += 1;
    }
    for (envelope, _) in &fresh {
        state.apply_envelope(&mut profile, envelope);
    }

    let mut touched_sessions = Vec::with_capacity(state.touched.len());
    for &index in &state.touched {
        let slot = &mut state.sessions[index];
        let session = &mut slot.state;
        session.exit_page = session.pages.last().cloned();
        session.scores = session_scores(&session.totals);
        profile.engagement_trend.record_session(
            slot.stored_engagement,
            session.scores.engagement,
            session.last_seen,
        );
    }
    profile.scores = visitor_scores(&profile, profile.last_seen);
    let mut slots: Vec<Option<SessionSlot>> = state.sessions.into_iter().map(Some).collect();
    for &index in &state.touched {
        if let Some(SessionSlot {
            state: mut session, ..
        }) = slots[index].take()
        {
            // A session has no future of its own: its churn risk is the visitor's as it ended.
            session.scores.churn_risk = churn_risk(&profile, session.last_seen);
            touched_sessions.push(session);
        }
    }

    let applied: Vec<String> = fresh
        .iter()
        .map(|(envelope, _)| envelope.id.clone())
        .collect();
    remembered::remember(
        &mut profile.applied_messages,
        fresh.into_iter().map(|(_, digest)| digest),
    );
    VisitorFold {
        profile,
        sessions: touched_sessions,
        friction: state.observations.friction,
        intent: state.observations.intent,
        deltas: state.deltas.into_map(),
        applied,
        duplicates,
    }
}

/// Envelopes not applied before, each once, in (received_at, id) order: the order the ingest
/// hosts received them, whatever order the queue delivered them in. With each, the digest the
/// profile will remember it by (computed once per envelope: it is a hash on the hot path).
fn select_fresh<'a>(
    profile: Option<&VisitorProfile>,
    envelopes: &[&'a BeaconEnvelope],
) -> (Vec<(&'a BeaconEnvelope, String)>, Vec<String>) {
    let remembered = profile.map_or(&[][..], |profile| profile.applied_messages.as_slice());
    let mut duplicates = Vec::new();
    let mut fresh = Vec::with_capacity(envelopes.len());
    for &envelope in envelopes {
        let digest = remembered::message_digest(&envelope.id);
        if remembered::remembers(remembered, &envelope.id, &digest) {
            duplicates.push(envelope.id.clone());
        } else {
            fresh.push((envelope, digest));
        }
    }
    fresh.sort_unstable_by(|(left, _), (right, _)| left.id.cmp(&right.id));
    fresh.dedup_by(|(later, _), (earlier, _)| {
        let same = later.id == earlier.id;
        if same {
            duplicates.push(later.id.clone());
        }
        same
    });
    fresh.sort_unstable_by(|(left, _), (right, _)| {
        (left.received_at, &left.id).cmp(&(right.received_at, &right.id))
    });
    (fresh, duplicates)
}

/// When an envelope happened: its first event, or its receive time if it has none.
fn envelope_time(envelope: &BeaconEnvelope) -> Millis {
    envelope
        .events
        .first()
        .map_or(envelope.received_at, |event| event.ts)
}

fn new_profile(first: Option<&BeaconEnvelope>) -> VisitorProfile {
    let (site, visitor, visitor_kind, seen) = match first {
        Some(envelope) => (
            envelope.site.clone(),
            envelope.visitor.clone(),
            envelope.visitor_kind,
            envelope_time(envelope),
        ),
        // Only reachable when folding nothing into nothing; the caller stores no such profile.
        None => (
            SiteId::placeholder(),
            String::new(),
            crate::message::VisitorKeyKind::Daily,
            Millis(0),
        ),
    };
    VisitorProfile {
        site,
        visitor,
        visitor_kind,
        first_seen: seen,
        last_seen: seen,
        sessions: 0,
        visit_days: Vec::new(),
        totals: BehaviorTotals::default(),
        scores: Default::default(),
        country: None,
        applied_messages: Vec::new(),
        engagement_trend: Default::default(),
        last_intent_at: None,
    }
}

struct SessionSlot {
    state: SessionState,
    /// The engagement the session had when loaded (0 for a new one), for the visitor's trend.
    stored_engagement: f64,
}

impl SessionSlot {
    fn stored(state: SessionState) -> SessionSlot {
        SessionSlot {
            stored_engagement: state.scores.engagement,
            state,
        }
    }
}

struct FoldState {
    sessions: Vec<SessionSlot>,
    /// Indexes into `sessions` of the sessions this fold touched, in first-touch order.
    touched: Vec<usize>,
    observations: Observations,
    deltas: DailyDeltas,
    last_visit_day: Option<i64>,
}

/// Site deltas by day. A fold's events nearly always fall on one or two days, so a short list
/// searched from its end beats a map on this hot path.
#[derive(Default)]
struct DailyDeltas(Vec<(i64, SiteDelta)>);

impl DailyDeltas {
    /// The delta of the day `at` falls on.
    fn on(&mut self, at: Millis) -> &mut SiteDelta {
        let day = at.day();
        let index = match self.0.iter().rposition(|(known, _)| *known == day) {
            Some(index) => index,
            None => {
                self.0.push((day, SiteDelta::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[index].1
    }

    fn into_map(self) -> BTreeMap<i64, SiteDelta> {
        let mut days = BTreeMap::new();
        for (day, delta) in self.0 {
            if !delta.is_empty() {
                days.insert(day, delta);
            }
        }
        days
    }
}

impl FoldState {
    fn apply_envelope(&mut self, profile: &mut VisitorProfile, envelope: &BeaconEnvelope) {
        if envelope.rejected > 0 {
            self.deltas.on(envelope.received_at).rejected_events += u64::from(envelope.rejected);
        }
        if envelope.country.is_some() {
            profile.country.clone_from(&envelope.country);
        }
        if envelope.events.is_empty() {
            // An `identify` alone: the visitor was there, but no session activity to count.
            let at = envelope
                .identify
                .as_ref()
                .map_or(envelope.received_at, |identify| identify.ts);
            self.see(profile, at);
            return;
        }
        let index = self.session_index(profile, envelope);
        let mut counts = BehaviorTotals::default();
        for event in &envelope.events {
            let session = &mut self.sessions[index].state;
            session.started_at = session.started_at.min(event.ts);
            session.last_seen = session.last_seen.max(event.ts);
            let delta = self.deltas.on(event.ts);
            delta.events += 1;
            apply_event(event, session, &mut counts, &mut self.observations, delta);
            self.see(profile, event.ts);
        }
        // Dated per beacon (its last event), not per event: seconds apart, against a decay of
        // days, and one check per beacon instead of one per event on this hot path.
        if intent_signals(&counts) > 0 {
            let last_event = envelope.events.iter().map(|event| event.ts).max();
            profile.last_intent_at = profile.last_intent_at.max(last_event);
        }
        counts.events = envelope.events.len() as u64;
        self.sessions[index].state.totals.add(&counts);
        profile.totals.add(&counts);
    }

    fn see(&mut self, profile: &mut VisitorProfile, at: Millis) {
        profile.first_seen = profile.first_seen.min(at);
        profile.last_seen = profile.last_seen.max(at);
        let day = at.day();
        if self.last_visit_day != Some(day) {
            self.last_visit_day = Some(day);
            record_visit_day(&mut profile.visit_days, day);
        }
    }

    /// The slot of the envelope's session, created (and counted) when it is new.
    fn session_index(&mut self, profile: &mut VisitorProfile, envelope: &BeaconEnvelope) -> usize {
        let found = self
            .sessions
            .iter()
            .position(|slot| slot.state.session == envelope.session);
        let index = match found {
            Some(index) => index,
            None => {
                profile.sessions += 1;
                let at = envelope_time(envelope);
                self.deltas.on(at).new_sessions += 1;
                self.sessions.push(SessionSlot {
                    state: SessionState {
                        site: envelope.site.clone(),
                        session: envelope.session.clone(),
                        visitor: envelope.visitor.clone(),
                        started_at: at,
                        last_seen: at,
                        pages: Vec::new(),
                        entry_page: None,
                        exit_page: None,
                        referrer: None,
                        country: None,
                        totals: BehaviorTotals::default(),
                        scores: Default::default(),
                        last_page_view_at: None,
                    },
                    stored_engagement: 0.0,
                });
                self.sessions.len() - 1
            }
        };
        if !self.touched.contains(&index) {
            self.touched.push(index);
        }
        if envelope.country.is_some() {
            self.sessions[index]
                .state
                .country
                .clone_from(&envelope.country);
        }
        index
    }
}

fn record_visit_day(visit_days: &mut Vec<i64>, day: i64) {
    if let Err(position) = visit_days.binary_search(&day) {
        visit_days.insert(position, day);
        let excess = visit_days.len().saturating_sub(MAX_VISIT_DAYS);
        visit_days.drain(..excess);
    }
}

fn apply_event(
    event: &Event,
    session: &mut SessionState,
    counts: &mut BehaviorTotals,
    observations: &mut Observations,
    delta: &mut SiteDelta,
) {
    if event.kind == EventKind::PageView {
        let path = event.path.as_deref().unwrap_or("/");
        counts.page_views += 1;
        delta.page_views += 1;
        count_page_view(delta, path);
        if visit_page(session, path, event) {
            counts.back_and_forth += 1;
        }
        if let Some(kind) = intent_page_kind(path) {
            counts.intent_page_views += 1;
            observations.intent(kind, path, "", event.ts);
        }
        return;
    }
    // Events other than page views belong to the page they name, else the current page.
    let page = event
        .path
        .as_deref()
        .or_else(|| session.pages.last().map(String::as_str))
        .unwrap_or("/");
    match event.kind {
        EventKind::PageLeave => {
            let engaged = event
                .prop_u64("engaged_ms")
                .unwrap_or(0)
                .min(MAX_ENGAGED_MS_PER_PAGE);
            counts.engaged_ms = counts.engaged_ms.saturating_add(engaged);
        }
        EventKind::Scroll => {
            let depth = event.prop_u64("depth").unwrap_or(0).min(100) as u8;
            counts.max_scroll = counts.max_scroll.max(depth);
        }
        EventKind::RageClick => {
            counts.rage_clicks += 1;
            observations.friction(
                FrictionKind::RageClick,
                page,
                prop(event, "selector"),
                event.ts,
            );
        }
        EventKind::DeadClick => {
            counts.dead_clicks += 1;
            observations.friction(
                FrictionKind::DeadClick,
                page,
                prop(event, "selector"),
                event.ts,
            );
        }
        EventKind::FormAbandon => {
            counts.form_abandons += 1;
            observations.friction(
                FrictionKind::FormAbandon,
                page,
                prop(event, "form"),
                event.ts,
            );
        }
        EventKind::Error => {
            counts.errors += 1;
            observations.friction(
                FrictionKind::Error,
                page,
                error_element(prop(event, "message")),
                event.ts,
            );
        }
        EventKind::FormStart => counts.form_starts += 1,
        EventKind::FormSubmit => {
            counts.form_submits += 1;
            observations.intent(IntentKind::FormSubmit, page, prop(event, "form"), event.ts);
        }
        EventKind::CtaClick => {
            counts.cta_clicks += 1;
            observations.intent(IntentKind::CtaClick, page, prop(event, "cta"), event.ts);
        }
        EventKind::HoverIntent => {
            counts.hover_intents += 1;
            observations.intent(
                IntentKind::HoverIntent,
                page,
                prop(event, "selector"),
                event.ts,
            );
        }
        EventKind::QuoteRequest | EventKind::DemoRequest => {
            counts.quote_or_demo_requests += 1;
            let kind = if event.kind == EventKind::QuoteRequest {
                IntentKind::QuoteRequest
            } else {
                IntentKind::DemoRequest
            };
            let detail = event
                .prop_str("form")
                .or_else(|| event.prop_str("cta"))
                .unwrap_or_default();
            observations.intent(kind, page, detail, event.ts);
        }
        // Counted as events (they are activity) but not scored in this version.
        EventKind::PageView
        | EventKind::Click
        | EventKind::ExitIntent
        | EventKind::Search
        | EventKind::VideoPlay
        | EventKind::Download
        | EventKind::OutboundClick
        | EventKind::Copy
        | EventKind::Identify
        | EventKind::Custom => {}
    }
}

/// A string property, empty when absent: observations key on it either way.
fn prop<'event>(event: &'event Event, name: &str) -> &'event str {
    event.prop_str(name).unwrap_or_default()
}

fn count_page_view(delta: &mut SiteDelta, path: &str) {
    let path = counted_path(path);
    match delta.pages.get_mut(path) {
        Some(views) => *views += 1,
        None => {
            delta.pages.insert(path.to_owned(), 1);
        }
    }
}

/// Adds a page view to the session's trail; tells whether it went straight back to the page
/// before the current one (A → B → A within [`BACK_AND_FORTH_WINDOW_MS`] of arriving on B).
fn visit_page(session: &mut SessionState, path: &str, event: &Event) -> bool {
    if session.entry_page.is_none() {
        session.entry_page = Some(path.to_owned());
        session.referrer.clone_from(&event.referrer);
    }
    let previous_arrival = session.last_page_view_at.replace(event.ts);
    let pages = &mut session.pages;
    if pages.last().is_some_and(|current| current == path) {
        // A reload or a second view event of the same page.
        return false;
    }
    let back_and_forth = pages.len() >= 2
        && pages[pages.len() - 2] == path
        && previous_arrival
            .is_some_and(|arrived| event.ts.saturating_sub(arrived) <= BACK_AND_FORTH_WINDOW_MS);
    if pages.len() == MAX_SESSION_PAGES {
        pages.remove(0);
    }
    pages.push(path.to_owned());
    back_and_forth
}
