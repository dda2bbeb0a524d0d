//! Scoring cost of a 1,000-event batch (125 queue messages × 8 events, 40 visitors), as the
//! event scorer sees it: JSON bodies from the queue. Baseline: parse the bodies into
//! `QueueMessage`s. Measured: parse + group by visitor + `fold_visitor` per visitor (onto the
//! stored state the scorer would have loaded). Prints `events_per_sec=` (target: ≥ 1,000,000).

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput};
use crm_domain::event::Event;
use crm_domain::message::{BeaconEnvelope, Consent, QueueMessage, VisitorKeyKind};
use crm_domain::scoring::{SessionState, VisitorProfile, fold_visitor};
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use serde_json::json;
use support::{Clock, median, median_pair};

const NOW: Millis = Millis(1_763_700_000_000);
const MESSAGES: usize = 125;
const EVENTS_PER_MESSAGE: usize = 8;
const VISITORS: usize = 40;
const EVENTS: usize = MESSAGES * EVENTS_PER_MESSAGE;

fn events(message: usize, at: i64) -> Vec<Event> {
    let paths = [
        "/",
        "/pricing",
        "/docs/getting-started",
        "/blog/launch-week",
        "/contact-us",
        "/features",
    ];
    let path = paths[message % paths.len()];
    let next = paths[(message + 1) % paths.len()];
    let url = |path: &str| format!("https://shop.example{path}?utm_source=newsletter");
    let raw = json!([
        {"id": format!("{message}-1"), "t": "page_view", "ts": at, "url": url(path), "path": path, "title": "Shop", "ref": "https://www.google.com/"},
        {"id": format!("{message}-2"), "t": "scroll", "ts": at + 2_000, "url": url(path), "path": path, "props": {"depth": 25 + message % 75}},
        {"id": format!("{message}-3"), "t": "click", "ts": at + 4_000, "url": url(path), "path": path, "props": {"selector": "nav a.next", "tag": "a", "text": "Next"}},
        {"id": format!("{message}-4"), "t": "rage_click", "ts": at + 5_000, "url": url(path), "path": path, "props": {"selector": "button.buy", "tag": "button", "text": "Buy", "count": 4}},
        {"id": format!("{message}-5"), "t": "cta_click", "ts": at + 6_000, "url": url(path), "path": path, "props": {"selector": "a.trial", "tag": "a", "text": "Start trial", "cta": "start-trial"}},
        {"id": format!("{message}-6"), "t": "page_leave", "ts": at + 8_000, "url": url(path), "path": path, "props": {"engaged_ms": 7_500}},
        {"id": format!("{message}-7"), "t": "page_view", "ts": at + 9_000, "url": url(next), "path": next, "title": "Shop"},
        {"id": format!("{message}-8"), "t": "form_start", "ts": at + 12_000, "url": url(next), "path": next, "props": {"form": "newsletter"}}
    ]);
    serde_json::from_value(raw).unwrap()
}

/// The batch as queue bodies, plus the state the store holds for these visitors beforehand.
struct Fixture {
    bodies: Vec<String>,
    stored: HashMap<String, (VisitorProfile, Vec<SessionState>)>,
}

fn envelope(message: usize, id_prefix: &str, day_offset: i64) -> BeaconEnvelope {
    let visitor = message % VISITORS;
    let at = NOW.0 - day_offset * 86_400_000 - 3_600_000 + (message as i64) * 15_000;
    BeaconEnvelope {
        v: 1,
        id: format!("{id_prefix}-{message:04}"),
        site: SiteId::parse("demo").unwrap(),
        visitor: format!("{visitor:032x}"),
        visitor_kind: VisitorKeyKind::FirstParty,
        // Two sessions per visitor in the batch.
        session: format!("{:032x}", visitor * 2 + (message / VISITORS) % 2),
        received_at: Millis(at + 13_000),
        country: Some("DE".to_owned()),
        consent: Consent {
            analytics: true,
            marketing: false,
        },
        events: events(message, at),
        rejected: 0,
        identify: None,
    }
}

impl Fixture {
    fn new() -> Fixture {
        let bodies: Vec<String> = (0..MESSAGES)
            .map(|message| QueueMessage::Beacon(envelope(message, "msg", 0)).to_json())
            .collect();
        // Yesterday's visit of every visitor, already folded and stored.
        let yesterday: Vec<BeaconEnvelope> = (0..VISITORS)
            .map(|message| envelope(message, "old", 1))
            .collect();
        let stored = yesterday
            .iter()
            .map(|envelope| {
                let fold = fold_visitor(None, Vec::new(), &[envelope], NOW);
                (envelope.visitor.clone(), (fold.profile, fold.sessions))
            })
            .collect();
        Fixture { bodies, stored }
    }

    fn parse(&self) -> Vec<QueueMessage> {
        self.bodies
            .iter()
            .map(|body| QueueMessage::from_json(body).unwrap())
            .collect()
    }

    /// What the scorer does with a batch, minus the store: parse, group, fold each visitor.
    fn score(&self) -> usize {
        self.fold(&self.parse())
    }

    /// Group parsed messages by visitor and fold each group onto its stored state.
    fn fold(&self, messages: &[QueueMessage]) -> usize {
        let mut groups: HashMap<&str, Vec<&BeaconEnvelope>> = HashMap::with_capacity(VISITORS);
        for message in messages {
            if let QueueMessage::Beacon(envelope) = message {
                groups
                    .entry(envelope.visitor.as_str())
                    .or_default()
                    .push(envelope);
            }
        }
        let mut applied = 0;
        for (visitor, envelopes) in groups {
            let (profile, sessions) = match self.stored.get(visitor) {
                Some((profile, sessions)) => (Some(profile.clone()), sessions.clone()),
                None => (None, Vec::new()),
            };
            let fold = fold_visitor(profile, sessions, &envelopes, NOW);
            applied += fold.applied.len();
            black_box(fold);
        }
        applied
    }
}

fn criterion_groups(criterion: &mut Criterion, fixture: &Fixture) {
    let mut group = criterion.benchmark_group("score_1000_event_batch");
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("baseline_parse_queue_messages", |bencher| {
        bencher.iter(|| fixture.parse())
    });
    group.bench_function("parse_group_and_fold", |bencher| {
        bencher.iter(|| fixture.score())
    });
    let parsed = fixture.parse();
    group.bench_function("group_and_fold_parsed", |bencher| {
        bencher.iter(|| fixture.fold(&parsed))
    });
    group.finish();
}

fn main() {
    let fixture = Fixture::new();
    assert_eq!(
        fixture.score(),
        MESSAGES,
        "every message of the fixture must be applied"
    );

    let mut criterion = Criterion::default().configure_from_args();
    criterion_groups(&mut criterion, &fixture);
    criterion.final_summary();

    let quick = std::env::args().any(|argument| argument == "--test");
    let (rounds, iterations) = if quick { (3, 2) } else { (31, 100) };
    let clock = Clock::detect();
    let (baseline, measured) = median_pair(
        &clock,
        rounds,
        iterations,
        || {
            black_box(fixture.parse());
        },
        || {
            black_box(fixture.score());
        },
    );
    let parsed = fixture.parse();
    let fold_only = median(&clock, rounds, iterations, || {
        black_box(fixture.fold(black_box(&parsed)));
    });
    println!(
        "scoring ({}): events={EVENTS} messages={MESSAGES} visitors={VISITORS} baseline_parse={:.1}µs parse+group+fold={:.1}µs ratio={:.2} events_per_sec={:.0} (target ≥ 1000000) group+fold={:.1}µs fold_only_events_per_sec={:.0}",
        clock.kind,
        baseline.as_secs_f64() * 1e6,
        measured.as_secs_f64() * 1e6,
        measured.as_secs_f64() / baseline.as_secs_f64(),
        EVENTS as f64 / measured.as_secs_f64(),
        fold_only.as_secs_f64() * 1e6,
        EVENTS as f64 / fold_only.as_secs_f64(),
    );
}
