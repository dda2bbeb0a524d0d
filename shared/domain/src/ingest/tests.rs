//! Unit tests of the ingest contract: whole-beacon errors, per-event rejections, consent, bots
//! and anonymization, through the public `parse_beacon` + `accept` pair.

#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use serde_json::{Value, json};

use super::*;
use crate::event::EventKind;
use crate::message::BeaconEnvelope;
use crate::privacy::daily_salt;

const NOW: Millis = Millis(1_763_700_000_000);
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const PEPPER: &[u8] = b"pepper";

fn site() -> SiteConfig {
    SiteConfig {
        id: SiteId::parse("demo").unwrap(),
        name: "Demo".to_owned(),
        allowed_origins: vec!["https://shop.example".to_owned()],
        retention_days: 90,
        session_retention_days: 180,
        enabled: true,
    }
}

fn request() -> RequestContext<'static> {
    RequestContext {
        client_ip: Some(IpAddr::from([203, 0, 113, 77])),
        user_agent: BROWSER,
        origin: Some("https://shop.example"),
        do_not_track: false,
        global_privacy_control: false,
        country: Some("de"),
    }
}

fn beacon(events: Value) -> Value {
    json!({"v": 1, "site": "demo", "sid": "k3j4h5g6f7d8s9a0", "vid": "first-party-id",
           "consent": {"analytics": true}, "events": events})
}

fn page_view(url: &str) -> Value {
    json!({"id": "e1", "t": "page_view", "ts": NOW.0 - 1000, "url": url, "title": "Pricing", "ref": "https://www.google.com/"})
}

fn run(body: &Value, request: &RequestContext<'_>) -> Result<Accepted, IngestError> {
    let salt = daily_salt(b"secret", NOW.day());
    let keys = IngestKeys {
        daily_salt: &salt,
        visitor_pepper: PEPPER,
    };
    let parsed = parse_beacon(body.to_string().as_bytes())?;
    accept(parsed, &site(), request, &keys, "msg-1".to_owned(), NOW)
}

fn envelope(accepted: &Accepted) -> &BeaconEnvelope {
    match &accepted.message {
        Some(QueueMessage::Beacon(envelope)) => envelope,
        other => panic!("expected a beacon, got {other:?}"),
    }
}

#[test]
fn content_types_of_send_beacon_and_fetch_are_accepted() {
    for content_type in [
        None,
        Some("application/json"),
        Some("text/plain;charset=UTF-8"),
        Some("Application/JSON; charset=utf-8"),
    ] {
        assert_eq!(check_content_type(content_type), Ok(()), "{content_type:?}");
    }
    let error = check_content_type(Some("application/x-www-form-urlencoded")).unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (415, "unsupported_content_type")
    );
}

#[test]
fn whole_beacon_errors_have_their_status_and_code() {
    let too_large = vec![b' '; MAX_BEACON_BYTES + 1];
    let cases: [(&[u8], u16, &str); 4] = [
        (&too_large, 413, "payload_too_large"),
        (b"{\"v\":1,", 400, "malformed_json"),
        (b"[1,2]", 400, "not_an_object"),
        (
            b"{\"v\":1,\"site\":\"demo\",\"sid\":\"s\",\"events\":[]}",
            422,
            "invalid_beacon",
        ),
    ];
    for (body, status, code) in cases {
        let error = parse_beacon(body).unwrap_err();
        assert_eq!((error.status(), error.code()), (status, code), "{error}");
    }
}

#[test]
fn schema_errors_name_the_field() {
    let mut body = beacon(json!([page_view("https://shop.example/")]));
    body["v"] = json!(2);
    assert!(matches!(
        parse_beacon(body.to_string().as_bytes()),
        Err(IngestError::Schema { field: "v", .. })
    ));
    let mut body = beacon(json!([page_view("https://shop.example/")]));
    body["site"] = json!("Not A Site");
    assert!(matches!(
        parse_beacon(body.to_string().as_bytes()),
        Err(IngestError::Schema { field: "site", .. })
    ));
    let mut body = beacon(json!([page_view("https://shop.example/")]));
    body["sid"] = json!("x".repeat(65));
    assert!(matches!(
        parse_beacon(body.to_string().as_bytes()),
        Err(IngestError::Schema { field: "sid", .. })
    ));
    let body = beacon(json!(vec![page_view("https://shop.example/"); 101]));
    assert!(matches!(
        parse_beacon(body.to_string().as_bytes()),
        Err(IngestError::Schema {
            field: "events",
            ..
        })
    ));
}

#[test]
fn error_bodies_are_json_with_escaped_messages() {
    let error = IngestError::MalformedJson("bad \"quote\"\n".to_owned());
    let body: Value = serde_json::from_str(&error.to_json_body()).unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");
    assert_eq!(
        body["error"]["message"],
        "the body is not valid JSON: bad \"quote\"\n"
    );
    assert_eq!(body.as_object().unwrap().len(), 1);
}

#[test]
fn site_and_origin_rules_give_403() {
    let body = beacon(json!([page_view("https://shop.example/")]));
    let error = run(
        &body,
        &RequestContext {
            origin: Some("https://evil.example"),
            ..request()
        },
    )
    .unwrap_err();
    assert_eq!((error.status(), error.code()), (403, "origin_not_allowed"));
    // The message names the site as the client sent it, not as a Rust value.
    assert_eq!(
        error.to_string(),
        r#"origin "https://evil.example" is not allowed for site "demo""#
    );

    let salt = daily_salt(b"secret", NOW.day());
    let keys = IngestKeys {
        daily_salt: &salt,
        visitor_pepper: PEPPER,
    };
    let disabled = SiteConfig {
        enabled: false,
        ..site()
    };
    let parsed = parse_beacon(body.to_string().as_bytes()).unwrap();
    let error = accept(parsed, &disabled, &request(), &keys, "m".to_owned(), NOW).unwrap_err();
    assert_eq!((error.status(), error.code()), (403, "site_disabled"));
    assert_eq!(error.to_string(), r#"site "demo" is disabled"#);
}

#[test]
fn a_valid_beacon_becomes_one_envelope() {
    let accepted = run(
        &beacon(json!([page_view("https://shop.example/pricing?plan=pro")])),
        &request(),
    )
    .unwrap();
    assert_eq!(
        accepted.receipt,
        Receipt {
            accepted: 1,
            rejected: vec![]
        }
    );
    let envelope = envelope(&accepted);
    assert_eq!(
        (envelope.v, envelope.id.as_str(), envelope.received_at),
        (MESSAGE_FORMAT_VERSION, "msg-1", NOW)
    );
    assert_eq!(envelope.visitor_kind, VisitorKeyKind::FirstParty);
    assert_eq!(envelope.country.as_deref(), Some("DE"));
    assert_eq!(envelope.visitor.len(), 32);
    assert_eq!(envelope.session.len(), 32);
    let event = &envelope.events[0];
    assert_eq!(event.kind, EventKind::PageView);
    assert_eq!(event.url.as_deref(), Some("https://shop.example/pricing"));
    assert_eq!(event.path.as_deref(), Some("/pricing"));
    assert_eq!(event.referrer.as_deref(), Some("https://www.google.com/"));
}

#[test]
fn beacon_with_email_in_url_is_masked_before_queueing() {
    let body = beacon(json!([page_view(
        "https://shop.example/u/jane@example.com?utm_source=jane%40example.com&email=x"
    )]));
    let accepted = run(&body, &request()).unwrap();
    let json = accepted.message.unwrap().to_json();
    assert!(!json.contains("jane"), "{json}");
    assert!(
        json.contains("https://shop.example/u/[email]?utm_source=[email]"),
        "{json}"
    );
}

#[test]
fn unknown_and_broken_events_are_rejected_one_by_one() {
    let events = json!([
        {"id": "a", "t": "teleport", "ts": NOW.0},
        {"t": "click", "ts": NOW.0},
        {"id": "c", "t": "click", "ts": "yesterday"},
        {"id": "d", "t": "page_view", "ts": NOW.0, "url": format!("https://shop.example/{}", "a".repeat(3000))},
        {"id": "e", "t": "click", "ts": NOW.0, "props": {"a": {"b": {"c": 1}}}},
        {"id": "f", "t": "click", "ts": NOW.0, "props": "text"},
        42,
        {"id": "ok", "t": "click", "ts": NOW.0, "url": "https://shop.example/"}
    ]);
    let accepted = run(&beacon(events), &request()).unwrap();
    let codes: Vec<(usize, &str)> = accepted
        .receipt
        .rejected
        .iter()
        .map(|rejection| (rejection.index, rejection.code))
        .collect();
    assert_eq!(
        codes,
        vec![
            (0, "unknown_type"),
            (1, "invalid_id"),
            (2, "invalid_ts"),
            (3, "too_large"),
            (4, "too_large"),
            (5, "invalid_field"),
            (6, "invalid_event")
        ]
    );
    assert_eq!(accepted.receipt.accepted, 1);
    assert_eq!(envelope(&accepted).rejected, 7);
}

#[test]
fn props_with_too_many_keys_or_bytes_are_too_large() {
    let many_keys: serde_json::Map<String, Value> = (0..33)
        .map(|index| (format!("k{index}"), json!(1)))
        .collect();
    let big = json!({"blob": "x".repeat(5000)});
    for props in [Value::Object(many_keys), big] {
        let events = json!([{"id": "a", "t": "custom", "ts": NOW.0, "props": props}]);
        let accepted = run(&beacon(events), &request()).unwrap();
        assert_eq!(accepted.receipt.rejected[0].code, "too_large");
        assert!(accepted.message.is_none());
    }
}

#[test]
fn timestamps_are_clamped_into_the_accepted_window() {
    let events = json!([
        {"id": "old", "t": "click", "ts": 0},
        {"id": "future", "t": "click", "ts": NOW.0 + 3_600_000},
        {"id": "fine", "t": "click", "ts": NOW.0 - 5_000}
    ]);
    let accepted = run(&beacon(events), &request()).unwrap();
    let times: Vec<i64> = envelope(&accepted)
        .events
        .iter()
        .map(|event| event.ts.0)
        .collect();
    assert_eq!(
        times,
        vec![
            NOW.0 - MAX_PAST_SKEW_MS,
            NOW.0 + MAX_FUTURE_SKEW_MS,
            NOW.0 - 5_000
        ]
    );
}

#[test]
fn event_ids_are_sanitized() {
    let events = json!([{"id": "a b/c<script>", "t": "click", "ts": NOW.0}, {"id": "***", "t": "click", "ts": NOW.0}]);
    let accepted = run(&beacon(events), &request()).unwrap();
    assert_eq!(envelope(&accepted).events[0].id, "abcscript");
    assert_eq!(
        accepted.receipt.rejected,
        vec![Rejection {
            index: 1,
            code: "invalid_id"
        }]
    );
}

#[test]
fn known_bots_are_dropped_and_counted() {
    let body = beacon(json!([
        page_view("https://shop.example/"),
        page_view("https://shop.example/a")
    ]));
    let accepted = run(
        &body,
        &RequestContext {
            user_agent: "Googlebot/2.1",
            ..request()
        },
    )
    .unwrap();
    assert_eq!(
        accepted.receipt,
        Receipt {
            accepted: 0,
            rejected: vec![]
        }
    );
    match accepted.message {
        Some(QueueMessage::Dropped(report)) => {
            assert_eq!(
                (report.bot_beacons, report.bot_events, report.id.as_str()),
                (1, 2, "msg-1")
            );
        }
        other => panic!("expected a dropped report, got {other:?}"),
    }
}

#[test]
fn without_consent_the_visitor_key_rotates_daily() {
    let mut body = beacon(json!([page_view("https://shop.example/")]));
    body["consent"] = json!({"analytics": false});
    let accepted = run(&body, &request()).unwrap();
    assert_eq!(envelope(&accepted).visitor_kind, VisitorKeyKind::Daily);
    assert!(!envelope(&accepted).consent.analytics);
}

#[test]
fn dnt_or_gpc_means_no_first_party_id_and_no_identify() {
    let events = json!([page_view("https://shop.example/"), {"id": "i", "t": "identify", "ts": NOW.0, "props": {"email": "jane@example.com"}}]);
    for request in [
        RequestContext {
            do_not_track: true,
            ..request()
        },
        RequestContext {
            global_privacy_control: true,
            ..request()
        },
    ] {
        let accepted = run(&beacon(events.clone()), &request).unwrap();
        let envelope = envelope(&accepted);
        assert_eq!(envelope.visitor_kind, VisitorKeyKind::Daily);
        assert!(envelope.identify.is_none());
        assert_eq!(
            accepted.receipt.rejected,
            vec![Rejection {
                index: 1,
                code: "consent_required"
            }]
        );
    }
}

#[test]
fn consented_identify_travels_apart_from_behavior_events() {
    let events = json!([{"id": "i", "t": "identify", "ts": NOW.0,
        "props": {"email": " jane@example.com ", "company": "ACME", "plan": "pro", "name": 7}}]);
    let accepted = run(&beacon(events), &request()).unwrap();
    assert_eq!(accepted.receipt.accepted, 1);
    let envelope = envelope(&accepted);
    assert!(envelope.events.is_empty());
    let identify = envelope.identify.as_ref().unwrap();
    assert_eq!(
        Value::Object(identify.traits.clone()),
        json!({"email": "jane@example.com", "company": "ACME"})
    );
}

#[test]
fn identify_without_traits_is_rejected() {
    let events = json!([{"id": "i", "t": "identify", "ts": NOW.0, "props": {"plan": "pro"}}]);
    let accepted = run(&beacon(events), &request()).unwrap();
    assert_eq!(
        accepted.receipt.rejected,
        vec![Rejection {
            index: 0,
            code: "invalid_traits"
        }]
    );
    assert!(accepted.message.is_none());
}

#[test]
fn click_props_are_masked_and_bounded() {
    let events = json!([{"id": "c", "t": "click", "ts": NOW.0, "url": "https://shop.example/",
        "props": {"selector": "a#call", "tag": "a", "text": format!("Call +1 555 123 4567 {}", "x".repeat(200)),
                  "phone": 5551234567u64, "jane@example.com": "key", "nested": {"card": "4111 1111 1111 1111"},
                  "amount": 4111111111111111u64}}]);
    let accepted = run(&beacon(events), &request()).unwrap();
    let props = &envelope(&accepted).events[0].props;
    let text = props["text"].as_str().unwrap();
    assert!(text.starts_with("Call [phone] xxx"));
    assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
    assert_eq!(props["phone"], "[phone]");
    assert_eq!(props["[email]"], "key");
    assert_eq!(props["nested"]["card"], "[card]");
    assert_eq!(props["amount"], "[card]");
}

#[test]
fn the_ip_appears_nowhere_in_the_message() {
    let accepted = run(
        &beacon(json!([page_view("https://shop.example/")])),
        &request(),
    )
    .unwrap();
    let json = accepted.message.unwrap().to_json();
    assert!(!json.contains("203.0.113"), "{json}");
}

#[test]
fn a_beacon_whose_events_are_all_rejected_queues_nothing() {
    let accepted = run(
        &beacon(json!([{"id": "a", "t": "nope", "ts": NOW.0}])),
        &request(),
    )
    .unwrap();
    assert!(accepted.message.is_none());
    assert_eq!(accepted.receipt.accepted, 0);
}

#[test]
fn receipt_serializes_as_the_contract_says() {
    let receipt = Receipt {
        accepted: 2,
        rejected: vec![Rejection {
            index: 1,
            code: "unknown_type",
        }],
    };
    assert_eq!(
        serde_json::to_value(&receipt).unwrap(),
        json!({"accepted": 2, "rejected": [{"index": 1, "code": "unknown_type"}]})
    );
}

#[test]
fn the_country_is_kept_only_as_two_letters() {
    assert_eq!(country_code("us").as_deref(), Some("US"));
    assert_eq!(country_code("T1"), None);
    assert_eq!(country_code("USA"), None);
}
