//! Ingest cost of a realistic 20-event beacon: `parse_beacon` + `accept` (validation, bot check,
//! consent, anonymization, keyed hashes), against the baseline of `serde_json` parsing the same
//! bytes into a `Value`. Prints `ratio=` (target: at most 4).

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::hint::black_box;
use std::net::IpAddr;

use criterion::{Criterion, Throughput};
use crm_domain::ingest::{Accepted, IngestKeys, RequestContext, accept, parse_beacon};
use crm_domain::privacy::daily_salt;
use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;
use serde_json::{Value, json};
use support::{Clock, median_pair};

const NOW: Millis = Millis(1_763_700_000_000);
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/// What a tracker sends after a minute on a shop: page views with campaign URLs, scrolls,
/// clicks with selectors and text, a form, a CTA, an error and page leaves.
fn beacon_body() -> Vec<u8> {
    let base = NOW.0 - 60_000;
    let url = |path: &str| {
        format!(
            "https://shop.example{path}?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday&fbclid=IwAR3x9"
        )
    };
    let click = |index: i64, kind: &str, selector: &str, text: &str| {
        json!({"id": format!("01JD2X8K9M{index:02}"), "t": kind, "ts": base + index * 1_000, "url": url("/pricing"),
               "props": {"selector": selector, "tag": "button", "text": text}})
    };
    let events = vec![
        json!({"id": "01JD2X8K9M00", "t": "page_view", "ts": base, "url": url("/"), "title": "Shop – Home", "ref": "https://www.google.com/search?q=shop"}),
        json!({"id": "01JD2X8K9M01", "t": "scroll", "ts": base + 1_000, "url": url("/"), "props": {"depth": 50}}),
        click(2, "click", "nav > a.pricing", "Pricing"),
        json!({"id": "01JD2X8K9M03", "t": "page_leave", "ts": base + 3_000, "url": url("/"), "props": {"engaged_ms": 12_000}}),
        json!({"id": "01JD2X8K9M04", "t": "page_view", "ts": base + 4_000, "url": url("/pricing"), "title": "Pricing – Shop", "ref": "https://shop.example/"}),
        json!({"id": "01JD2X8K9M05", "t": "scroll", "ts": base + 5_000, "url": url("/pricing"), "props": {"depth": 75}}),
        json!({"id": "01JD2X8K9M06", "t": "hover_intent", "ts": base + 6_000, "url": url("/pricing"), "props": {"selector": "div.plan-pro", "ms": 1_800}}),
        click(7, "rage_click", "button.buy-pro", "Buy Pro"),
        click(8, "dead_click", "span.price", "49 € / month"),
        click(9, "cta_click", "a.start-trial", "Start your free trial"),
        json!({"id": "01JD2X8K9M10", "t": "page_view", "ts": base + 10_000, "url": url("/signup"), "title": "Sign up", "ref": "https://shop.example/pricing"}),
        json!({"id": "01JD2X8K9M11", "t": "form_start", "ts": base + 11_000, "url": url("/signup"), "props": {"form": "signup"}}),
        json!({"id": "01JD2X8K9M12", "t": "error", "ts": base + 12_000, "url": url("/signup"), "props": {"message": "TypeError: cannot read properties of undefined (reading 'plan')", "source": "app.js"}}),
        json!({"id": "01JD2X8K9M13", "t": "form_submit", "ts": base + 13_000, "url": url("/signup"), "props": {"form": "signup"}}),
        json!({"id": "01JD2X8K9M14", "t": "copy", "ts": base + 14_000, "url": url("/signup"), "props": {"selector": "code.coupon"}}),
        json!({"id": "01JD2X8K9M15", "t": "video_play", "ts": base + 15_000, "url": url("/signup"), "props": {"video": "onboarding-tour", "position": 0}}),
        json!({"id": "01JD2X8K9M16", "t": "download", "ts": base + 16_000, "url": url("/signup"), "props": {"selector": "a.pdf", "tag": "a", "text": "Price list (PDF)", "file": "prices-2025.pdf"}}),
        json!({"id": "01JD2X8K9M17", "t": "search", "ts": base + 17_000, "url": url("/signup"), "props": {"query": "invoice address"}}),
        json!({"id": "01JD2X8K9M18", "t": "custom", "ts": base + 18_000, "url": url("/signup"), "props": {"name": "plan_selected", "plan": "pro", "seats": 5, "annual": true}}),
        json!({"id": "01JD2X8K9M19", "t": "page_leave", "ts": base + 19_000, "url": url("/signup"), "props": {"engaged_ms": 25_000}}),
    ];
    let beacon = json!({"v": 1, "site": "demo", "sid": "k3j4h5g6f7d8s9a0", "vid": "3f1c9a7e-5b2d-4e8f-9a6b-1c2d3e4f5a6b",
                        "consent": {"analytics": true, "marketing": false}, "events": events});
    serde_json::to_vec(&beacon).unwrap()
}

struct Fixture {
    body: Vec<u8>,
    site: SiteConfig,
    salt: [u8; 32],
}

impl Fixture {
    fn new() -> Fixture {
        let site = SiteConfig {
            id: SiteId::parse("demo").unwrap(),
            name: "Demo".to_owned(),
            allowed_origins: vec!["https://shop.example".to_owned()],
            retention_days: 90,
            session_retention_days: 180,
            enabled: true,
        };
        Fixture {
            body: beacon_body(),
            site,
            salt: daily_salt(b"daily-secret", NOW.day()),
        }
    }

    fn ingest(&self, body: &[u8]) -> Accepted {
        let request = RequestContext {
            client_ip: Some(IpAddr::from([203, 0, 113, 77])),
            user_agent: CHROME,
            origin: Some("https://shop.example"),
            do_not_track: false,
            global_privacy_control: false,
            country: Some("DE"),
        };
        let keys = IngestKeys {
            daily_salt: &self.salt,
            visitor_pepper: b"visitor-pepper-of-32-bytes-long!",
        };
        let parsed = parse_beacon(body).unwrap();
        accept(
            parsed,
            &self.site,
            &request,
            &keys,
            "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_owned(),
            NOW,
        )
        .unwrap()
    }
}

fn criterion_groups(criterion: &mut Criterion, fixture: &Fixture) {
    let mut group = criterion.benchmark_group("ingest_20_event_beacon");
    group.throughput(Throughput::Bytes(fixture.body.len() as u64));
    group.bench_function("baseline_serde_json_value", |bencher| {
        bencher.iter(|| serde_json::from_slice::<Value>(black_box(&fixture.body)).unwrap())
    });
    group.bench_function("parse_beacon_and_accept", |bencher| {
        bencher.iter(|| fixture.ingest(black_box(&fixture.body)))
    });
    group.finish();
}

fn main() {
    let fixture = Fixture::new();
    let accepted = fixture.ingest(&fixture.body);
    assert_eq!(
        accepted.receipt.accepted, 20,
        "the fixture must be fully accepted: {:?}",
        accepted.receipt
    );

    let mut criterion = Criterion::default().configure_from_args();
    criterion_groups(&mut criterion, &fixture);
    criterion.final_summary();

    let quick = std::env::args().any(|argument| argument == "--test");
    let (rounds, iterations) = if quick { (3, 10) } else { (31, 2_000) };
    let clock = Clock::detect();
    let (baseline, measured) = median_pair(
        &clock,
        rounds,
        iterations,
        || {
            black_box(serde_json::from_slice::<Value>(black_box(&fixture.body)).unwrap());
        },
        || {
            black_box(fixture.ingest(black_box(&fixture.body)));
        },
    );
    let ratio = measured.as_secs_f64() / baseline.as_secs_f64();
    println!(
        "ingest ({}): beacon_bytes={} events=20 baseline_parse={:.2}µs parse_beacon+accept={:.2}µs ratio={ratio:.2} (target ≤ 4) beacons_per_sec={:.0}",
        clock.kind,
        fixture.body.len(),
        baseline.as_secs_f64() * 1e6,
        measured.as_secs_f64() * 1e6,
        1.0 / measured.as_secs_f64(),
    );
}
