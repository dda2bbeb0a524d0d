//! Unit tests of the fold and the formulas, with the worked examples of `docs/scoring.md`.

#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;
use crate::event::Event;
use crate::message::Consent;
use crate::time::MILLIS_PER_DAY;

const T0: i64 = 1_763_700_000_000;

fn site() -> SiteId {
    SiteId::parse("demo").unwrap()
}

fn events(raw: serde_json::Value) -> Vec<Event> {
    serde_json::from_value(raw).unwrap()
}

fn envelope(id: &str, session: &str, received_at: i64, events: Vec<Event>) -> BeaconEnvelope {
    BeaconEnvelope {
        v: 1,
        id: id.to_owned(),
        site: site(),
        visitor: "v1".to_owned(),
        visitor_kind: VisitorKeyKind::FirstParty,
        session: session.to_owned(),
        received_at: Millis(received_at),
        country: Some("DE".to_owned()),
        consent: Consent {
            analytics: true,
            marketing: false,
        },
        events,
        rejected: 0,
        identify: None,
    }
}

fn page_view(id: &str, ts: i64, path: &str) -> serde_json::Value {
    json!({"id": id, "t": "page_view", "ts": ts, "url": format!("https://shop.example{path}"), "path": path})
}

/// A visit: home → pricing (60 s engaged, 75 % scroll) → rage click on the buy button.
fn pricing_visit(id: &str, session: &str, at: i64) -> BeaconEnvelope {
    envelope(
        id,
        session,
        at + 100_000,
        events(json!([
            page_view("e1", at, "/"),
            page_view("e2", at + 20_000, "/pricing"),
            {"id": "e3", "t": "scroll", "ts": at + 30_000, "props": {"depth": 75}},
            {"id": "e4", "t": "rage_click", "ts": at + 40_000, "props": {"selector": "button.buy", "count": 4}},
            {"id": "e5", "t": "rage_click", "ts": at + 41_000, "props": {"selector": "button.buy", "count": 3}},
            {"id": "e6", "t": "cta_click", "ts": at + 50_000, "props": {"cta": "start-trial"}},
            page_view("e7", at + 60_000, "/checkout"),
            {"id": "e8", "t": "page_leave", "ts": at + 90_000, "props": {"engaged_ms": 60_000}}
        ])),
    )
}

#[test]
fn pages_longer_than_a_counter_key_are_counted_under_their_first_bytes() {
    let stem = format!("/{}", "a".repeat(pages::MAX_COUNTED_PATH_BYTES));
    let visit = envelope(
        "m1",
        "s1",
        T0 + 10_000,
        events(json!([
            page_view("e1", T0, &format!("{stem}/one")),
            page_view("e2", T0 + 1_000, &format!("{stem}/two")),
        ])),
    );
    let fold = fold_visitor(None, vec![], &[&visit], Millis(T0 + 20_000));
    let total = fold.total_delta();
    let counted: Vec<(&str, &u64)> = total
        .pages
        .iter()
        .map(|(path, views)| (path.as_str(), views))
        .collect();
    assert_eq!(counted, [(&stem[..pages::MAX_COUNTED_PATH_BYTES], &2)]);
    assert!(
        fold.sessions[0].pages[1].ends_with("/two"),
        "the trail keeps whole paths"
    );
}

#[test]
fn a_first_visit_creates_the_visitor_and_its_session() {
    let visit = pricing_visit("m1", "s1", T0);
    let fold = fold_visitor(None, vec![], &[&visit], Millis(T0 + 200_000));

    assert_eq!(fold.applied, vec!["m1".to_owned()]);
    let delta = fold.total_delta();
    assert_eq!(
        (
            delta.new_visitors,
            delta.new_sessions,
            delta.events,
            delta.page_views
        ),
        (1, 1, 8, 3)
    );
    assert_eq!(delta.pages.get("/pricing"), Some(&1));
    assert_eq!(fold.profile.sessions, 1);
    assert_eq!(
        (fold.profile.first_seen, fold.profile.last_seen),
        (Millis(T0), Millis(T0 + 90_000))
    );
    assert_eq!(fold.profile.country.as_deref(), Some("DE"));

    let session = &fold.sessions[0];
    assert_eq!(session.pages, vec!["/", "/pricing", "/checkout"]);
    assert_eq!(
        (session.entry_page.as_deref(), session.exit_page.as_deref()),
        (Some("/"), Some("/checkout"))
    );
    assert_eq!(session.totals.rage_clicks, 2);
    assert_eq!(session.totals.intent_page_views, 2);
    assert_eq!(session.totals.max_scroll, 75);
    assert_eq!(session.totals.engaged_ms, 60_000);
}

#[test]
fn friction_and_intent_observations_are_aggregated_per_key() {
    let visit = pricing_visit("m1", "s1", T0);
    let fold = fold_visitor(None, vec![], &[&visit], Millis(T0));
    assert_eq!(
        fold.friction,
        vec![FrictionObservation {
            page: "/pricing".to_owned(),
            element: "button.buy".to_owned(),
            kind: FrictionKind::RageClick,
            count: 2,
            last_seen: Millis(T0 + 41_000),
        }]
    );
    let intent: Vec<(IntentKind, &str, &str, u64)> = fold
        .intent
        .iter()
        .map(|seen| {
            (
                seen.kind,
                seen.page.as_str(),
                seen.detail.as_str(),
                seen.count,
            )
        })
        .collect();
    assert_eq!(
        intent,
        vec![
            (IntentKind::PricingView, "/pricing", "", 1),
            (IntentKind::CtaClick, "/pricing", "start-trial", 1),
            (IntentKind::PricingView, "/checkout", "", 1),
        ]
    );
}

#[test]
fn the_worked_session_example_of_the_docs_scores_as_documented() {
    let visit = pricing_visit("m1", "s1", T0);
    let fold = fold_visitor(None, vec![], &[&visit], Millis(T0));
    let scores = fold.sessions[0].scores;
    // docs/scoring.md, "Worked example: one session".
    assert_eq!(scores.engagement, 65.6);
    assert_eq!(scores.intent, 50.3);
    assert_eq!(scores.friction, 45.1);
    assert_eq!(scores.churn_risk, 0.0);
    assert_eq!(fold.profile.scores.engagement, 49.2);
}

#[test]
fn redelivered_envelopes_are_skipped() {
    let visit = pricing_visit("m1", "s1", T0);
    let first = fold_visitor(None, vec![], &[&visit], Millis(T0));
    let again = fold_visitor(
        Some(first.profile.clone()),
        first.sessions.clone(),
        &[&visit],
        Millis(T0 + 1),
    );
    assert_eq!(again.duplicates, vec!["m1".to_owned()]);
    assert!(again.applied.is_empty());
    assert_eq!(again.profile, first.profile);
    assert!(again.sessions.is_empty() && again.friction.is_empty() && again.intent.is_empty());
    assert!(again.deltas.is_empty());
}

#[test]
fn the_same_message_twice_in_one_batch_is_applied_once() {
    let visit = pricing_visit("m1", "s1", T0);
    let fold = fold_visitor(None, vec![], &[&visit, &visit], Millis(T0));
    assert_eq!(fold.applied, vec!["m1".to_owned()]);
    assert_eq!(fold.duplicates, vec!["m1".to_owned()]);
    assert_eq!(fold.profile.totals.events, 8);
}

#[test]
fn only_the_last_remembered_messages_are_kept() {
    let visits: Vec<BeaconEnvelope> = (0..REMEMBERED_MESSAGES + 6)
        .map(|index| pricing_visit(&format!("m{index:03}"), "s1", T0 + index as i64))
        .collect();
    let references: Vec<&BeaconEnvelope> = visits.iter().collect();
    let fold = fold_visitor(None, vec![], &references, Millis(T0));
    assert_eq!(fold.profile.applied_messages.len(), REMEMBERED_MESSAGES);
    assert_eq!(
        fold.profile.applied_messages.first(),
        Some(&remembered::message_digest("m006"))
    );
}

#[test]
fn the_profile_dates_its_last_intent_signal_and_later_browsing_does_not_move_it() {
    let visit = pricing_visit("m1", "s1", T0);
    let first = fold_visitor(None, vec![], &[&visit], Millis(T0));
    // Dated by the beacon holding the intent signals (pricing, CTA, checkout): its last event.
    assert_eq!(first.profile.last_intent_at, Some(Millis(T0 + 90_000)));

    let browsing = envelope(
        "m2",
        "s2",
        T0 + 2 * MILLIS_PER_DAY,
        events(json!([
            page_view("e1", T0 + 2 * MILLIS_PER_DAY - 10_000, "/blog"),
            {"id": "e2", "t": "scroll", "ts": T0 + 2 * MILLIS_PER_DAY - 5_000, "props": {"depth": 50}}
        ])),
    );
    let later = fold_visitor(Some(first.profile), vec![], &[&browsing], Millis(T0));
    assert_eq!(later.profile.last_intent_at, Some(Millis(T0 + 90_000)));
    assert!(later.profile.last_seen > Millis(T0 + MILLIS_PER_DAY));
    assert_eq!(
        fold_visitor(None, vec![], &[&browsing], Millis(T0))
            .profile
            .last_intent_at,
        None
    );
}

#[test]
fn a_beacon_across_midnight_counts_each_event_on_its_own_day() {
    let midnight = (T0 / MILLIS_PER_DAY + 1) * MILLIS_PER_DAY;
    let day = midnight / MILLIS_PER_DAY;
    let mut visit = envelope(
        "m1",
        "s1",
        midnight + 5_000,
        events(json!([
            page_view("e1", midnight - 1_000, "/"),
            page_view("e2", midnight + 1_000, "/pricing"),
            {"id": "e3", "t": "scroll", "ts": midnight + 2_000, "props": {"depth": 50}},
        ])),
    );
    visit.rejected = 2;
    let fold = fold_visitor(None, vec![], &[&visit], Millis(midnight + 5_000));
    let counts = |delta: &SiteDelta| {
        [
            delta.new_visitors,
            delta.new_sessions,
            delta.events,
            delta.page_views,
            delta.rejected_events,
        ]
    };
    let days: Vec<(i64, [u64; 5])> = fold
        .deltas
        .iter()
        .map(|(day, delta)| (*day, counts(delta)))
        .collect();
    // The visitor and its session are new on the day they began; rejected events count on the
    // day the beacon was received.
    assert_eq!(
        days,
        vec![(day - 1, [1, 1, 1, 1, 0]), (day, [0, 0, 2, 1, 2])]
    );
    assert_eq!(fold.deltas[&(day - 1)].pages.get("/"), Some(&1));
    assert_eq!(fold.deltas[&day].pages.get("/pricing"), Some(&1));
}

#[test]
fn a_late_beacon_of_a_returning_visitor_counts_on_the_day_its_events_happened() {
    let first = fold_visitor(None, vec![], &[&pricing_visit("m1", "s1", T0)], Millis(T0));
    let three_days_earlier = T0 - 3 * MILLIS_PER_DAY;
    let late = envelope(
        "m2",
        "s0",
        T0 + 200_000,
        events(json!([page_view("e1", three_days_earlier, "/")])),
    );
    let second = fold_visitor(Some(first.profile), vec![], &[&late], Millis(T0 + 200_000));
    let days: Vec<i64> = second.deltas.keys().copied().collect();
    assert_eq!(days, vec![three_days_earlier / MILLIS_PER_DAY]);
    assert_eq!(second.total_delta().new_sessions, 1);
}

#[test]
fn a_session_continued_in_a_later_batch_is_not_new() {
    let first = fold_visitor(None, vec![], &[&pricing_visit("m1", "s1", T0)], Millis(T0));
    let later = pricing_visit("m2", "s1", T0 + 200_000);
    let second = fold_visitor(Some(first.profile), first.sessions, &[&later], Millis(T0));
    assert_eq!(
        (
            second.total_delta().new_visitors,
            second.total_delta().new_sessions
        ),
        (0, 0)
    );
    assert_eq!(second.profile.sessions, 1);
    assert_eq!(second.sessions[0].totals.events, 16);
    assert_eq!(second.sessions[0].entry_page.as_deref(), Some("/"));
}

#[test]
fn quickly_returning_to_the_previous_page_is_back_and_forth() {
    let visit = envelope(
        "m1",
        "s1",
        T0,
        events(json!([
            page_view("a", T0, "/docs"),
            page_view("b", T0 + 30_000, "/docs/setup"),
            page_view("c", T0 + 33_000, "/docs"),
            page_view("d", T0 + 60_000, "/docs/setup"),
            page_view("e", T0 + 120_000, "/docs")
        ])),
    );
    let fold = fold_visitor(None, vec![], &[&visit], Millis(T0));
    // c came back 3 s after b; d came back 27 s after c (reading); e after 60 s.
    assert_eq!(fold.sessions[0].totals.back_and_forth, 1);
}

#[test]
fn envelope_order_within_a_batch_does_not_matter() {
    let (first, second, third) = (
        pricing_visit("m1", "s1", T0),
        pricing_visit("m2", "s2", T0 + 500_000),
        pricing_visit("m3", "s1", T0 + 200_000),
    );
    let forward = fold_visitor(None, vec![], &[&first, &second, &third], Millis(T0));
    let backward = fold_visitor(None, vec![], &[&third, &second, &first], Millis(T0));
    assert_eq!(forward, backward);
}

#[test]
fn churn_risk_grows_with_days_since_the_last_visit() {
    let fold = fold_visitor(None, vec![], &[&pricing_visit("m1", "s1", T0)], Millis(T0));
    let last_seen = fold.profile.last_seen;
    assert_eq!(fold.profile.scores_at(last_seen).churn_risk, 0.0);
    // docs/scoring.md: 14 days without a visit → 63.2.
    assert_eq!(
        fold.profile
            .scores_at(Millis(last_seen.0 + 14 * MILLIS_PER_DAY))
            .churn_risk,
        63.2
    );
    assert!(
        fold.profile
            .scores_at(Millis(last_seen.0 + 60 * MILLIS_PER_DAY))
            .churn_risk
            > 98.0
    );
}

#[test]
fn falling_visit_frequency_raises_churn_risk() {
    let today = 20_000;
    let busy_then_quiet: Vec<i64> = (today - 50..today - 30).chain([today]).collect();
    assert!((formulas::falling_frequency(&busy_then_quiet, today) - 0.95).abs() < 1e-9);
    assert_eq!(formulas::falling_frequency(&[today - 1, today], today), 0.0);
}

#[test]
fn a_bot_report_becomes_bot_counters_only() {
    let report = DroppedReport {
        v: 1,
        id: "b".to_owned(),
        site: site(),
        received_at: Millis(T0),
        bot_beacons: 1,
        bot_events: 12,
    };
    let delta = SiteDelta::from_dropped(&report);
    assert_eq!(
        (delta.bot_beacons, delta.bot_events, delta.events),
        (1, 12, 0)
    );
}

#[test]
fn an_identify_only_envelope_updates_the_visitor_without_a_session() {
    let mut only_identify = envelope("m1", "s1", T0, vec![]);
    only_identify.identify = Some(crate::message::IdentifyRequest {
        ts: Millis(T0),
        traits: serde_json::Map::new(),
    });
    let fold = fold_visitor(None, vec![], &[&only_identify], Millis(T0));
    assert_eq!(fold.applied.len(), 1);
    assert!(fold.sessions.is_empty());
    assert_eq!(
        (
            fold.profile.sessions,
            fold.total_delta().new_sessions,
            fold.total_delta().new_visitors
        ),
        (0, 0, 1)
    );
}

#[test]
fn error_messages_are_bounded_as_friction_elements() {
    let long = "x".repeat(500);
    let visit = envelope(
        "m1",
        "s1",
        T0,
        events(
            json!([page_view("a", T0, "/app"), {"id": "b", "t": "error", "ts": T0 + 1, "props": {"message": long}}]),
        ),
    );
    let fold = fold_visitor(None, vec![], &[&visit], Millis(T0));
    assert_eq!(
        fold.friction[0].element.chars().count(),
        observations::MAX_ERROR_MESSAGE_CHARS
    );
    assert_eq!(fold.friction[0].page, "/app");
}

fn profile_with(
    totals: BehaviorTotals,
    sessions: u64,
    visit_days: Vec<i64>,
    last_seen: Millis,
) -> VisitorProfile {
    VisitorProfile {
        site: site(),
        visitor: "v1".to_owned(),
        visitor_kind: VisitorKeyKind::FirstParty,
        first_seen: Millis(0),
        last_seen,
        sessions,
        visit_days,
        totals,
        scores: Scores::default(),
        country: None,
        applied_messages: Vec::new(),
        engagement_trend: EngagementTrend::default(),
        last_intent_at: None,
    }
}

#[test]
fn the_worked_returning_visitor_example_of_the_docs_scores_as_documented() {
    let totals = BehaviorTotals {
        engaged_ms: 180_000,
        max_scroll: 80,
        page_views: 9,
        rage_clicks: 2,
        ..BehaviorTotals::default()
    };
    let profile = profile_with(
        totals,
        3,
        vec![20_000, 20_001, 20_002],
        Millis(20_002 * MILLIS_PER_DAY),
    );
    let scores = formulas::visitor_scores(&profile, profile.last_seen);
    assert_eq!((scores.engagement, scores.friction), (62.1, 18.1));
}

#[test]
fn the_worked_churn_example_of_the_docs_scores_as_documented() {
    let today = 20_100;
    let previous_window = (today - 50..today - 44).collect::<Vec<_>>();
    let visit_days = previous_window
        .into_iter()
        .chain([today - 10, today - 3])
        .collect();
    let last_seen = Millis((today - 3) * MILLIS_PER_DAY);
    let mut profile = profile_with(BehaviorTotals::default(), 4, visit_days, last_seen);
    profile.engagement_trend = EngagementTrend {
        session_engagement_tenths: 2_000,
        latest_session_engagement: 30.0,
        latest_session_at: last_seen,
    };
    assert_eq!(
        formulas::churn_risk(&profile, Millis(today * MILLIS_PER_DAY)),
        57.0
    );
}

#[test]
fn signal_counters_at_zero_are_left_out_of_the_stored_json_and_read_back_as_zero() {
    let totals = BehaviorTotals {
        events: 3,
        page_views: 2,
        cta_clicks: 1,
        ..BehaviorTotals::default()
    };
    let json = serde_json::to_value(&totals).unwrap();
    assert_eq!(
        json,
        json!({"events": 3, "page_views": 2, "engaged_ms": 0, "max_scroll": 0, "cta_clicks": 1})
    );
    assert_eq!(
        serde_json::from_value::<BehaviorTotals>(json).unwrap(),
        totals
    );
    // Items stored with every counter written read the same.
    let full = json!({"events": 3, "page_views": 2, "engaged_ms": 0, "max_scroll": 0,
        "intent_page_views": 0, "cta_clicks": 1, "form_starts": 0, "form_submits": 0,
        "hover_intents": 0, "quote_or_demo_requests": 0, "rage_clicks": 0, "dead_clicks": 0,
        "form_abandons": 0, "errors": 0, "back_and_forth": 0});
    assert_eq!(
        serde_json::from_value::<BehaviorTotals>(full).unwrap(),
        totals
    );
}
