//! Scenarios that run on every store: the SQLite tests call them, and so does the DynamoDB
//! emulator run (`tests/aws_api.rs`), so both stores answer the same assertions.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, page_views, token_for};
use admin_api::Role;
use crm_domain::site::SiteId;
use crm_store::repo::crm::identity::IdentityRepo;

pub async fn create(app: &TestApp, body: Value) -> Value {
    let reply = app.admin("POST", "/api/admin/crm/contacts", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["data"].clone()
}

/// Create, read, patch, replace and delete one contact, with ETags and If-Match.
pub async fn contact_lifecycle_with_etags(app: &TestApp) {
    let created = create(
        app,
        json!({"email": "Ann@Example.com", "first_name": "Ann", "tags": ["vip"],
               "custom_fields": {"seats": 12, "plan": "pro", "trial": false}}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "a UUIDv7");
    assert_eq!(created["lifecycle_stage"], "lead");
    assert_eq!(created["owner_id"], "admin-1");
    assert_eq!(created["version"], 1);
    assert_eq!(created["custom_fields"]["seats"], 12);

    let uri = format!("/api/admin/crm/contacts/{id}");
    let read = app.send("GET", &uri, Some(&app.token), &[], None).await;
    assert_eq!(read.etag(), "\"v1\"");

    let token = app.token.clone();
    let body = |value: Value| Some(("application/json", value.to_string().into_bytes()));
    let patched = app
        .send(
            "PATCH",
            &uri,
            Some(&token),
            &[("If-Match", "\"v1\"")],
            body(json!({"company": "Acme", "first_name": null})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.etag(), "\"v2\"");
    assert_eq!(patched.body["data"]["company"], "Acme");
    assert_eq!(patched.body["data"]["first_name"], Value::Null);

    let stale = app
        .send(
            "PUT",
            &uri,
            Some(&token),
            &[("If-Match", "\"v1\"")],
            body(json!({"email": "ann@example.com"})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);

    let replaced = app
        .send(
            "PUT",
            &uri,
            Some(&token),
            &[("If-Match", "\"v2\"")],
            body(json!({"email": "ann@example.com", "last_name": "Lee"})),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.text);
    assert_eq!(
        replaced.body["data"]["company"],
        Value::Null,
        "PUT clears what it leaves out"
    );
    assert_eq!(replaced.body["data"]["tags"], json!([]));

    let deleted = app.send("DELETE", &uri, Some(&token), &[], None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    let (status, _) = app.get(&uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The email is free again.
    create(app, json!({"email": "ann@example.com"})).await;
}

/// Email uniqueness, case-insensitive, on create and on update; a freed email is reusable.
pub async fn emails_are_unique(app: &TestApp) {
    create(app, json!({"email": "ann@example.com"})).await;
    let other = create(app, json!({"email": "bob@example.com"})).await;
    let duplicate = app
        .admin(
            "POST",
            "/api/admin/crm/contacts",
            &json!({"email": "ANN@example.COM"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert!(duplicate.body["error"]["details"]["email"].is_array());
    let uri = format!("/api/admin/crm/contacts/{}", other["id"].as_str().unwrap());
    let taken = app
        .admin("PATCH", &uri, &json!({"email": "Ann@Example.com"}))
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    let renamed = app
        .admin("PATCH", &uri, &json!({"email": "robert@example.com"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    create(app, json!({"email": "bob@example.com"})).await;
}

pub async fn person_with_history(app: &TestApp) -> String {
    app.score(vec![page_views("visitor-ann", &["/", "/pricing"])])
        .await;
    let contact = create(
        app,
        json!({"email": "Ann.Secret@Example.com", "first_name": "Annabelle", "last_name": "Zyx",
               "linked_visitors": [{"site": "demo", "visitor": "visitor-ann"}]}),
    )
    .await;
    let id = contact["id"].as_str().unwrap().to_owned();
    app.admin(
        "PATCH",
        &format!("/api/admin/crm/contacts/{id}"),
        &json!({"company": "Annabelle Inc"}),
    )
    .await;
    app.admin(
        "POST",
        &format!("/api/admin/crm/contacts/{id}/interactions"),
        &json!({"kind": "email", "subject": "hello Annabelle"}),
    )
    .await;
    app.admin(
        "PUT",
        &format!("/api/admin/crm/contacts/{id}/lifecycle"),
        &json!({"stage": "customer", "reason": "Annabelle signed"}),
    )
    .await;
    let deal = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "Annabelle renewal", "amount": "10.00", "currency": "EUR", "contact_id": id}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.text);
    id
}

/// GDPR erase, proved by reading every item of the store afterwards.
pub async fn erase_leaves_no_trace(app: &TestApp) {
    let id = person_with_history(app).await;
    let secrets = [
        "ann.secret@example.com",
        "annabelle",
        "zyx",
        "visitor-ann",
        id.to_lowercase().as_str(),
    ]
    .map(str::to_owned);
    let before = app.all_item_texts().await;
    assert!(
        before
            .iter()
            .any(|text| text.to_lowercase().contains("visitor-ann"))
    );

    let rep = token_for("m", Role::SalesManager);
    assert_eq!(
        app.request(
            "POST",
            &format!("/api/admin/crm/contacts/{id}/erase"),
            Some(&rep)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let erased = app
        .admin(
            "POST",
            &format!("/api/admin/crm/contacts/{id}/erase"),
            &json!({}),
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
    assert_eq!(erased.body["data"]["removed"]["contacts"], 1);

    for text in app.all_item_texts().await {
        let lower = text.to_lowercase();
        for secret in &secrets {
            assert!(
                !lower.contains(secret.as_str()),
                "{secret} survives in {text}"
            );
        }
    }
    let (status, _) = app.get(&format!("/api/admin/crm/contacts/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = app.get("/api/admin/audit?limit=200").await;
    let erase = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "erase")
        .unwrap();
    assert_eq!(erase["actor"], "admin-1");
    assert!(erase["entity_id"].as_str().unwrap().starts_with("erased-"));
    assert_eq!(
        app.admin(
            "POST",
            &format!("/api/admin/crm/contacts/{id}/erase"),
            &json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // The address can be used again.
    create(app, json!({"email": "ann.secret@example.com"})).await;
}

/// The contacts the event path finds for a visitor (through its claim).
async fn claimed_by(app: &TestApp, visitor: &str) -> Vec<String> {
    let site = SiteId::parse("demo").unwrap();
    IdentityRepo::new(app.table.clone())
        .contacts_of_visitors(&[(&site, visitor)])
        .await
        .unwrap()
}

/// Links made by hand claim their visitors: another contact cannot take one (409 on
/// `linked_visitors`), unlinking frees it, and a deleted contact's claim does not hold it.
pub async fn hand_links_claim_their_visitors(app: &TestApp) {
    let link = json!([{"site": "demo", "visitor": "visitor-hal"}]);
    let hal = create(
        app,
        json!({"email": "hal@example.com", "linked_visitors": link}),
    )
    .await;
    let hal_id = hal["id"].as_str().unwrap().to_owned();
    let hal_uri = format!("/api/admin/crm/contacts/{hal_id}");
    assert_eq!(claimed_by(app, "visitor-hal").await, vec![hal_id.clone()]);

    let taken = app
        .admin(
            "POST",
            "/api/admin/crm/contacts",
            &json!({"email": "ivy@example.com", "linked_visitors": link}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
    assert_eq!(taken.body["error"]["code"], "CONFLICT");
    assert!(taken.body["error"]["details"]["linked_visitors"].is_array());
    // Nothing of the refused create was written: the email is still free.
    let ivy = create(app, json!({"email": "ivy@example.com"})).await;
    let ivy_id = ivy["id"].as_str().unwrap().to_owned();
    let ivy_uri = format!("/api/admin/crm/contacts/{ivy_id}");
    let refused = app
        .admin("PATCH", &ivy_uri, &json!({"linked_visitors": link}))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);

    let unlinked = app
        .admin("PATCH", &hal_uri, &json!({"linked_visitors": []}))
        .await;
    assert_eq!(unlinked.status, StatusCode::OK, "{}", unlinked.text);
    assert!(claimed_by(app, "visitor-hal").await.is_empty());
    let moved = app
        .admin("PATCH", &ivy_uri, &json!({"linked_visitors": link}))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(claimed_by(app, "visitor-hal").await, [ivy_id]);

    let (deleted, body) = app.request("DELETE", &ivy_uri, Some(&app.token)).await;
    assert_eq!(deleted, StatusCode::OK, "{body}");
    let relinked = app
        .admin("PATCH", &hal_uri, &json!({"linked_visitors": link}))
        .await;
    assert_eq!(relinked.status, StatusCode::OK, "{}", relinked.text);
    let renamed = app
        .admin("PATCH", &hal_uri, &json!({"company": "Hal Inc"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(claimed_by(app, "visitor-hal").await, [hal_id]);
}
