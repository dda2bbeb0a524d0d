//! The behavior routes over scored beacons: visitors, dashboard, friction points, pagination.

use axum::http::StatusCode;
use crm_domain::time::Millis;
use serde_json::json;

use crate::support::{NOW, TestApp, envelope, page_views};

#[tokio::test]
async fn a_missing_or_unknown_site_is_a_clear_error() {
    let app = TestApp::new().await;
    let (status, body) = app.get("/api/admin/behavior/visitors").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert!(body["error"]["details"]["site"].is_array());
    let (status, body) = app
        .get("/api/admin/behavior/visitors?site=Not%20A%20Site")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app.get("/api/admin/behavior/visitors?site=elsewhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn bad_paging_parameters_are_rejected_not_crashed_on() {
    let app = TestApp::new().await;
    for uri in [
        "/api/admin/behavior/visitors?site=demo&limit=0",
        "/api/admin/behavior/visitors?site=demo&limit=201",
        "/api/admin/behavior/visitors?site=demo&limit=abc",
        "/api/admin/behavior/visitors?site=demo&cursor=%%%",
        "/api/admin/behavior/visitors?site=demo&cursor=eyJmb28iOiJiYXIifQ",
        "/api/admin/behavior/friction-points?site=demo&cursor=nope",
        "/api/admin/behavior/dashboard?site=demo&days=0",
    ] {
        let (status, body) = app.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["success"], false);
    }
}

#[tokio::test]
async fn unknown_admin_routes_and_records_are_json_404s() {
    let app = TestApp::new().await;
    for uri in [
        "/api/admin/nothing-here",
        "/api/admin/behavior/visitors/nobody?site=demo",
        "/api/admin/behavior/sessions/nothing?site=demo",
    ] {
        let (status, body) = app.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(body["error"]["code"], "NOT_FOUND");
    }
    let (status, _) = app
        .request(
            "PATCH",
            "/api/admin/behavior/friction-points/nothing/resolve?site=demo",
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn visitors_are_listed_newest_first_across_pages() {
    let app = TestApp::new().await;
    let envelopes = (0..7)
        .map(|index| page_views(&format!("v{index}"), &["/", "/pricing"]))
        .collect();
    app.score(envelopes).await;

    let mut seen = Vec::new();
    let mut uri = "/api/admin/behavior/visitors?site=demo&limit=3".to_owned();
    loop {
        let (status, body) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["data"].as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(
            page.iter()
                .map(|visitor| visitor["id"].as_str().unwrap().to_owned()),
        );
        match body["meta"]["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!("/api/admin/behavior/visitors?site=demo&limit=3&cursor={cursor}")
            }
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "every visitor exactly once: {seen:?}");
}

#[tokio::test]
async fn a_visitors_detail_lists_its_hundred_most_recent_sessions_oldest_first() {
    const HOUR: i64 = 3_600_000;
    let app = TestApp::new().await;
    let visits = 105;
    let envelopes = (0..visits)
        .map(|visit| {
            let mut beacon = page_views("loyal", &[&format!("/visit-{visit}")]);
            let received_at = Millis(NOW.0 - (visits - visit) * HOUR);
            beacon.id = format!("msg-{visit}");
            beacon.session = format!("session-{visit}");
            beacon.received_at = received_at;
            beacon.events[0].ts = Millis(received_at.0 - 1_000);
            beacon
        })
        .collect();
    app.score(envelopes).await;

    let (status, body) = app
        .get("/api/admin/behavior/visitors/loyal?site=demo")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let entry_pages: Vec<&str> = body["data"]["session_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|session| session["entry_page"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (5..visits).map(|visit| format!("/visit-{visit}")).collect();
    assert_eq!(entry_pages, expected);
}

#[tokio::test]
async fn the_dashboard_sums_what_the_scorer_folded() {
    let app = TestApp::new().await;
    app.score(vec![
        page_views("a", &["/", "/pricing"]),
        page_views("b", &["/"]),
    ])
    .await;
    let (status, body) = app.get("/api/admin/behavior/dashboard?site=demo").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["totals"]["visitors"], 2);
    assert_eq!(data["totals"]["sessions"], 2);
    assert_eq!(data["totals"]["events"], 3);
    assert_eq!(data["totals"]["page_views"], 3);
    assert_eq!(data["top_pages"][0], json!({"path": "/", "views": 2}));
    assert!(
        data["intent_signals"]["total"].as_u64().unwrap() >= 1,
        "a pricing view is an intent signal"
    );
}

#[tokio::test]
async fn friction_points_are_ranked_and_resolvable() {
    let app = TestApp::new().await;
    let rage = |visitor: &str| {
        envelope(
            visitor,
            json!([
                {"id": "1", "t": "page_view", "ts": NOW.0 - 500, "url": "https://shop.example/pricing", "path": "/pricing"},
                {"id": "2", "t": "rage_click", "ts": NOW.0 - 400, "url": "https://shop.example/pricing", "path": "/pricing",
                 "props": {"selector": "div.card", "tag": "div", "count": 3}},
                {"id": "3", "t": "dead_click", "ts": NOW.0 - 300, "url": "https://shop.example/", "path": "/",
                 "props": {"selector": "span.logo", "tag": "span"}}
            ]),
        )
    };
    app.score(vec![rage("a"), rage("b")]).await;
    let (status, body) = app
        .get("/api/admin/behavior/friction-points?site=demo&limit=1")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert!(body["meta"]["next_cursor"].is_string());
    let first = &body["data"][0];
    let cursor = body["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let (_, second_page) = app
        .get(&format!(
            "/api/admin/behavior/friction-points?site=demo&limit=1&cursor={cursor}"
        ))
        .await;
    let second = &second_page["data"][0];
    assert!(first["count"].as_i64() >= second["count"].as_i64());

    let id = first["id"].as_str().unwrap();
    let (status, resolved) = app
        .request(
            "PATCH",
            &format!("/api/admin/behavior/friction-points/{id}/resolve?site=demo"),
            Some(&app.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["data"]["resolved"], true);
    assert!(resolved["data"]["resolved_at"].is_string());
}
