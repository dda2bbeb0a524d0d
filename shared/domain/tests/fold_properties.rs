//! Property tests of the scoring fold's delivery guarantees: folding the same envelopes again is
//! a no-op, the order of a batch does not matter, and splitting a batch in two gives the same
//! counters as folding it at once.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use crm_domain::event::{Event, EventKind};
use crm_domain::message::{BeaconEnvelope, Consent, VisitorKeyKind};
use crm_domain::scoring::{BehaviorTotals, SessionState, SiteDelta, VisitorFold, fold_visitor};
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const T0: i64 = 1_763_700_000_000;
const PATHS: [&str; 6] = [
    "/",
    "/pricing",
    "/docs",
    "/docs/setup",
    "/contact-us",
    "/blog/a",
];

fn event_strategy() -> impl Strategy<Value = Event> {
    let kinds: Vec<EventKind> = EventKind::ALL
        .into_iter()
        .filter(|kind| *kind != EventKind::Identify)
        .collect();
    (proptest::sample::select(kinds), 0..6usize, 0..(3 * 86_400_000i64), 0..4usize, 0..200_000u64).prop_map(
        |(kind, path_index, offset, element, amount)| {
            let path = PATHS[path_index];
            let props: Map<String, Value> = match json!({
                "selector": format!("button.b{element}"), "form": format!("form{element}"), "cta": format!("cta{element}"),
                "message": format!("boom {element}"), "engaged_ms": amount, "depth": amount % 101
            }) {
                Value::Object(props) => props,
                _ => Map::new(),
            };
            Event {
                id: format!("e{offset}"),
                kind,
                ts: Millis(T0 + offset),
                url: Some(format!("https://shop.example{path}")),
                path: Some(path.to_owned()),
                title: None,
                referrer: None,
                props,
            }
        },
    )
}

/// Up to 12 envelopes of one visitor over 3 sessions, with unique ids and receive times.
fn envelopes_strategy() -> impl Strategy<Value = Vec<BeaconEnvelope>> {
    proptest::collection::vec(
        (
            0..3usize,
            proptest::collection::vec(event_strategy(), 1..10),
            0..3u32,
        ),
        1..12,
    )
    .prop_map(|beacons| {
        beacons
            .into_iter()
            .enumerate()
            .map(|(index, (session, mut events, rejected))| {
                events.sort_by_key(|event| event.ts);
                let received_at =
                    events.last().map_or(T0, |event| event.ts.0) + 1_000 + index as i64;
                BeaconEnvelope {
                    v: 1,
                    id: format!("m{index:02}"),
                    site: SiteId::parse("demo").unwrap(),
                    visitor: "visitor".to_owned(),
                    visitor_kind: VisitorKeyKind::FirstParty,
                    session: format!("s{session}"),
                    received_at: Millis(received_at),
                    country: Some("FR".to_owned()),
                    consent: Consent {
                        analytics: true,
                        marketing: false,
                    },
                    events,
                    rejected,
                    identify: None,
                }
            })
            .collect()
    })
}

fn fold_all(envelopes: &[&BeaconEnvelope]) -> VisitorFold {
    fold_visitor(None, Vec::new(), envelopes, Millis(T0))
}

/// Counters that must not depend on how deliveries were grouped (back-and-forth depends on the
/// page order and is left out on purpose).
fn counters(totals: &BehaviorTotals) -> BehaviorTotals {
    BehaviorTotals {
        back_and_forth: 0,
        ..totals.clone()
    }
}

fn merged_delta(deltas: &[SiteDelta]) -> SiteDelta {
    let mut sum = SiteDelta::default();
    for delta in deltas {
        sum.new_visitors += delta.new_visitors;
        sum.new_sessions += delta.new_sessions;
        sum.events += delta.events;
        sum.page_views += delta.page_views;
        sum.rejected_events += delta.rejected_events;
        for (path, views) in &delta.pages {
            *sum.pages.entry(path.clone()).or_default() += views;
        }
    }
    sum
}

fn observation_counts(folds: &[&VisitorFold]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for fold in folds {
        for seen in &fold.friction {
            *counts
                .entry(format!("F {:?} {} {}", seen.kind, seen.page, seen.element))
                .or_default() += seen.count;
        }
        for seen in &fold.intent {
            *counts
                .entry(format!("I {:?} {} {}", seen.kind, seen.page, seen.detail))
                .or_default() += seen.count;
        }
    }
    counts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn folding_the_same_envelopes_again_changes_nothing(envelopes in envelopes_strategy()) {
        let references: Vec<&BeaconEnvelope> = envelopes.iter().collect();
        let first = fold_all(&references);
        let again = fold_visitor(Some(first.profile.clone()), first.sessions.clone(), &references, Millis(T0 + 1));
        prop_assert_eq!(&again.profile, &first.profile);
        prop_assert!(again.applied.is_empty());
        prop_assert_eq!(again.duplicates.len(), envelopes.len());
        prop_assert!(again.sessions.is_empty() && again.friction.is_empty() && again.intent.is_empty());
        prop_assert!(again.deltas.is_empty());
    }

    #[test]
    fn the_order_of_a_batch_does_not_matter(envelopes in envelopes_strategy().prop_shuffle()) {
        let mut sorted = envelopes.clone();
        sorted.sort_by(|left, right| left.id.cmp(&right.id));
        let shuffled: Vec<&BeaconEnvelope> = envelopes.iter().collect();
        let in_order: Vec<&BeaconEnvelope> = sorted.iter().collect();
        prop_assert_eq!(fold_all(&shuffled), fold_all(&in_order));
    }

    #[test]
    fn splitting_a_batch_in_two_gives_the_same_counters(envelopes in envelopes_strategy(), split in any::<proptest::sample::Index>(), reverse in any::<bool>()) {
        let all: Vec<&BeaconEnvelope> = envelopes.iter().collect();
        let whole = fold_all(&all);

        let at = split.index(all.len() + 1);
        let (mut early, mut late) = (all[..at].to_vec(), all[at..].to_vec());
        if reverse {
            std::mem::swap(&mut early, &mut late);
        }
        let first = fold_visitor(None, Vec::new(), &early, Millis(T0));
        let second = if early.is_empty() {
            fold_all(&late)
        } else {
            let stored: Vec<SessionState> = first.sessions.clone();
            fold_visitor(Some(first.profile.clone()), stored, &late, Millis(T0))
        };
        let profile = &second.profile;
        prop_assert_eq!(counters(&profile.totals), counters(&whole.profile.totals));
        prop_assert_eq!(profile.sessions, whole.profile.sessions);
        prop_assert_eq!(&profile.visit_days, &whole.profile.visit_days);
        prop_assert_eq!((profile.first_seen, profile.last_seen), (whole.profile.first_seen, whole.profile.last_seen));
        let deltas: Vec<SiteDelta> = if early.is_empty() { vec![second.total_delta()] } else { vec![first.total_delta(), second.total_delta()] };
        prop_assert_eq!(merged_delta(&deltas), whole.total_delta());
        let folds: Vec<&VisitorFold> = if early.is_empty() { vec![&second] } else { vec![&first, &second] };
        prop_assert_eq!(observation_counts(&folds), observation_counts(&[&whole]));
    }
}
