//! GDPR export and erase (proved by reading every item of the store), and the CSV round trip.

use admin_api::Role;
use axum::http::StatusCode;
use serde_json::json;

use crate::contacts::create;
use crate::scenarios::{self, person_with_history};
use crate::segment_scenarios::create_segment;
use crate::support::{TestApp, token_for};

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
    scenarios::erase_leaves_no_trace(&TestApp::new().await).await;
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

#[tokio::test]
async fn a_segment_is_exported_file_by_file_with_its_members_only() {
    let app = TestApp::new().await;
    let mut ids = Vec::new();
    for email in ["a@x.io", "b@x.io", "c@x.io"] {
        let contact = create(&app, json!({ "email": email })).await;
        ids.push(contact["id"].as_str().unwrap().to_owned());
    }
    let segment = create_segment(&app, json!({"name": "Renewals", "kind": "static"})).await;
    let segment = segment["id"].as_str().unwrap();
    let added = app
        .admin(
            "POST",
            &format!("/api/admin/crm/segments/{segment}/contacts"),
            &json!({ "contact_ids": [ids[2], ids[1]] }),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);

    let export = format!("/api/admin/crm/contacts/export?segment_id={segment}&limit=1");
    let mut uri = export.clone();
    let mut emails = Vec::new();
    for _file in 0..3 {
        let reply = app.send("GET", &uri, Some(&app.token), &[], None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let mut lines = reply.text.lines();
        assert!(
            lines.next().unwrap().starts_with("email,"),
            "{}",
            reply.text
        );
        emails.extend(lines.map(|line| line.split(',').next().unwrap().to_owned()));
        match reply.headers.get("x-next-cursor") {
            Some(cursor) => uri = format!("{export}&cursor={}", cursor.to_str().unwrap()),
            None => break,
        }
    }
    let mut expected = [("b@x.io", &ids[1]), ("c@x.io", &ids[2])];
    expected.sort_by_key(|(_, id)| id.as_str());
    let expected: Vec<&str> = expected.iter().map(|(email, _)| *email).collect();
    assert_eq!(
        emails, expected,
        "the members, in membership order, one per file"
    );

    let unknown = app
        .request(
            "GET",
            "/api/admin/crm/contacts/export?segment_id=nope",
            Some(&app.token),
        )
        .await;
    assert_eq!(unknown.0, StatusCode::NOT_FOUND, "{}", unknown.1);
    assert_eq!(unknown.1["error"]["code"], "NOT_FOUND");
}
