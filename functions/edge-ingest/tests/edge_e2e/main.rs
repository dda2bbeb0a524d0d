//! End to end in the real Workers runtime: tests/edge.sh builds the worker with worker-build,
//! starts it with `wrangler dev --local` (workerd) pointed at the moto SQS emulator, and runs this
//! test (once per delivery mode). It posts beacons of every kind, checks the answers, then reads
//! the SQS events queue: exactly the accepted beacons must be there, one message each,
//! anonymized, and the event-scorer must turn them into visitor profiles. One site comes from the
//! `CRM_SITES` variable (`demo`), one from the KV namespace tests/edge.sh fills (`kvshop`).
//!
//! Run by hand: `source tests/aws/moto.sh; source tests/edge.sh`. Without the variables tests/edge.sh
//! sets, the test fails (it never skips).

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crm_domain::message::{QueueMessage, VisitorKeyKind};
use crm_domain::privacy::{VisitorKey, daily_salt};
use crm_domain::site::SiteId;
use crm_store::clock::SystemClock;
use crm_store::repo::BehaviorRepo;
use crm_store::sqlite::SqliteTable;
use event_scorer::{IncomingMessage, ScorerDeps, process_batch};
use serde_json::json;

use support::{
    BROWSER, CLIENT_IP, Environment, SHOP, beacon, drain, now_ms, post_beacon, post_chunked,
    request,
};

/// Strings of the beacons below that must never reach SQS.
const NEVER_QUEUED: [&str; 9] = [
    CLIENT_IP,
    "203.0.113.",
    "jane.doe",
    "@example.com",
    "79460958",
    "4111111111111111",
    "4111 1111",
    "sid-valid",
    "vid-valid",
];

#[tokio::test]
async fn beacons_reach_sqs_once_each_anonymized_and_are_scored() {
    let env = Environment::from_env();
    let queue = env.events_queue().await;

    // Accepted: a consented browser, the same with Do-Not-Track, one with PII in its URLs, a bot.
    let valid = post_beacon(
        &env,
        &beacon(
            "demo",
            "valid",
            "https://shop.example/pricing?utm_source=news",
        ),
        &[],
    );
    assert_eq!(
        (valid.status, valid.body.clone()),
        (202, json!({"accepted": 2, "rejected": []}))
    );
    assert_eq!(valid.header("access-control-allow-origin"), Some(SHOP));

    // A site that exists only in the KV namespace (tests/edge.sh writes `site:kvshop`).
    let kv = post_beacon(
        &env,
        &beacon("kvshop", "kv", "https://shop.example/blog"),
        &[],
    );
    assert_eq!((kv.status, kv.body["accepted"].clone()), (202, json!(2)));

    // Its title holds a character SQS refuses raw (U+FFFE; moto does not check, the unit tests
    // of `sqs_safe_json` do): it is sent escaped and must decode to the same title.
    let mut dnt = beacon("demo", "dnt", "https://shop.example/");
    dnt["events"][0]["title"] = json!("Welcome\u{FFFE}");
    let dnt = post_beacon(&env, &dnt, &[("dnt", "1")]);
    assert_eq!(dnt.status, 202);

    let mut pii = beacon(
        "demo",
        "pii",
        "https://shop.example/u/jane.doe@example.com?email=jane.doe%40example.com\
         &phone=%2B44%2020%207946%200958&utm_source=mail&utm_content=4111111111111111#card",
    );
    pii["events"][0]["title"] = json!("Call +44 20 7946 0958 or write to jane.doe@example.com");
    pii["events"][0]["ref"] = json!("https://mail.example.net/?card=4111 1111 1111 1111");
    pii["events"][1]["props"]["note"] = json!("card 4111-1111-1111-1111, tel 020 7946 0958");
    let pii_answer = post_beacon(&env, &pii, &[]);
    assert_eq!(
        (pii_answer.status, pii_answer.body["accepted"].clone()),
        (202, json!(2))
    );

    let bot = post_beacon(
        &env,
        &beacon("demo", "bot", "https://shop.example/"),
        &[(
            "user-agent",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        )],
    );
    assert_eq!(
        (bot.status, bot.body.clone()),
        (202, json!({"accepted": 0, "rejected": []}))
    );

    // Answered 202 but nothing to queue: every event rejected.
    let mut useless = beacon("demo", "useless", "https://shop.example/");
    useless["events"] = json!([{"id": "x", "t": "teleport", "ts": now_ms()}]);
    let useless = post_beacon(&env, &useless, &[]);
    assert_eq!(
        (useless.status, useless.body.clone()),
        (
            202,
            json!({"accepted": 0, "rejected": [{"index": 0, "code": "unknown_type"}]})
        )
    );

    // Refused: the whole-beacon errors of the contract.
    let refusals = [
        (
            request_raw(&env, "text/plain", b"{\"v\": 1, \"site\": ".to_vec()),
            400,
            "malformed_json",
        ),
        (
            request_raw(&env, "text/plain", b"[1, 2]".to_vec()),
            400,
            "not_an_object",
        ),
        (
            request_raw(&env, "text/plain", oversized()),
            413,
            "payload_too_large",
        ),
        (post_chunked(&env, oversized()), 413, "payload_too_large"),
        (
            post_chunked(&env, b"{\"v\": 1".to_vec()),
            400,
            "malformed_json",
        ),
        (
            request_raw(&env, "application/x-www-form-urlencoded", b"v=1".to_vec()),
            415,
            "unsupported_content_type",
        ),
        (
            post_beacon(&env, &json!({"v": 2, "site": "demo"}), &[]),
            422,
            "invalid_beacon",
        ),
        (
            post_beacon(
                &env,
                &beacon("nosuchsite", "unknown", "https://x.example/"),
                &[],
            ),
            403,
            "unknown_site",
        ),
        (
            post_beacon(&env, &beacon("paused", "paused", "https://x.example/"), &[]),
            403,
            "site_disabled",
        ),
        (
            post_beacon(
                &env,
                &beacon("demo", "evil", "https://shop.example/"),
                &[("origin", "https://evil.example")],
            ),
            403,
            "origin_not_allowed",
        ),
    ];
    for (answer, status, code) in &refusals {
        assert_eq!(
            (answer.status, answer.error_code()),
            (*status, *code),
            "{}",
            answer.body
        );
    }

    // SQS holds exactly the five accepted beacons: four envelopes and one bot report.
    let limit = Duration::from_secs(60);
    let received = drain(&queue, 5, limit, Duration::from_secs(5)).await;
    let bodies: Vec<&str> = received
        .iter()
        .map(|message| message.body.as_str())
        .collect();
    assert_eq!(
        received.len(),
        5,
        "{} delivery: expected 5 messages, got {bodies:#?}",
        env.delivery
    );
    for body in &bodies {
        for secret in NEVER_QUEUED {
            assert!(!body.contains(secret), "{secret:?} reached SQS in {body}");
        }
    }
    let mut envelopes = HashMap::new();
    let mut bot_reports = 0;
    for body in &bodies {
        match QueueMessage::from_json(body).expect("the one queue message format") {
            QueueMessage::Beacon(envelope) => {
                let case = envelope.events[0]
                    .id
                    .split('-')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                assert!(
                    envelopes.insert(case, envelope).is_none(),
                    "a beacon arrived twice"
                );
            }
            QueueMessage::Dropped(report) => {
                assert_eq!((report.bot_beacons, report.bot_events), (1, 2));
                bot_reports += 1;
            }
        }
    }
    assert_eq!(bot_reports, 1);
    let mut cases: Vec<&str> = envelopes.keys().map(String::as_str).collect();
    cases.sort_unstable();
    assert_eq!(cases, ["dnt", "kv", "pii", "valid"]);
    assert_eq!(envelopes["kv"].site.as_str(), "kvshop");

    let valid = &envelopes["valid"];
    assert_eq!(valid.visitor_kind, VisitorKeyKind::FirstParty);
    assert!(valid.consent.analytics);
    assert_eq!(valid.country.as_deref(), Some("DE"));
    assert_eq!(
        valid.events[0].url.as_deref(),
        Some("https://shop.example/pricing?utm_source=news")
    );
    let dnt = &envelopes["dnt"];
    assert_eq!(dnt.visitor_kind, VisitorKeyKind::Daily);
    // The daily key is crm-domain's hash of the daily salt (from the secret and the UTC day), the
    // site, the client IP from CF-Connecting-IP truncated to its /24, and the user agent.
    let salt = daily_salt(&env.daily_salt_secret, dnt.received_at.day());
    let client_ip = CLIENT_IP.parse().ok();
    let site = SiteId::parse("demo").expect("valid id");
    assert_eq!(
        dnt.visitor,
        VisitorKey::daily(&salt, &site, client_ip, BROWSER).key
    );
    assert!(!dnt.consent.analytics && !dnt.consent.marketing);
    assert_eq!(dnt.events[0].title.as_deref(), Some("Welcome\u{FFFE}"));
    let pii = &envelopes["pii"];
    let masked_url = pii.events[0].url.as_deref().unwrap_or_default();
    assert!(
        masked_url.contains("[email]") && masked_url.contains("utm_source=mail"),
        "{masked_url}"
    );

    // The event-scorer folds them into visitor profiles.
    let table = Arc::new(SqliteTable::in_memory().expect("an in-memory table"));
    let deps = ScorerDeps {
        table: table.clone(),
        clock: Arc::new(SystemClock),
    };
    let incoming: Vec<IncomingMessage> = received
        .iter()
        .map(|message| IncomingMessage {
            transport_id: message.message_id.clone(),
            body: message.body.clone(),
        })
        .collect();
    let report = process_batch(&deps, &incoming).await;
    assert!(report.failed.is_empty(), "scorer failures: {report:?}");
    assert_eq!(report.applied, 5, "{report:?}");
    let behavior = BehaviorRepo::new(table);
    for (case, envelope) in &envelopes {
        let profile = behavior
            .get_profile(&envelope.site, &envelope.visitor)
            .await
            .expect("the table answers")
            .unwrap_or_else(|| panic!("no profile for the {case} beacon's visitor"));
        assert_eq!(profile.visitor_kind, envelope.visitor_kind, "{case}");
        assert_eq!(
            (profile.totals.page_views, profile.totals.max_scroll),
            (1, 60),
            "{case}"
        );
        assert_eq!(profile.sessions, 1, "{case}");
    }
}

#[tokio::test]
async fn the_tracker_health_and_preflight_answer_as_documented() {
    let env = Environment::from_env();
    let health = request(&env, "GET", "/health", &[], Vec::new());
    assert_eq!(
        (health.status, health.body.clone()),
        (200, json!({"status": "ok"}))
    );

    let script = request(&env, "GET", "/t.js", &[], Vec::new());
    assert_eq!(script.status, 200);
    assert!(
        script
            .header("content-type")
            .is_some_and(|kind| kind.starts_with("application/javascript"))
    );
    assert!(
        script
            .header("cache-control")
            .is_some_and(|cache| cache.contains("max-age=86400"))
    );
    let etag = script.header("etag").expect("an ETag").to_owned();
    let again = request(
        &env,
        "GET",
        "/t.js",
        &[("if-none-match", &etag)],
        Vec::new(),
    );
    assert_eq!(again.status, 304);

    let allowed = request(
        &env,
        "OPTIONS",
        "/e",
        &[
            ("origin", SHOP),
            ("access-control-request-method", "POST"),
            ("user-agent", BROWSER),
        ],
        Vec::new(),
    );
    assert_eq!(allowed.status, 204);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(SHOP));
    let refused = request(
        &env,
        "OPTIONS",
        "/e",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "POST"),
        ],
        Vec::new(),
    );
    assert_eq!(
        (refused.status, refused.error_code()),
        (403, "origin_not_allowed")
    );
    assert_eq!(refused.header("access-control-allow-origin"), None);
    let naming_a_site = |site: &str| {
        let path = format!("/e?site={site}");
        request(&env, "OPTIONS", &path, &[("origin", SHOP)], Vec::new()).status
    };
    assert_eq!(naming_a_site("demo"), 204);
    assert_eq!(naming_a_site("paused"), 403);

    let missing = request(&env, "GET", "/wp-login.php", &[], Vec::new());
    assert_eq!((missing.status, missing.error_code()), (404, "not_found"));
}

fn request_raw(env: &Environment, content_type: &str, body: Vec<u8>) -> support::Answer {
    request(
        env,
        "POST",
        "/e",
        &[
            ("content-type", content_type),
            ("origin", SHOP),
            ("user-agent", BROWSER),
        ],
        body,
    )
}

/// A syntactically fine beacon just over 64 KiB.
fn oversized() -> Vec<u8> {
    let mut body = beacon("demo", "big", "https://shop.example/");
    body["events"][0]["title"] = json!("x".repeat(70 * 1024));
    body.to_string().into_bytes()
}
