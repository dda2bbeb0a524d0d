//! Sites (admin only), optimistic concurrency with ETag / If-Match, and the audit log every
//! write lands in.

use admin_api::Role;
use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, token_for};

#[tokio::test]
async fn a_site_is_created_read_updated_and_deleted_with_versions() {
    let app = TestApp::new().await;
    let created = app
        .admin(
            "POST",
            "/api/admin/sites",
            &json!({"id": "shop", "name": "Shop", "allowed_origins": ["https://shop.example"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.etag(), "\"v1\"");
    assert_eq!(created.body["data"]["retention_days"], 90);

    let again = app
        .admin(
            "POST",
            "/api/admin/sites",
            &json!({"id": "shop", "name": "Again"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let read = app
        .send("GET", "/api/admin/sites/shop", Some(&app.token), &[], None)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.etag(), "\"v1\"");

    let token = app.token.clone();
    let patched = app
        .send(
            "PATCH",
            "/api/admin/sites/shop",
            Some(&token),
            &[("If-Match", "\"v1\"")],
            Some(("application/json", br#"{"retention_days": 30}"#.to_vec())),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.etag(), "\"v2\"");
    assert_eq!(patched.body["data"]["retention_days"], 30);

    let stale = app
        .send(
            "PUT",
            "/api/admin/sites/shop",
            Some(&token),
            &[("If-Match", "\"v1\"")],
            Some(("application/json", br#"{"name": "Stale"}"#.to_vec())),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text
    );
    assert_eq!(stale.body["error"]["code"], "PRECONDITION_FAILED");

    let (status, list) = app.get("/api/admin/sites?limit=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let cursor = list["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = app
        .get(&format!("/api/admin/sites?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second["data"][0]["id"], "shop");

    let deleted = app
        .send("DELETE", "/api/admin/sites/shop", Some(&token), &[], None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    let (status, _) = app.get("/api/admin/sites/shop").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, audit) = app
        .get("/api/admin/audit?entity_type=site&entity_id=shop")
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["delete", "update", "create"]);
    let update = &audit["data"][1];
    assert_eq!(update["actor"], "admin-1");
    assert_eq!(update["actor_role"], "admin");
    assert_eq!(
        update["changes"]["retention_days"],
        json!({"before": 90, "after": 30})
    );
}

#[tokio::test]
async fn a_deleted_site_is_gone_from_every_route_and_its_id_may_be_taken_again() {
    let app = TestApp::new().await;
    let site = json!({"id": "shop", "name": "Shop", "allowed_origins": ["https://shop.example"]});
    let created = app.admin("POST", "/api/admin/sites", &site).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let token = app.token.clone();
    let deleted = app
        .send("DELETE", "/api/admin/sites/shop", Some(&token), &[], None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);

    let (_, list) = app.get("/api/admin/sites").await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|site| site["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"shop"), "{ids:?}");
    for (method, uri) in [
        ("DELETE", "/api/admin/sites/shop"),
        ("PATCH", "/api/admin/sites/shop"),
        ("GET", "/api/admin/behavior/dashboard?site=shop"),
    ] {
        let body = (method == "PATCH").then(|| ("application/json", b"{}".to_vec()));
        let answer = app.send(method, uri, Some(&token), &[], body).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            answer.text
        );
    }

    let again = app
        .admin(
            "POST",
            "/api/admin/sites",
            &json!({"id": "shop", "name": "Shop again"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.etag(), "\"v3\"", "after v1 and the deletion's v2");
    let (status, read) = app.get("/api/admin/sites/shop").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["data"]["name"], "Shop again");
    assert_eq!(read["data"]["allowed_origins"], json!([]));
}

#[tokio::test]
async fn invalid_sites_list_every_problem_by_field() {
    let app = TestApp::new().await;
    let reply = app
        .admin(
            "POST",
            "/api/admin/sites",
            &json!({"id": "shop", "name": " ", "retention_days": 0, "allowed_origins": ["ftp://x"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let details = &reply.body["error"]["details"];
    for field in ["name", "retention_days", "allowed_origins"] {
        assert!(details[field].is_array(), "{field}: {}", reply.text);
    }
    let bad_id = app
        .admin(
            "POST",
            "/api/admin/sites",
            &json!({"id": "No Way", "name": "x", "retention_days": 0}),
        )
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    let details = &bad_id.body["error"]["details"];
    assert_eq!(
        details["id"].as_array().unwrap().len(),
        1,
        "{}",
        bad_id.text
    );
    assert!(
        details["retention_days"].is_array(),
        "reported with the id's: {}",
        bad_id.text
    );
}

#[tokio::test]
async fn only_admins_manage_sites_and_read_the_audit_log() {
    let app = TestApp::new().await;
    for role in [Role::SalesManager, Role::SalesRep, Role::CustomerSuccess] {
        let token = token_for("someone", role);
        for (method, uri) in [
            ("GET", "/api/admin/sites"),
            ("GET", "/api/admin/audit"),
            ("DELETE", "/api/admin/sites/demo"),
        ] {
            let (status, body) = app.request(method, uri, Some(&token)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {method} {uri}");
            assert_eq!(body["error"]["code"], "FORBIDDEN");
        }
    }
}

#[tokio::test]
async fn the_audit_log_filters_by_actor_and_pages() {
    let app = TestApp::new().await;
    for id in ["a1", "a2", "a3"] {
        let reply = app
            .admin("POST", "/api/admin/sites", &json!({"id": id, "name": id}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let (status, page) = app.get("/api/admin/audit?actor=admin-1&limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(page["data"][0]["entity_id"], "a3");
    let cursor = page["meta"]["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = app
        .get(&format!(
            "/api/admin/audit?actor=admin-1&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(rest["data"][0]["entity_id"], "a1");
    let (_, nobody) = app.get("/api/admin/audit?actor=nobody").await;
    assert_eq!(nobody["data"].as_array().unwrap().len(), 0);
    let (_, all) = app.get("/api/admin/audit").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    let (status, _) = app.get("/api/admin/audit?entity_type=site").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_refused_write_leaves_neither_a_record_nor_an_audit_entry() {
    let app = TestApp::new().await;
    let before = app.all_items().await.len();
    let reply = app
        .admin(
            "POST",
            "/api/admin/sites",
            &json!({"id": "demo", "name": "dup"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(app.all_items().await.len(), before);
    let reply = app
        .admin(
            "POST",
            "/api/admin/sites",
            &json!({"id": "fresh", "name": "ok"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let items = app.all_items().await;
    assert_eq!(
        items.len(),
        before + 2,
        "the site and its audit entry, nothing else"
    );
    assert!(items.iter().any(|item| item.key.pk == "AUDIT#site#fresh"));
}
