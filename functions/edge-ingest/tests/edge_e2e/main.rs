//! End to end in the real Workers runtime: tests/edge.sh builds the worker with worker-build,
//! starts it with `wrangler dev --local` (workerd) pointed at the moto SQS emulator, and runs this
//! test once per delivery mode. It posts beacons of every kind, checks the answers, then reads the
//! SQS events queue: exactly the accepted beacons must be there, one message each, anonymized,
//! and the event-scorer must turn them into visitor profiles. One site comes from the `CRM_SITES`
//! variable (`demo`), one from the KV namespace tests/edge.sh fills (`kvshop`).
//!
//! Run by hand: `source tests/aws/moto.sh; source tests/edge.sh`. Without the variables
//! tests/edge.sh sets, the test fails (it never skips).

mod beacons;
mod checks;
mod support;

use std::time::Duration;

use serde_json::json;

use support::{BROWSER, Environment, SHOP, beacon, drain, post_beacon, request};

#[tokio::test]
async fn beacons_reach_sqs_once_each_anonymized_and_are_scored() {
    let env = Environment::from_env();

    // Posted while the SQS queue does not exist yet, so its first send fails. Queue delivery must
    // retry it until SQS accepts it; direct delivery gives up and loses it (the documented
    // trade-off). The consumer's batch timeout is 2 s: after 4 s it has tried.
    let early = post_beacon(&env, &beacon("demo", "early", "https://shop.example/"), &[]);
    assert_eq!(early.status, 202);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let queue = env.events_queue().await;

    beacons::post_accepted(&env);
    beacons::post_refused(&env);

    let mut expected = vec!["chunked", "dnt", "kv", "pii", "valid"];
    if env.queued() {
        expected.push("early");
        expected.sort_unstable();
    }
    // One message per accepted beacon, plus the bot's report.
    let count = expected.len() + 1;
    let received = drain(
        &queue,
        count,
        Duration::from_secs(60),
        Duration::from_secs(5),
    )
    .await;
    let bodies: Vec<&str> = received
        .iter()
        .map(|message| message.body.as_str())
        .collect();
    assert_eq!(
        received.len(),
        count,
        "{} delivery: got {bodies:#?}",
        env.delivery
    );
    let envelopes = checks::envelopes_by_case(&received);
    let mut cases: Vec<&str> = envelopes.keys().map(String::as_str).collect();
    cases.sort_unstable();
    assert_eq!(cases, expected, "{} delivery", env.delivery);
    if env.queued() {
        assert!(env.worker_logged("message not forwarded to SQS; the queue retries it"));
    } else {
        assert!(env.worker_logged("beacon lost: direct send to SQS failed"));
    }
    assert!(env.worker_logged("SQS answered 400: QueueDoesNotExist"));

    checks::anonymized_as_documented(&env, &envelopes);
    checks::scored(&received, &envelopes).await;
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
