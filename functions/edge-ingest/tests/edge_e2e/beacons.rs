//! The beacons the end-to-end test posts, each with the answer the contract promises.

use serde_json::json;

use crate::support::{
    BROWSER, Environment, SHOP, beacon, now_ms, post_beacon, post_chunked, request,
};

/// Posts the beacons that must be accepted and queued; their events' ids start with the case
/// name (`valid`, `kv`, `chunked`, `dnt`, `pii`), which is how the test finds them in SQS. Also
/// a bot's beacon (queued as a bot report) and one whose every event is rejected (queued as
/// nothing).
pub fn post_accepted(env: &Environment) {
    let valid = post_beacon(
        env,
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
        env,
        &beacon("kvshop", "kv", "https://shop.example/blog"),
        &[],
    );
    assert_eq!((kv.status, kv.body["accepted"].clone()), (202, json!(2)));

    // Without `Content-Length` (a chunked body), the body is read as a stream.
    let chunked = beacon("demo", "chunked", "https://shop.example/");
    let chunked = post_chunked(env, chunked.to_string().into_bytes());
    assert_eq!(
        (chunked.status, chunked.body["accepted"].clone()),
        (202, json!(2))
    );

    // Do-Not-Track. Its title holds a character SQS refuses raw (U+FFFE; moto does not check, the
    // unit tests of `sqs_safe_json` do): it is sent escaped and must decode to the same title.
    let mut dnt = beacon("demo", "dnt", "https://shop.example/");
    dnt["events"][0]["title"] = json!("Welcome\u{FFFE}");
    let dnt = post_beacon(env, &dnt, &[("dnt", "1")]);
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
    let pii = post_beacon(env, &pii, &[]);
    assert_eq!((pii.status, pii.body["accepted"].clone()), (202, json!(2)));

    let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    let bot = post_beacon(
        env,
        &beacon("demo", "bot", "https://shop.example/"),
        &[("user-agent", googlebot)],
    );
    assert_eq!(
        (bot.status, bot.body.clone()),
        (202, json!({"accepted": 0, "rejected": []}))
    );

    let mut useless = beacon("demo", "useless", "https://shop.example/");
    useless["events"] = json!([{"id": "x", "t": "teleport", "ts": now_ms()}]);
    let useless = post_beacon(env, &useless, &[]);
    assert_eq!(
        (useless.status, useless.body.clone()),
        (
            202,
            json!({"accepted": 0, "rejected": [{"index": 0, "code": "unknown_type"}]})
        )
    );
}

/// Posts one beacon of every whole-beacon error of the contract; none may be queued.
pub fn post_refused(env: &Environment) {
    let raw = |content_type: &str, body: Vec<u8>| {
        let headers = [
            ("content-type", content_type),
            ("origin", SHOP),
            ("user-agent", BROWSER),
        ];
        request(env, "POST", "/e", &headers, body)
    };
    let refusals = [
        (
            raw("text/plain", b"{\"v\": 1, \"site\": ".to_vec()),
            400,
            "malformed_json",
        ),
        (raw("text/plain", b"[1, 2]".to_vec()), 400, "not_an_object"),
        (raw("text/plain", oversized()), 413, "payload_too_large"),
        (post_chunked(env, oversized()), 413, "payload_too_large"),
        (
            post_chunked(env, b"{\"v\": 1".to_vec()),
            400,
            "malformed_json",
        ),
        (
            raw("application/x-www-form-urlencoded", b"v=1".to_vec()),
            415,
            "unsupported_content_type",
        ),
        (
            post_beacon(env, &json!({"v": 2, "site": "demo"}), &[]),
            422,
            "invalid_beacon",
        ),
        (
            post_beacon(
                env,
                &beacon("nosuchsite", "unknown", "https://x.example/"),
                &[],
            ),
            403,
            "unknown_site",
        ),
        (
            post_beacon(env, &beacon("paused", "paused", "https://x.example/"), &[]),
            403,
            "site_disabled",
        ),
        (
            post_beacon(
                env,
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
}

/// A syntactically fine beacon just over 64 KiB.
fn oversized() -> Vec<u8> {
    let mut body = beacon("demo", "big", "https://shop.example/");
    body["events"][0]["title"] = json!("x".repeat(70 * 1024));
    body.to_string().into_bytes()
}
