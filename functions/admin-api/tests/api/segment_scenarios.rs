//! Segment scenarios that run on every store: refreshing a dynamic segment and listing its
//! members. The SQLite tests (`segments.rs`) call them, and so does the DynamoDB emulator run
//! (`tests/aws_api.rs`). Each stays at tens of items: moto answers a query in ~12 ms.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::sales_scenarios::pages;
use crate::scenarios;
use crate::support::{Reply, TestApp};

const SEGMENTS: &str = "/api/admin/crm/segments";

// ---------------------------------------------------------------------------------------------
// Helpers shared with the SQLite-only tests.

pub async fn create_segment(app: &TestApp, body: Value) -> Value {
    let reply = app.admin("POST", SEGMENTS, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["data"].clone()
}

pub fn lead_score_rules() -> Value {
    json!({"all": [
        {"field": "lead_score", "op": "gte", "value": 70},
        {"any": [
            {"field": "tags", "op": "contains", "value": "vip"},
            {"field": "lifecycle_stage", "op": "in", "value": ["lead", "customer"]}
        ]}
    ]})
}

/// One refresh step of a dynamic segment.
pub async fn refresh(app: &TestApp, id: &str, cursor: Option<&str>) -> Reply {
    let uri = match cursor {
        Some(cursor) => format!("{SEGMENTS}/{id}/refresh?cursor={cursor}"),
        None => format!("{SEGMENTS}/{id}/refresh"),
    };
    app.admin("POST", &uri, &json!({})).await
}

/// Every member id of a segment, page by page (pages of `limit`).
pub async fn member_pages(app: &TestApp, id: &str, limit: usize) -> Vec<Vec<String>> {
    let uri = format!("{SEGMENTS}/{id}/contacts");
    pages(app, &uri, limit)
        .await
        .iter()
        .map(|page| {
            page.iter()
                .map(|member| member["contact_id"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/// A dynamic segment refreshed over a few contacts stores those matching its rules, lists them
/// page by page (and through the contacts list), and drops one that stops matching.
pub async fn a_dynamic_segment_refreshes_its_members(app: &TestApp) {
    let id_of = |contact: Value| contact["id"].as_str().unwrap().to_owned();
    let hot_vip = id_of(
        scenarios::create(
            app,
            json!({"email": "a@example.com", "lead_score": 80, "tags": ["VIP"]}),
        )
        .await,
    );
    let hot_lead =
        id_of(scenarios::create(app, json!({"email": "b@example.com", "lead_score": 70})).await);
    scenarios::create(
        app,
        json!({"email": "c@example.com", "lead_score": 69, "tags": ["vip"]}),
    )
    .await;
    scenarios::create(
        app,
        json!({"email": "d@example.com", "lead_score": 90, "lifecycle_stage": "advocacy"}),
    )
    .await;
    let segment = create_segment(
        app,
        json!({"name": "Hot", "kind": "dynamic", "rules": lead_score_rules()}),
    )
    .await;
    let id = segment["id"].as_str().unwrap();
    assert_eq!(
        member_pages(app, id, 50).await.concat(),
        Vec::<String>::new()
    );

    let first = refresh(app, id, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["meta"]["complete"], true);
    assert_eq!(first.body["meta"]["next_cursor"], Value::Null);
    assert_eq!(
        first.body["data"]["step"],
        json!({"examined": 4, "matched": 2, "added": 2, "removed": 0, "complete": true})
    );
    assert_eq!(first.body["data"]["segment"]["version"], 2);
    assert!(first.body["data"]["segment"]["refreshed_at"].is_string());
    let mut expected = vec![hot_vip.clone(), hot_lead.clone()];
    expected.sort();
    let one_by_one = member_pages(app, id, 1).await;
    assert!(one_by_one.len() >= 2, "{one_by_one:?}");
    assert_eq!(one_by_one[0].len(), 1);
    assert_eq!(one_by_one.concat(), expected);
    let (_, members) = app
        .get(&format!("/api/admin/crm/contacts?segment_id={id}"))
        .await;
    let mut listed: Vec<String> = members["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|contact| contact["id"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, expected, "{members}");

    let unchanged = refresh(app, id, None).await;
    assert_eq!(
        unchanged.body["data"]["step"]["added"], 0,
        "{}",
        unchanged.text
    );
    assert_eq!(unchanged.body["data"]["step"]["removed"], 0);

    let cooled = app
        .admin(
            "PATCH",
            &format!("/api/admin/crm/contacts/{hot_lead}"),
            &json!({"lead_score": 10}),
        )
        .await;
    assert_eq!(cooled.status, StatusCode::OK, "{}", cooled.text);
    // The contact's own write took it out of the segment (the incremental path)...
    assert_eq!(
        member_pages(app, id, 50).await.concat(),
        std::slice::from_ref(&hot_vip)
    );
    // ...so a refresh finds nothing left to change.
    let second = refresh(app, id, None).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(second.body["data"]["step"]["added"], 0);
    assert_eq!(second.body["data"]["step"]["removed"], 0);
    assert_eq!(member_pages(app, id, 50).await.concat(), [hot_vip]);
}
