//! End to end through the real `crm-local` binary: beacons in over HTTP, scores out through the
//! admin API, and nothing acknowledged lost across a SIGKILL.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{LocalServer, beacon};

#[test]
fn a_posted_beacon_is_scored_and_readable_through_the_admin_api_within_a_second() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());

    let (status, receipt) = server.post_beacon(&beacon("visitor-a", "s1", 4));
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["accepted"], 4);

    let visitors = server.wait_for(Duration::from_secs(1), |server| {
        let page = server.admin_get("/api/admin/behavior/visitors?site=demo");
        let list = page["data"].as_array().cloned().unwrap_or_default();
        (!list.is_empty()).then_some(list)
    });
    assert_eq!(visitors.len(), 1);
    let visitor = &visitors[0];
    assert_eq!(visitor["events"], 4);
    assert_eq!(visitor["visitor_kind"], "first_party");
    for score in ["engagement", "intent", "friction", "churn_risk"] {
        let value = visitor["scores"][score]
            .as_f64()
            .expect("score is a number");
        assert!((0.0..=100.0).contains(&value), "{score} = {value}");
    }

    let id = visitor["id"].as_str().expect("visitor id");
    let detail = server.admin_get(&format!("/api/admin/behavior/visitors/{id}?site=demo"));
    let sessions = detail["data"]["session_list"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1);
    let session_id = sessions[0]["id"].as_str().expect("session id");
    let session = server.admin_get(&format!(
        "/api/admin/behavior/sessions/{session_id}?site=demo"
    ));
    assert_eq!(session["data"]["visitor"], id);
}

#[test]
fn the_admin_api_refuses_requests_without_a_valid_token() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let (status, body) = server.get_with_token("/api/admin/behavior/visitors?site=demo", None);
    assert_eq!(status, 401);
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    let (status, _) =
        server.get_with_token("/api/admin/behavior/visitors?site=demo", Some("not-a-jwt"));
    assert_eq!(status, 401);
}

#[test]
fn off_route_requests_get_json_errors_like_the_edge_workers() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let (status, body) = server.get_with_token("/e", None);
    assert_eq!(
        (status, &body["error"]["code"]),
        (405, &json!("method_not_allowed"))
    );
    let (status, body) = server.get_with_token("/no-such-page", None);
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    assert_eq!(body["error"]["message"], "no route /no-such-page");
}

#[test]
fn a_preflight_is_allowed_only_for_an_origin_a_live_site_allows_as_at_the_edge() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let shop = json!({"id": "shop", "name": "Shop", "allowed_origins": ["https://shop.example"]});
    let (status, body) = server.admin_send("POST", "/api/admin/sites", &shop);
    assert_eq!(status, 201, "{body}");

    let (status, _, allowed) = server.preflight("/e?site=shop", "https://shop.example");
    assert_eq!(
        (status, allowed.as_deref()),
        (204, Some("https://shop.example"))
    );
    let (status, body, _) = server.preflight("/e?site=shop", "https://evil.example");
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("origin_not_allowed"))
    );
    // Without ?site= any site decides, and the demo site allows every origin…
    let (status, _, _) = server.preflight("/e", "https://evil.example");
    assert_eq!(status, 204);
    // …until it is deleted: then neither its preflight nor its beacons are accepted.
    let (status, body) = server.admin_request("DELETE", "/api/admin/sites/demo");
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = server.preflight("/e", "https://evil.example");
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("origin_not_allowed"))
    );
    let (status, body) = server.post_beacon(&beacon("v-1", "s-1", 1));
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("unknown_site")),
        "{body}"
    );
}

#[test]
fn the_printed_admin_token_works_under_a_past_now() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start_with(data.path(), &["--now", &time_after_days(-30)]);
    let (status, body) = server.get_with_token(
        "/api/admin/behavior/visitors?site=demo",
        Some(&server.token),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn malformed_beacons_get_json_errors_and_do_not_disturb_accepted_ones() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let cases: [(&str, &[u8], u16); 4] = [
        ("text/plain", b"{not json", 400),
        ("text/plain", b"[1,2]", 400),
        ("application/xml", b"<beacon/>", 415),
        ("text/plain", br#"{"v":1,"site":"no-such-site","sid":"s","events":[{"id":"a","t":"page_view","ts":1}]}"#, 403),
    ];
    for (content_type, body, expected) in cases {
        let (status, reply) = server.post_raw(content_type, body);
        assert_eq!(status, expected, "{reply}");
        assert!(reply["error"]["code"].is_string(), "{reply}");
    }
    let oversized = vec![b' '; 70 * 1024];
    let (status, reply) = server.post_raw("text/plain", &oversized);
    assert_eq!(status, 413, "{reply}");

    let (status, _) = server.post_beacon(&beacon("visitor-b", "s1", 2));
    assert_eq!(status, 202);
    server.wait_for(Duration::from_secs(2), |server| {
        let totals = server.admin_get("/api/admin/behavior/dashboard?site=demo");
        (totals["data"]["totals"]["events"] == 2).then_some(())
    });
}

#[test]
fn every_acknowledged_beacon_is_scored_exactly_once_across_a_sigkill() {
    const EVENTS_PER_BEACON: u64 = 3;
    const MAX_BEACONS: u64 = 20_000;
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = LocalServer::start(data.path());

    // Post from one thread while this one kills the server mid-stream.
    let endpoint = server.base_url.clone();
    let poster = std::thread::spawn(move || {
        let mut acknowledged = 0u64;
        for index in 0..MAX_BEACONS {
            let body = beacon(
                &format!("visitor-{index}"),
                "s1",
                EVENTS_PER_BEACON as usize,
            );
            match support::post_json(&endpoint, &body) {
                Ok((202, _)) => acknowledged += 1,
                Ok((status, reply)) => panic!("beacon {index} refused with {status}: {reply}"),
                Err(_) => break, // the server is gone
            }
        }
        acknowledged
    });
    std::thread::sleep(Duration::from_millis(400));
    server.kill();
    let acknowledged = poster.join().expect("poster thread");
    assert!(
        acknowledged > 0,
        "the server was killed before acknowledging anything"
    );
    assert!(
        acknowledged < MAX_BEACONS,
        "every beacon was posted before the kill: not mid-stream"
    );

    let server = LocalServer::start(data.path());
    let visitors = server.wait_for(Duration::from_secs(20), |server| {
        let all = server.all_visitors();
        (all.len() as u64 >= acknowledged).then_some(all)
    });
    // At most one beacon was in flight when the process died: it may or may not have been kept.
    assert!(
        visitors.len() as u64 <= acknowledged + 1,
        "{} visitors for {acknowledged} beacons",
        visitors.len()
    );
    for visitor in &visitors {
        assert_eq!(
            visitor["events"],
            json!(EVENTS_PER_BEACON),
            "double counted: {visitor}"
        );
    }
    let dashboard = server.admin_get("/api/admin/behavior/dashboard?site=demo");
    let total_events = dashboard["data"]["totals"]["events"].as_u64().unwrap_or(0);
    assert_eq!(total_events, visitors.len() as u64 * EVENTS_PER_BEACON);
}

#[test]
fn a_friction_point_is_listed_and_can_be_resolved() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let body = json!({
        "v": 1, "site": "demo", "sid": "s-friction",
        "vid": "visitor-friction", "consent": {"analytics": true},
        "events": [
            {"id": "e1", "t": "page_view", "ts": support::now_ms(), "url": "https://shop.example/pricing"},
            {"id": "e2", "t": "rage_click", "ts": support::now_ms(), "url": "https://shop.example/pricing",
             "props": {"selector": "div.price-card", "tag": "div", "text": "Pro", "count": 4}}
        ]
    });
    let (status, _) = server.post_beacon(&body);
    assert_eq!(status, 202);
    let points: Vec<Value> = server.wait_for(Duration::from_secs(2), |server| {
        let page = server.admin_get("/api/admin/behavior/friction-points?site=demo");
        page["data"]
            .as_array()
            .filter(|points| !points.is_empty())
            .cloned()
    });
    assert_eq!(points[0]["kind"], "rage_click");
    assert_eq!(points[0]["element"], "div.price-card");
    let id = points[0]["id"].as_str().expect("friction point id");
    let (status, resolved) = server.admin_request(
        "PATCH",
        &format!("/api/admin/behavior/friction-points/{id}/resolve?site=demo"),
    );
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["data"]["resolved"], true);
}

#[test]
fn the_retention_job_removes_raw_events_once_the_site_keeps_them_no_longer() {
    let data = tempfile::tempdir().expect("temp dir");
    let server = LocalServer::start(data.path());
    let (status, _) = server.post_beacon(&beacon("visitor-old", "s1", 2));
    assert_eq!(status, 202);
    server.wait_for(Duration::from_secs(2), |server| {
        let page = server.admin_get("/api/admin/behavior/visitors?site=demo");
        (!page["data"].as_array()?.is_empty()).then_some(())
    });

    let run_job = |now: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_crm-local"))
            .args(["job", "retention", "--now", now, "--data-dir"])
            .arg(data.path())
            .output()
            .expect("crm-local job runs");
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout
                .lines()
                .all(|line| serde_json::from_str::<Value>(line).is_ok()),
            "stdout holds the JSON reports and nothing else (logs go to stderr):\n{stdout}"
        );
        let removed: u64 = stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|report| report["job"] == "retention")
            .map(|report| report["items_removed"].as_u64().unwrap_or(0))
            .sum();
        removed
    };
    let within_retention = time_after_days(30);
    let past_retention = time_after_days(91);
    assert_eq!(
        run_job(&within_retention),
        0,
        "the demo site keeps raw events 90 days"
    );
    assert_eq!(
        run_job(&past_retention),
        1,
        "one beacon's raw events expire"
    );
    assert_eq!(
        run_job(&past_retention),
        0,
        "a second run finds nothing left"
    );
    // The visitor's profile is not raw data: it stays.
    let page = server.admin_get("/api/admin/behavior/visitors?site=demo");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(1));
}

fn time_after_days(days: i64) -> String {
    let moment = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    moment
        .format(&time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 instant")
}
