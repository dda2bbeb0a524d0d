//! The ingest flow over fake dependencies: every status of the contract, what reaches the queue,
//! what the client IP becomes, and the CORS answers.

use std::cell::RefCell;
use std::collections::HashMap;

use crm_domain::message::{QueueMessage, VisitorKeyKind};
use serde_json::{Value, json};

use super::*;
use crate::config::{DailySalt, Delivery};
use crate::secret::Secret;
use crate::sites::{SiteDirectory, parse_site};

/// 2026-01-31T12:00:00Z
const NOW: Millis = Millis(1_769_860_800_000);
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SHOP: &str = "https://shop.example";

struct FakeHost {
    config: IngestConfig,
    kv: HashMap<SiteId, SiteConfig>,
    kv_down: bool,
    queue_down: bool,
    queued: RefCell<Vec<String>>,
    logs: RefCell<Vec<String>>,
}

impl FakeHost {
    fn new() -> FakeHost {
        let sites = SiteDirectory::parse(Some(
            r#"[{"id": "demo", "allowed_origins": ["https://shop.example"]},
                {"id": "off", "allowed_origins": ["*"], "enabled": false}]"#,
        ))
        .expect("valid sites");
        FakeHost {
            config: IngestConfig {
                delivery: Delivery::Queue,
                daily_salt: DailySalt::new(Secret::new([7_u8; 32])),
                visitor_pepper: Secret::new([9_u8; 32]),
                sites,
            },
            kv: HashMap::new(),
            kv_down: false,
            queue_down: false,
            queued: RefCell::new(Vec::new()),
            logs: RefCell::new(Vec::new()),
        }
    }

    fn with_kv_site(mut self, json: &str) -> FakeHost {
        let site = parse_site(json).expect("valid site");
        self.kv.insert(site.id.clone(), site);
        self
    }

    fn queued_messages(&self) -> Vec<QueueMessage> {
        self.queued
            .borrow()
            .iter()
            .map(|body| QueueMessage::from_json(body).expect("a queue message"))
            .collect()
    }
}

impl IngestDeps for FakeHost {
    fn config(&self) -> &IngestConfig {
        &self.config
    }

    fn now(&self) -> Millis {
        NOW
    }

    fn random_bytes(&self) -> [u8; 10] {
        let count = u8::try_from(self.queued.borrow().len()).unwrap_or_default();
        [count; 10]
    }

    async fn stored_site(&self, id: &SiteId) -> Result<Option<SiteConfig>, Unavailable> {
        if self.kv_down {
            return Err(Unavailable("KV is down".to_owned()));
        }
        Ok(self.kv.get(id).cloned())
    }

    async fn enqueue(&self, message: String) -> Result<(), Unavailable> {
        if self.queue_down {
            return Err(Unavailable("queue is down".to_owned()));
        }
        self.queued.borrow_mut().push(message);
        Ok(())
    }

    fn log(&self, level: Level, message: &str, fields: &[(&str, &str)]) {
        self.logs
            .borrow_mut()
            .push(crate::log::line(level, message, fields));
    }
}

/// A body that fails the test if it is read.
struct MustNotRead;

impl BodySource for MustNotRead {
    async fn read_limited(self, _limit: usize) -> Result<Vec<u8>, BodyError> {
        panic!("the body must not be read");
    }
}

fn head(headers: &[(&str, &str)]) -> RequestHead {
    let mut head = RequestHead::new("POST", "/e", "", |name| {
        headers
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, value)| (*value).to_owned())
    });
    head.cf_country = Some("FR".to_owned());
    head
}

fn browser_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("content-type", "text/plain;charset=UTF-8"),
        ("origin", SHOP),
        ("user-agent", BROWSER),
        ("cf-connecting-ip", "203.0.113.77"),
        ("cf-ipcountry", "de"),
    ]
}

fn beacon(site: &str, url: &str) -> Vec<u8> {
    json!({
        "v": 1, "site": site, "sid": "k3j4h5g6f7d8s9a0", "vid": "first-party-id",
        "consent": {"analytics": true},
        "events": [
            {"id": "e1", "t": "page_view", "ts": NOW.0 - 1000, "url": url, "title": "Pricing"},
            {"id": "e2", "t": "teleport", "ts": NOW.0 - 500},
        ]
    })
    .to_string()
    .into_bytes()
}

fn json_of(response: &EdgeResponse) -> Value {
    serde_json::from_str(response.body.as_str()).expect("a JSON body")
}

fn error_code(response: &EdgeResponse) -> String {
    json_of(response)["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_valid_beacon_is_queued_once_and_answered_with_the_receipt() {
    let host = FakeHost::new();
    let body = beacon("demo", "https://shop.example/pricing");
    let response = receive_beacon(&host, &head(&browser_headers()), body).await;

    assert_eq!(response.status, 202);
    assert_eq!(
        json_of(&response),
        json!({"accepted": 1, "rejected": [{"index": 1, "code": "unknown_type"}]})
    );
    assert_eq!(response.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(response.header("vary"), Some("Origin"));
    let messages = host.queued_messages();
    assert_eq!(messages.len(), 1);
    let QueueMessage::Beacon(envelope) = &messages[0] else {
        panic!("expected a beacon envelope");
    };
    assert_eq!(envelope.visitor_kind, VisitorKeyKind::FirstParty);
    assert_eq!(envelope.country.as_deref(), Some("DE"));
    assert_eq!(envelope.received_at, NOW);
    assert_eq!(envelope.events.len(), 1);
    assert_eq!(envelope.rejected, 1);
    let id = uuid::Uuid::parse_str(&envelope.id).expect("a uuid message id");
    assert_eq!(id.get_version_num(), 7);
}

#[tokio::test]
async fn the_client_ip_never_reaches_the_queue_and_pii_is_masked() {
    let host = FakeHost::new();
    let url = "https://shop.example/c?email=jane@example.com&utm_source=news&phone=+44%2020%207946%200958";
    let response = receive_beacon(&host, &head(&browser_headers()), beacon("demo", url)).await;
    assert_eq!(response.status, 202);
    let queued = host.queued.borrow()[0].clone();
    for secret in [
        "203.0.113.77",
        "203.0.113.0",
        "jane@example.com",
        "first-party-id",
        "k3j4h5g6f7d8s9a0",
    ] {
        assert!(!queued.contains(secret), "{secret} leaked into {queued}");
    }
    assert!(queued.contains("utm_source=news"));
}

#[tokio::test]
async fn do_not_track_gives_a_daily_visitor_key_and_no_consent() {
    let host = FakeHost::new();
    let mut headers = browser_headers();
    headers.push(("dnt", "1"));
    let response = receive_beacon(
        &host,
        &head(&headers),
        beacon("demo", "https://shop.example/"),
    )
    .await;
    assert_eq!(response.status, 202);
    let QueueMessage::Beacon(envelope) = &host.queued_messages()[0] else {
        panic!("expected a beacon envelope");
    };
    assert_eq!(envelope.visitor_kind, VisitorKeyKind::Daily);
    assert!(!envelope.consent.analytics);
}

#[tokio::test]
async fn the_country_falls_back_to_the_runtime_geo_data() {
    let host = FakeHost::new();
    let headers: Vec<_> = browser_headers()
        .into_iter()
        .filter(|(name, _)| *name != "cf-ipcountry")
        .collect();
    receive_beacon(
        &host,
        &head(&headers),
        beacon("demo", "https://shop.example/"),
    )
    .await;
    let QueueMessage::Beacon(envelope) = &host.queued_messages()[0] else {
        panic!("expected a beacon envelope");
    };
    assert_eq!(envelope.country.as_deref(), Some("FR"));
}

#[tokio::test]
async fn a_wrong_content_type_is_415_before_the_body_is_read() {
    let host = FakeHost::new();
    let mut headers = browser_headers();
    headers[0] = ("content-type", "application/x-www-form-urlencoded");
    let response = receive_beacon(&host, &head(&headers), MustNotRead).await;
    assert_eq!(response.status, 415);
    assert_eq!(error_code(&response), "unsupported_content_type");
    assert!(host.queued.borrow().is_empty());
}

#[tokio::test]
async fn an_announced_oversized_body_is_413_without_reading_it() {
    let host = FakeHost::new();
    let mut headers = browser_headers();
    headers.push(("content-length", "65537"));
    let response = receive_beacon(&host, &head(&headers), MustNotRead).await;
    assert_eq!(response.status, 413);
    assert_eq!(error_code(&response), "payload_too_large");
}

#[tokio::test]
async fn an_oversized_body_without_length_is_413() {
    let host = FakeHost::new();
    let response = receive_beacon(
        &host,
        &head(&browser_headers()),
        vec![b' '; MAX_BEACON_BYTES + 1],
    )
    .await;
    assert_eq!(response.status, 413);
    assert!(host.queued.borrow().is_empty());
}

#[tokio::test]
async fn malformed_json_and_non_objects_are_400() {
    let host = FakeHost::new();
    let malformed = receive_beacon(&host, &head(&browser_headers()), b"{\"v\": 1,".to_vec()).await;
    assert_eq!(
        (malformed.status, error_code(&malformed).as_str()),
        (400, "malformed_json")
    );
    let array = receive_beacon(&host, &head(&browser_headers()), b"[1]".to_vec()).await;
    assert_eq!(
        (array.status, error_code(&array).as_str()),
        (400, "not_an_object")
    );
    assert!(host.queued.borrow().is_empty());
}

#[tokio::test]
async fn unknown_disabled_and_foreign_origin_beacons_are_403() {
    let host = FakeHost::new();
    let unknown = receive_beacon(
        &host,
        &head(&browser_headers()),
        beacon("nope", "https://x.example/"),
    )
    .await;
    assert_eq!(
        (unknown.status, error_code(&unknown).as_str()),
        (403, "unknown_site")
    );
    let disabled = receive_beacon(
        &host,
        &head(&browser_headers()),
        beacon("off", "https://x.example/"),
    )
    .await;
    assert_eq!(
        (disabled.status, error_code(&disabled).as_str()),
        (403, "site_disabled")
    );
    let mut headers = browser_headers();
    headers[1] = ("origin", "https://evil.example");
    let foreign = receive_beacon(
        &host,
        &head(&headers),
        beacon("demo", "https://shop.example/"),
    )
    .await;
    assert_eq!(
        (foreign.status, error_code(&foreign).as_str()),
        (403, "origin_not_allowed")
    );
    assert!(host.queued.borrow().is_empty());
}

#[tokio::test]
async fn a_site_missing_from_the_variable_is_looked_up_in_kv() {
    let host = FakeHost::new()
        .with_kv_site(r#"{"id": "blog", "allowed_origins": ["https://shop.example"]}"#);
    let response = receive_beacon(
        &host,
        &head(&browser_headers()),
        beacon("blog", "https://shop.example/"),
    )
    .await;
    assert_eq!(response.status, 202);
    assert_eq!(host.queued_messages()[0].site().as_str(), "blog");
}

#[tokio::test]
async fn a_failing_queue_or_kv_is_503_and_logged() {
    let mut host = FakeHost::new();
    host.queue_down = true;
    let response = receive_beacon(
        &host,
        &head(&browser_headers()),
        beacon("demo", "https://shop.example/"),
    )
    .await;
    assert_eq!(
        (response.status, error_code(&response).as_str()),
        (503, "unavailable")
    );
    assert!(host.logs.borrow()[0].contains("queue is down"));

    let mut host = FakeHost::new();
    host.kv_down = true;
    let response = receive_beacon(
        &host,
        &head(&browser_headers()),
        beacon("blog", "https://shop.example/"),
    )
    .await;
    assert_eq!(response.status, 503);
}

#[tokio::test]
async fn a_bot_gets_202_and_only_a_dropped_report_is_queued() {
    let host = FakeHost::new();
    let mut headers = browser_headers();
    headers[2] = (
        "user-agent",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
    );
    let response = receive_beacon(
        &host,
        &head(&headers),
        beacon("demo", "https://shop.example/"),
    )
    .await;
    assert_eq!(response.status, 202);
    assert_eq!(json_of(&response), json!({"accepted": 0, "rejected": []}));
    assert!(matches!(
        host.queued_messages()[0],
        QueueMessage::Dropped(_)
    ));
}

fn preflight_head(origin: Option<&str>, query: &str) -> RequestHead {
    RequestHead::new("OPTIONS", "/e", query, |name| match name {
        "origin" => origin.map(str::to_owned),
        "access-control-request-method" => Some("POST".to_owned()),
        _ => None,
    })
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_with_cors_headers() {
    let host = FakeHost::new();
    let response = preflight(&host, &preflight_head(Some(SHOP), "")).await;
    assert_eq!(response.status, 204);
    assert_eq!(response.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(
        response.header("access-control-allow-methods"),
        Some("POST, OPTIONS")
    );
    assert_eq!(
        response.header("access-control-allow-headers"),
        Some("Content-Type")
    );
    assert_eq!(response.header("vary"), Some("Origin"));
}

#[tokio::test]
async fn a_preflight_from_an_unknown_origin_is_refused() {
    let host = FakeHost::new();
    let response = preflight(&host, &preflight_head(Some("https://evil.example"), "")).await;
    assert_eq!(
        (response.status, error_code(&response).as_str()),
        (403, "origin_not_allowed")
    );
    assert_eq!(response.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_preflight_naming_its_site_is_checked_against_that_site_only() {
    let host = FakeHost::new()
        .with_kv_site(r#"{"id": "blog", "allowed_origins": ["https://blog.example"]}"#);
    let from_kv = preflight(
        &host,
        &preflight_head(Some("https://blog.example"), "site=blog"),
    )
    .await;
    assert_eq!(from_kv.status, 204);
    let other_site = preflight(&host, &preflight_head(Some(SHOP), "site=blog")).await;
    assert_eq!(other_site.status, 403);
    let disabled = preflight(&host, &preflight_head(Some(SHOP), "site=off")).await;
    assert_eq!(disabled.status, 403);
    let invalid = preflight(&host, &preflight_head(Some(SHOP), "site=NOT%20A%20SITE")).await;
    assert_eq!(invalid.status, 403);
}

#[tokio::test]
async fn an_options_request_without_origin_is_not_a_preflight() {
    let host = FakeHost::new();
    let response = preflight(&host, &preflight_head(None, "")).await;
    assert_eq!(response.status, 204);
    assert_eq!(response.header("access-control-allow-origin"), None);
}
