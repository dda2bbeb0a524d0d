//! Segments over the Router: static and dynamic segments, rule errors at their path, static
//! members and their pages, `If-Match`, the role matrix, 401 and 404.

use admin_api::Role;
use axum::http::StatusCode;
use crm_store::repo::crm::keys;
use crm_store::table::{Item, Value as Attr};
use serde_json::{Value, json};

use crate::segment_scenarios::{
    self, create_segment as create, lead_score_rules, member_pages, refresh,
};
use crate::support::{Reply, TestApp, token_for};

const SEGMENTS: &str = "/api/admin/crm/segments";

/// Contacts as bare items at their key: the segment routes only check that one exists.
async fn seed_contacts(app: &TestApp, ids: &[&str]) {
    for id in ids {
        let item =
            Item::new(keys::contact(id)).with("data", Attr::S(json!({"id": id}).to_string()));
        app.table.put(item, None).await.unwrap();
    }
}

async fn create_static(app: &TestApp, name: &str) -> String {
    let segment = create(app, json!({"name": name, "kind": "static"})).await;
    segment["id"].as_str().unwrap().to_owned()
}

async fn with_if_match(app: &TestApp, method: &str, uri: &str, etag: &str, body: &Value) -> Reply {
    let token = app.token.clone();
    app.send(
        method,
        uri,
        Some(&token),
        &[("If-Match", etag)],
        Some(("application/json", body.to_string().into_bytes())),
    )
    .await
}

#[tokio::test]
async fn a_static_segment_is_created_read_and_listed_with_its_etag() {
    let app = TestApp::new().await;
    let reply = app
        .admin(
            "POST",
            SEGMENTS,
            &json!({"name": " Key accounts ", "description": "hand picked", "kind": "static"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.etag(), "\"v1\"");
    let created = &reply.body["data"];
    assert_eq!(created["name"], "Key accounts");
    assert_eq!(created["kind"], "static");
    assert_eq!(created["rules"], Value::Null);
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap();

    let read = app
        .send(
            "GET",
            &format!("{SEGMENTS}/{id}"),
            Some(&app.token),
            &[],
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.etag(), "\"v1\"");
    assert_eq!(&read.body["data"], created);

    let (status, list) = app.get(SEGMENTS).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], *id);
}

#[tokio::test]
async fn a_dynamic_segment_keeps_its_rules_and_segments_list_across_pages() {
    let app = TestApp::new().await;
    let dynamic = create(
        &app,
        json!({"name": "Hot leads", "kind": "dynamic", "rules": lead_score_rules()}),
    )
    .await;
    assert_eq!(dynamic["kind"], "dynamic");
    assert_eq!(dynamic["rules"], lead_score_rules());
    assert_eq!(dynamic["refreshed_at"], Value::Null);
    for name in ["b", "c"] {
        create_static(&app, name).await;
    }

    let (_, first) = app.get(&format!("{SEGMENTS}?limit=2")).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["meta"]["next_cursor"].as_str().unwrap();
    let (_, second) = app
        .get(&format!("{SEGMENTS}?limit=2&cursor={cursor}"))
        .await;
    let names: Vec<&Value> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["data"].as_array().unwrap())
        .map(|segment| &segment["name"])
        .collect();
    assert_eq!(names, [&json!("Hot leads"), &json!("b"), &json!("c")]);
    assert_eq!(second["meta"]["next_cursor"], Value::Null);
}

#[tokio::test]
async fn invalid_rules_are_422_naming_every_offending_path() {
    let app = TestApp::new().await;
    let rules = json!({"all": [
        {"field": "lead_score", "op": "gte", "value": 70},
        {"any": [
            {"field": "lead_score", "op": "starts_with", "value": "7"},
            {"field": "shoe_size", "op": "eq", "value": 42}
        ]}
    ]});
    let reply = app
        .admin(
            "POST",
            SEGMENTS,
            &json!({"name": "Broken", "kind": "dynamic", "rules": rules}),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    assert_eq!(reply.body["success"], false);
    assert_eq!(reply.body["error"]["code"], "UNPROCESSABLE");
    let details = reply.body["error"]["details"].as_object().unwrap();
    let op = details["rules.all[1].any[0].op"][0].as_str().unwrap();
    assert!(op.contains("lead_score"), "{op}");
    assert!(
        details.contains_key("rules.all[1].any[1].field"),
        "{details:?}"
    );

    let (_, list) = app.get(SEGMENTS).await;
    assert_eq!(list["data"], json!([]), "nothing is stored");
}

#[tokio::test]
async fn rules_on_a_static_segment_or_none_on_a_dynamic_one_are_refused() {
    let app = TestApp::new().await;
    let static_with_rules = app
        .admin(
            "POST",
            SEGMENTS,
            &json!({"name": "s", "kind": "static", "rules": lead_score_rules()}),
        )
        .await;
    assert_eq!(static_with_rules.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(static_with_rules.body["error"]["details"]["rules"].is_array());

    let dynamic_without = app
        .admin("POST", SEGMENTS, &json!({"name": "d", "kind": "dynamic"}))
        .await;
    assert_eq!(dynamic_without.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dynamic_without.body["error"]["details"]["rules"].is_array());

    let no_kind = app.admin("POST", SEGMENTS, &json!({"name": "n"})).await;
    assert_eq!(no_kind.status, StatusCode::BAD_REQUEST, "{}", no_kind.text);
    assert_eq!(no_kind.body["error"]["code"], "VALIDATION_ERROR");
    assert!(no_kind.body["error"]["details"]["kind"].is_array());

    let unknown = app
        .admin(
            "POST",
            SEGMENTS,
            &json!({"name": "n", "kind": "static", "colour": 1}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
}

#[tokio::test]
async fn a_patch_with_bad_rules_is_422_and_keeps_the_segment() {
    let app = TestApp::new().await;
    let created = create(
        &app,
        json!({"name": "Hot", "kind": "dynamic", "rules": lead_score_rules()}),
    )
    .await;
    let uri = format!("{SEGMENTS}/{}", created["id"].as_str().unwrap());
    let bad = app
        .admin(
            "PATCH",
            &uri,
            &json!({"rules": {"all": [{"field": "lead_score", "op": "gte"}]}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(
        bad.body["error"]["details"]["rules.all[0].value"].is_array(),
        "{}",
        bad.text
    );
    let (_, read) = app.get(&uri).await;
    assert_eq!(read["data"], created);
}

#[tokio::test]
async fn static_members_are_added_paged_and_removed() {
    let app = TestApp::new().await;
    let ids = ["c1", "c2", "c3", "c4", "c5"];
    seed_contacts(&app, &ids).await;
    let id = create_static(&app, "Key accounts").await;
    let members = format!("{SEGMENTS}/{id}/contacts");

    let added = app
        .admin(
            "POST",
            &members,
            &json!({"contact_ids": ["c3", "c1", "c5", "c2", "c4"]}),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    assert_eq!(added.body["data"]["added"].as_array().unwrap().len(), 5);

    let pages = member_pages(&app, &id, 2).await;
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages.concat(), ids, "members in id order, each once");

    let again = app
        .admin("POST", &members, &json!({"contact_ids": ["c1"]}))
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "adding a member twice is harmless"
    );

    let removed = app
        .admin("DELETE", &format!("{members}/c3"), &json!({}))
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);
    assert_eq!(removed.body["data"]["removed"], "c3");
    let absent = app
        .admin("DELETE", &format!("{members}/c3"), &json!({}))
        .await;
    assert_eq!(
        absent.status,
        StatusCode::OK,
        "removing a non-member is harmless"
    );
    assert_eq!(
        member_pages(&app, &id, 50).await.concat(),
        ["c1", "c2", "c4", "c5"]
    );
}

#[tokio::test]
async fn adding_an_unknown_contact_names_it_and_adds_nothing() {
    let app = TestApp::new().await;
    seed_contacts(&app, &["c1"]).await;
    let id = create_static(&app, "Key accounts").await;
    let members = format!("{SEGMENTS}/{id}/contacts");

    let reply = app
        .admin("POST", &members, &json!({"contact_ids": ["c1", "ghost"]}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.body["error"]["details"]["contact_ids[1]"].is_array(),
        "{}",
        reply.text
    );
    assert_eq!(
        member_pages(&app, &id, 50).await.concat(),
        Vec::<String>::new()
    );

    for body in [
        json!({"contact_ids": []}),
        json!({"contact_ids": ["a#b"]}),
        json!({"contact_ids": ["c1", "c1"]}),
        json!({"contact_ids": (0..21).map(|i| format!("c{i}")).collect::<Vec<_>>()}),
    ] {
        let reply = app.admin("POST", &members, &body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.body["error"]["code"], "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn a_dynamic_segments_members_are_not_edited_by_hand() {
    let app = TestApp::new().await;
    seed_contacts(&app, &["c1"]).await;
    let dynamic = create(
        &app,
        json!({"name": "Hot", "kind": "dynamic", "rules": lead_score_rules()}),
    )
    .await;
    let members = format!("{SEGMENTS}/{}/contacts", dynamic["id"].as_str().unwrap());
    let add = app
        .admin("POST", &members, &json!({"contact_ids": ["c1"]}))
        .await;
    assert_eq!(add.status, StatusCode::CONFLICT, "{}", add.text);
    let remove = app
        .admin("DELETE", &format!("{members}/c1"), &json!({}))
        .await;
    assert_eq!(remove.status, StatusCode::CONFLICT, "{}", remove.text);
    let (status, list) = app.get(&members).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_a_current_one_writes() {
    let app = TestApp::new().await;
    let id = create_static(&app, "Key accounts").await;
    let uri = format!("{SEGMENTS}/{id}");

    let updated = with_if_match(
        &app,
        "PATCH",
        &uri,
        "\"v1\"",
        &json!({"name": "Top accounts"}),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.etag(), "\"v2\"");
    assert_eq!(updated.body["data"]["name"], "Top accounts");
    assert_eq!(updated.body["data"]["version"], 2);

    let stale = with_if_match(&app, "PATCH", &uri, "\"v1\"", &json!({"name": "Lost"})).await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text
    );
    assert_eq!(stale.body["error"]["code"], "PRECONDITION_FAILED");
    let stale_delete = with_if_match(&app, "DELETE", &uri, "\"v1\"", &json!({})).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);

    let (_, read) = app.get(&uri).await;
    assert_eq!(read["data"]["name"], "Top accounts");
    let deleted = with_if_match(&app, "DELETE", &uri, "\"v2\"", &json!({})).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
}

#[tokio::test]
async fn deleting_a_segment_removes_it_and_its_memberships() {
    let app = TestApp::new().await;
    seed_contacts(&app, &["c1", "c2"]).await;
    let id = create_static(&app, "Key accounts").await;
    let members = format!("{SEGMENTS}/{id}/contacts");
    app.admin("POST", &members, &json!({"contact_ids": ["c1", "c2"]}))
        .await;

    let deleted = app
        .admin("DELETE", &format!("{SEGMENTS}/{id}"), &json!({}))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let (status, _) = app.get(&format!("{SEGMENTS}/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get(&members).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let left: Vec<String> = app
        .all_items()
        .await
        .iter()
        .map(|item| format!("{} {}", item.key.pk, item.key.sk))
        .filter(|key| key.contains(&id) && !key.contains("AUDIT#"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn an_unknown_segment_is_404_on_every_route() {
    let app = TestApp::new().await;
    seed_contacts(&app, &["c1"]).await;
    let uri = format!("{SEGMENTS}/no-such-segment");
    for (method, path, body) in [
        ("GET", uri.clone(), json!({})),
        ("PATCH", uri.clone(), json!({"name": "x"})),
        ("DELETE", uri.clone(), json!({})),
        ("GET", format!("{uri}/contacts"), json!({})),
        (
            "POST",
            format!("{uri}/contacts"),
            json!({"contact_ids": ["c1"]}),
        ),
        ("DELETE", format!("{uri}/contacts/c1"), json!({})),
    ] {
        let reply = if method == "GET" {
            let (status, body) = app.get(&path).await;
            (status, body)
        } else {
            let reply = app.admin(method, &path, &body).await;
            (reply.status, reply.body)
        };
        assert_eq!(
            reply.0,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            reply.1
        );
        assert_eq!(reply.1["error"]["code"], "NOT_FOUND");
    }
}

#[tokio::test]
async fn segment_routes_need_a_token() {
    let app = TestApp::new().await;
    let id = create_static(&app, "Key accounts").await;
    let uri = format!("{SEGMENTS}/{id}");
    for (method, path) in [
        ("GET", SEGMENTS.to_owned()),
        ("POST", SEGMENTS.to_owned()),
        ("GET", uri.clone()),
        ("PATCH", uri.clone()),
        ("DELETE", uri.clone()),
        ("GET", format!("{uri}/contacts")),
        ("POST", format!("{uri}/contacts")),
        ("DELETE", format!("{uri}/contacts/c1")),
    ] {
        let (status, body) = app.request(method, &path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    }
    let (status, _) = app.get(&uri).await;
    assert_eq!(status, StatusCode::OK, "still there");
}

/// Every segment operation, run as `token` against a fresh static segment (and contact c1).
async fn segment_operations(app: &TestApp, token: &str) -> Vec<(String, StatusCode)> {
    let id = create_static(app, "Role check").await;
    let uri = format!("{SEGMENTS}/{id}");
    let mut outcomes = Vec::new();
    for (method, path, body) in [
        ("GET", SEGMENTS.to_owned(), json!({})),
        (
            "POST",
            SEGMENTS.to_owned(),
            json!({"name": "Mine", "kind": "static"}),
        ),
        ("GET", uri.clone(), json!({})),
        ("PATCH", uri.clone(), json!({"name": "Renamed"})),
        ("GET", format!("{uri}/contacts"), json!({})),
        (
            "POST",
            format!("{uri}/contacts"),
            json!({"contact_ids": ["c1"]}),
        ),
        ("DELETE", format!("{uri}/contacts/c1"), json!({})),
        ("DELETE", uri.clone(), json!({})),
    ] {
        let reply = if method == "GET" {
            app.send(method, &path, Some(token), &[], None).await
        } else {
            app.json(method, &path, token, &body).await
        };
        outcomes.push((format!("{method} {path}"), reply.status));
    }
    outcomes
}

#[tokio::test]
async fn admins_and_sales_managers_manage_segments_other_roles_are_403() {
    let app = TestApp::new().await;
    seed_contacts(&app, &["c1"]).await;
    for (role, allowed) in [
        (Role::Admin, true),
        (Role::SalesManager, true),
        (Role::SalesRep, false),
        (Role::CustomerSuccess, false),
    ] {
        let token = token_for("user-1", role);
        for (operation, status) in segment_operations(&app, &token).await {
            if allowed {
                assert!(status.is_success(), "{role:?} {operation}: {status}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role:?} {operation}");
            }
        }
    }
}

/// Contacts one refresh request reads (`MAX_CONTACTS_PER_REFRESH`, documented in docs/crm-api.md).
const REFRESH_STEP: usize = 500;

async fn create_contact(app: &TestApp, body: Value) -> String {
    let reply = app.admin("POST", "/api/admin/crm/contacts", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn refreshing_a_dynamic_segment_stores_the_matching_contacts() {
    segment_scenarios::a_dynamic_segment_refreshes_its_members(&TestApp::new().await).await;
}

#[tokio::test]
async fn contacts_written_through_the_api_join_and_leave_dynamic_segments_without_a_refresh() {
    let app = TestApp::new().await;
    let hot = create(
        &app,
        json!({"name": "Hot", "kind": "dynamic", "rules": lead_score_rules()}),
    )
    .await;
    let hot = hot["id"].as_str().unwrap();
    let picked = create_static(&app, "Picked").await;
    let members = |segment: String| {
        let app = &app;
        async move { member_pages(app, &segment, 50).await.concat() }
    };

    let warm = create_contact(&app, json!({"email": "w@example.com", "lead_score": 40})).await;
    let keen = create_contact(&app, json!({"email": "k@example.com", "lead_score": 85})).await;
    assert_eq!(members(hot.to_owned()).await, std::slice::from_ref(&keen));

    let reply = app
        .admin(
            "PATCH",
            &format!("/api/admin/crm/contacts/{warm}"),
            &json!({"lead_score": 75}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = app
        .admin(
            "PATCH",
            &format!("/api/admin/crm/contacts/{keen}"),
            &json!({"lead_score": 5}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    assert_eq!(members(hot.to_owned()).await, [warm]);
    assert_eq!(
        members(picked).await,
        Vec::<String>::new(),
        "static: by hand only"
    );
    let unchanged = refresh(&app, hot, None).await;
    assert_eq!(
        (
            &unchanged.body["data"]["step"]["added"],
            &unchanged.body["data"]["step"]["removed"]
        ),
        (&json!(0), &json!(0)),
        "{}",
        unchanged.text
    );
}

#[tokio::test]
async fn a_refresh_over_more_contacts_than_one_step_reads_continues_by_cursor() {
    let app = TestApp::new().await;
    let total = REFRESH_STEP + 3;
    for n in 0..total {
        let score = if n % 2 == 0 { 75 } else { 5 };
        create_contact(
            &app,
            json!({"email": format!("p{n}@example.com"), "lead_score": score, "tags": ["vip"]}),
        )
        .await;
    }
    let segment = create(
        &app,
        json!({"name": "Hot", "kind": "dynamic", "rules": lead_score_rules()}),
    )
    .await;
    let id = segment["id"].as_str().unwrap();

    let first = refresh(&app, id, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body["meta"]["complete"], false);
    assert_eq!(first.body["data"]["step"]["examined"], REFRESH_STEP);
    assert_eq!(first.body["data"]["segment"]["refreshed_at"], Value::Null);
    let cursor = first.body["meta"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();

    let last = refresh(&app, id, Some(&cursor)).await;
    assert_eq!(last.status, StatusCode::OK, "{}", last.text);
    assert_eq!(last.body["meta"]["complete"], true, "{}", last.text);
    assert_eq!(last.body["data"]["step"]["examined"], 3);
    assert!(last.body["data"]["segment"]["refreshed_at"].is_string());
    assert_eq!(
        member_pages(&app, id, 200).await.concat().len(),
        total.div_ceil(2)
    );

    let after_change = refresh(&app, id, Some(&cursor)).await;
    assert_eq!(
        after_change.status,
        StatusCode::CONFLICT,
        "the segment changed since the refresh began: {}",
        after_change.text
    );
    let tampered = refresh(&app, id, Some("garbage")).await;
    assert_eq!(
        tampered.status,
        StatusCode::BAD_REQUEST,
        "{}",
        tampered.text
    );
}

#[tokio::test]
async fn only_dynamic_segments_refresh_and_only_for_segment_managers() {
    let app = TestApp::new().await;
    let static_id = create_static(&app, "Hand picked").await;
    let refused = refresh(&app, &static_id, None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let missing = refresh(&app, "no-such-segment", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .request("POST", &format!("{SEGMENTS}/{static_id}/refresh"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let dynamic = create(
        &app,
        json!({"name": "Hot", "kind": "dynamic", "rules": lead_score_rules()}),
    )
    .await;
    let uri = format!("{SEGMENTS}/{}/refresh", dynamic["id"].as_str().unwrap());
    for (role, expected) in [
        (Role::SalesManager, StatusCode::OK),
        (Role::SalesRep, StatusCode::FORBIDDEN),
        (Role::CustomerSuccess, StatusCode::FORBIDDEN),
    ] {
        let reply = app
            .json("POST", &uri, &token_for("u", role), &json!({}))
            .await;
        assert_eq!(reply.status, expected, "{role:?}: {}", reply.text);
    }
}
