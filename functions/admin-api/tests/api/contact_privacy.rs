//! GDPR export and erase (proved by reading every item of the store), and the CSV round trip.

use admin_api::Role;
use axum::http::StatusCode;
use crm_store::repo::codec::decode;
use serde_json::{Value, json};

use crate::behavior::page_views;
use crate::contacts::create;
use crate::support::{TestApp, token_for};

/// Every item as text: keys, attributes and decoded `data` (which may be deflated).
async fn store_text(app: &TestApp) -> Vec<String> {
    app.all_items()
        .await
        .into_iter()
        .map(|item| {
            let data = decode::<Value>(&item)
                .map(|value| value.to_string())
                .unwrap_or_default();
            format!("{item:?} {data}")
        })
        .collect()
}

async fn person_with_history(app: &TestApp) -> String {
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
    id
}

#[tokio::test]
async fn a_personal_data_export_holds_everything_including_web_behavior() {
    let app = TestApp::new().await;
    let id = person_with_history(&app).await;
    let (status, export) = app
        .get(&format!("/api/admin/crm/contacts/{id}/export"))
        .await;
    assert_eq!(status, StatusCode::OK, "{export}");
    let data = &export["data"];
    assert_eq!(data["contact"]["email"], "Ann.Secret@Example.com");
    assert_eq!(data["interactions"].as_array().unwrap().len(), 1);
    assert!(data["timeline"].as_array().unwrap().len() >= 2);
    assert!(data["audit"].as_array().unwrap().len() >= 3);
    let visitor = &data["visitors"][0];
    assert_eq!(visitor["visitor"], "visitor-ann");
    assert_eq!(visitor["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(visitor["raw_events"].as_array().unwrap().len(), 1);
    let rep = token_for("rep", Role::SalesRep);
    assert_eq!(
        app.request(
            "GET",
            &format!("/api/admin/crm/contacts/{id}/export"),
            Some(&rep)
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn erase_leaves_no_trace_of_the_person_anywhere_in_the_store() {
    let app = TestApp::new().await;
    let id = person_with_history(&app).await;
    let secrets = [
        "ann.secret@example.com",
        "annabelle",
        "zyx",
        "visitor-ann",
        id.to_lowercase().as_str(),
    ]
    .map(str::to_owned);
    let before = store_text(&app).await;
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

    for text in store_text(&app).await {
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
    create(&app, json!({"email": "ann.secret@example.com"})).await;
}

#[tokio::test]
async fn contacts_exported_as_csv_import_back_unchanged() {
    let app = TestApp::new().await;
    create(&app, json!({"email": "a@x.io", "first_name": "Ann", "tags": ["vip", "eu"], "lead_score": 80,
                        "health_score": 60, "marketing_consent": true, "custom_fields": {"seats": 12, "plan": "pro, annual"}})).await;
    create(
        &app,
        json!({"email": "b@x.io", "company": "Comma, Inc", "lifecycle_stage": "customer"}),
    )
    .await;
    let export = app
        .send(
            "GET",
            "/api/admin/crm/contacts/export",
            Some(&app.token),
            &[],
            None,
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = export.text.clone();
    assert!(csv.starts_with("email,first_name"), "{csv}");

    let fresh = TestApp::new().await;
    let token = fresh.token.clone();
    let imported = fresh
        .send(
            "POST",
            "/api/admin/crm/contacts/import",
            Some(&token),
            &[],
            Some(("text/csv", csv.clone().into_bytes())),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(imported.body["data"]["created"], 2);
    let again = fresh
        .send(
            "GET",
            "/api/admin/crm/contacts/export",
            Some(&token),
            &[],
            None,
        )
        .await;
    assert_eq!(again.text, csv, "export → import → export is the identity");

    let upsert = fresh
        .send(
            "POST",
            "/api/admin/crm/contacts/import",
            Some(&token),
            &[],
            Some((
                "text/csv",
                b"email,company,lead_score\nA@X.io,Acme,50\nbad,,\nc@x.io,,high\n".to_vec(),
            )),
        )
        .await;
    assert_eq!(upsert.body["data"]["created"], 0, "{}", upsert.text);
    assert_eq!(upsert.body["data"]["updated"], 1);
    let errors = upsert.body["data"]["errors"].as_array().unwrap();
    assert_eq!(
        errors
            .iter()
            .map(|e| e["row"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(errors[1]["details"]["lead_score"].is_array());

    let unknown = fresh
        .send(
            "POST",
            "/api/admin/crm/contacts/import",
            Some(&token),
            &[],
            Some(("text/csv", b"mail\nx\n".to_vec())),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let json_body = fresh
        .admin("POST", "/api/admin/crm/contacts/import", &json!({}))
        .await;
    assert_eq!(json_body.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let rep = token_for("rep", Role::SalesRep);
    assert_eq!(
        fresh
            .request("GET", "/api/admin/crm/contacts/export", Some(&rep))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}
