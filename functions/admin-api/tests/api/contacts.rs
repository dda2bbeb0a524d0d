//! Contacts: create, read, update with ETags, delete, email uniqueness, list filters, sorts and
//! pagination, and who may do what.

use admin_api::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::scenarios;
pub use crate::scenarios::create;
use crate::support::{TestApp, token_for};

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|contact| contact["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_contact_is_created_read_patched_replaced_and_deleted() {
    scenarios::contact_lifecycle_with_etags(&TestApp::new().await).await;
}

#[tokio::test]
async fn emails_are_unique_case_insensitively_on_create_and_update() {
    scenarios::emails_are_unique(&TestApp::new().await).await;
}

#[tokio::test]
async fn a_visitor_linked_by_hand_belongs_to_one_contact() {
    scenarios::hand_links_claim_their_visitors(&TestApp::new().await).await;
}

#[tokio::test]
async fn invalid_contacts_are_refused_field_by_field() {
    let app = TestApp::new().await;
    let reply = app
        .admin(
            "POST",
            "/api/admin/crm/contacts",
            &json!({"email": "ann at example", "phone": "call me", "lead_score": 101,
                    "linked_visitors": [{"site": "Bad Site", "visitor": "v"}]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for field in ["email", "phone", "lead_score", "linked_visitors[0]"] {
        assert!(
            reply.body["error"]["details"][field].is_array(),
            "{field}: {}",
            reply.text
        );
    }
    for (body, field) in [
        (json!({"first_name": "x"}), "email"),
        (json!({"email": "nope"}), "email"),
        (
            json!({"email": "a@x.io", "lifecycle_stage": "alien"}),
            "lifecycle_stage",
        ),
        (json!({"email": "a@x.io", "colour": "red"}), "body"),
    ] {
        let reply = app.admin("POST", "/api/admin/crm/contacts", &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body["error"]["code"], "VALIDATION_ERROR");
        assert!(
            !reply.body["error"]["details"].is_null(),
            "{field}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn lists_filter_sort_and_page_without_losing_anyone() {
    let app = TestApp::new().await;
    for (index, score) in [30, 90, 10, 70, 50].into_iter().enumerate() {
        let stage = if index % 2 == 0 { "lead" } else { "customer" };
        create(
            &app,
            json!({"email": format!("p{index}@x.io"), "company": format!("Co{index}"),
                   "lead_score": score, "lifecycle_stage": stage, "tags": [format!("t{}", index % 2)],
                   "owner_id": if index < 2 { "rep-1" } else { "rep-2" }}),
        )
        .await;
    }
    let (_, by_score) = app.get("/api/admin/crm/contacts?sort=-lead_score").await;
    assert_eq!(
        ids(&by_score),
        ["p1@x.io", "p3@x.io", "p4@x.io", "p0@x.io", "p2@x.io"]
    );
    let (_, created) = app.get("/api/admin/crm/contacts?sort=created_at").await;
    assert_eq!(
        ids(&created),
        ["p0@x.io", "p1@x.io", "p2@x.io", "p3@x.io", "p4@x.io"]
    );
    let (_, min) = app
        .get("/api/admin/crm/contacts?sort=-lead_score&min_lead_score=50")
        .await;
    assert_eq!(ids(&min), ["p1@x.io", "p3@x.io", "p4@x.io"]);
    let (_, stage) = app
        .get("/api/admin/crm/contacts?lifecycle_stage=customer&sort=created_at")
        .await;
    assert_eq!(ids(&stage), ["p1@x.io", "p3@x.io"]);
    let (_, owner) = app
        .get("/api/admin/crm/contacts?owner_id=rep-1&sort=created_at")
        .await;
    assert_eq!(ids(&owner), ["p0@x.io", "p1@x.io"]);
    let (_, tag) = app
        .get("/api/admin/crm/contacts?tag=T1&sort=created_at")
        .await;
    assert_eq!(ids(&tag), ["p1@x.io", "p3@x.io"]);
    let (_, q) = app.get("/api/admin/crm/contacts?q=co4").await;
    assert_eq!(ids(&q), ["p4@x.io"]);
    let (status, _) = app.get("/api/admin/crm/contacts?segment_id=nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut seen = Vec::new();
    let mut uri = "/api/admin/crm/contacts?limit=2&min_lead_score=20&sort=-updated_at".to_owned();
    loop {
        let (status, page) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page["data"].as_array().unwrap().len() <= 2);
        seen.extend(ids(&page));
        match page["meta"]["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!(
                    "/api/admin/crm/contacts?limit=2&min_lead_score=20&sort=-updated_at&cursor={cursor}"
                )
            }
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["p0@x.io", "p1@x.io", "p3@x.io", "p4@x.io"]);

    for bad in [
        "sort=name",
        "lifecycle_stage=alien",
        "limit=500",
        "cursor=xyz",
        "min_lead_score=101",
    ] {
        let (status, body) = app.get(&format!("/api/admin/crm/contacts?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

#[tokio::test]
async fn sales_reps_update_only_their_own_contacts_and_never_delete() {
    let app = TestApp::new().await;
    let rep = token_for("rep-1", Role::SalesRep);
    let own = app
        .json(
            "POST",
            "/api/admin/crm/contacts",
            &rep,
            &json!({"email": "own@x.io"}),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    assert_eq!(own.body["data"]["owner_id"], "rep-1");
    let own_uri = format!(
        "/api/admin/crm/contacts/{}",
        own.body["data"]["id"].as_str().unwrap()
    );
    let theirs = create(&app, json!({"email": "theirs@x.io", "owner_id": "rep-2"})).await;
    let their_uri = format!("/api/admin/crm/contacts/{}", theirs["id"].as_str().unwrap());

    assert_eq!(
        app.json("PATCH", &own_uri, &rep, &json!({"company": "A"}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.json("PATCH", &their_uri, &rep, &json!({"company": "A"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.request("GET", &their_uri, Some(&rep)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.request("DELETE", &own_uri, Some(&rep)).await.0,
        StatusCode::FORBIDDEN
    );

    let success = token_for("cs-1", Role::CustomerSuccess);
    assert_eq!(
        app.json("PATCH", &their_uri, &success, &json!({"health_score": 35}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.json("PATCH", &their_uri, &success, &json!({"company": "B"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.json(
            "POST",
            "/api/admin/crm/contacts",
            &success,
            &json!({"email": "n@x.io"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let manager = token_for("m-1", Role::SalesManager);
    assert_eq!(
        app.json("PATCH", &their_uri, &manager, &json!({"company": "C"}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.request("POST", &format!("{their_uri}/erase"), Some(&manager))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.request("DELETE", &their_uri, Some(&manager)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn contact_writes_are_audited_with_changed_fields() {
    let app = TestApp::new().await;
    let created = create(&app, json!({"email": "a@x.io", "company": "A"})).await;
    let id = created["id"].as_str().unwrap();
    app.admin(
        "PATCH",
        &format!("/api/admin/crm/contacts/{id}"),
        &json!({"company": "B"}),
    )
    .await;
    let (_, audit) = app
        .get(&format!(
            "/api/admin/audit?entity_type=contact&entity_id={id}"
        ))
        .await;
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "update");
    assert_eq!(
        entries[0]["changes"],
        json!({"company": {"before": "A", "after": "B"}})
    );
    assert_eq!(entries[1]["action"], "create");
}

#[tokio::test]
async fn the_list_narrows_to_a_segments_members() {
    let app = TestApp::new().await;
    let ann = create(&app, json!({"email": "ann@x.io", "lead_score": 80})).await;
    let bob = create(&app, json!({"email": "bob@x.io", "lead_score": 20})).await;
    create(&app, json!({"email": "cid@x.io"})).await;
    let segment = app
        .admin(
            "POST",
            "/api/admin/crm/segments",
            &json!({"name": "S", "kind": "static"}),
        )
        .await;
    assert_eq!(segment.status, StatusCode::CREATED, "{}", segment.text);
    let segment_id = segment.body["data"]["id"].as_str().unwrap().to_owned();
    let added = app
        .admin(
            "POST",
            &format!("/api/admin/crm/segments/{segment_id}/contacts"),
            &json!({"contact_ids": [ann["id"], bob["id"]]}),
        )
        .await;
    assert!(added.status.is_success(), "{}", added.text);
    let (_, members) = app
        .get(&format!("/api/admin/crm/contacts?segment_id={segment_id}"))
        .await;
    let mut emails = ids(&members);
    emails.sort();
    assert_eq!(emails, ["ann@x.io", "bob@x.io"]);
    let (_, high) = app
        .get(&format!(
            "/api/admin/crm/contacts?segment_id={segment_id}&min_lead_score=50"
        ))
        .await;
    assert_eq!(ids(&high), ["ann@x.io"]);
}
