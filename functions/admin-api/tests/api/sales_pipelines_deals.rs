//! Pipelines, deals, stage history, the forecast and pipeline analytics over the Router.

use admin_api::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, token_for};

async fn default_pipeline(app: &TestApp) -> Value {
    let (status, body) = app.get("/api/admin/crm/pipelines").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["is_default"] == true)
        .cloned()
        .unwrap()
}

fn stage_id(pipeline: &Value, name: &str) -> String {
    pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .unwrap()
}

async fn create_deal(app: &TestApp, token: &str, body: Value) -> Value {
    let reply = app.json("POST", "/api/admin/crm/deals", token, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["data"].clone()
}

#[tokio::test]
async fn a_new_store_lists_the_default_pipeline_once() {
    let app = TestApp::new().await;
    let pipeline = default_pipeline(&app).await;
    let stages: Vec<(String, u64)> = pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["probability"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("Lead".to_owned(), 10),
            ("Qualified".to_owned(), 25),
            ("Proposal".to_owned(), 50),
            ("Negotiation".to_owned(), 75),
            ("Closed Won".to_owned(), 100),
            ("Closed Lost".to_owned(), 0)
        ]
    );
    let (_, again) = app.get("/api/admin/crm/pipelines").await;
    assert_eq!(again["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pipelines_are_created_replaced_and_given_stages_with_etags() {
    let app = TestApp::new().await;
    let created = app
        .admin(
            "POST",
            "/api/admin/crm/pipelines",
            &json!({"name": "Renewals"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.etag(), "\"v1\"");
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/admin/crm/pipelines/{id}");

    let added = app
        .send(
            "POST",
            &format!("{uri}/stages"),
            Some(&app.token.clone()),
            &[("If-Match", "\"v1\"")],
            Some((
                "application/json",
                json!({"name": "Demo", "probability": 60})
                    .to_string()
                    .into_bytes(),
            )),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["data"]["stages"][4]["name"], "Demo");
    assert_eq!(added.etag(), "\"v2\"");

    let stale = app
        .send(
            "PUT",
            &uri,
            Some(&app.token.clone()),
            &[("If-Match", "\"v1\"")],
            Some((
                "application/json",
                json!({"name": "Late"}).to_string().into_bytes(),
            )),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text
    );

    let invalid = app
        .admin(
            "PUT",
            &uri,
            &json!({"name": "", "stages": [{"name": "Only", "probability": 120}]}),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST, "{}", invalid.text);
    let details = &invalid.body["error"]["details"];
    assert!(details["name"].is_array(), "{details}");
    assert!(details["stages[0].probability"].is_array(), "{details}");
    assert!(details["stages"].is_array(), "{details}");

    let renamed = app
        .admin("PUT", &uri, &json!({"name": "Renewals 2026"}))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.body["data"]["stages"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn a_pipeline_with_deals_cannot_be_deleted_nor_lose_the_stage_holding_them() {
    let app = TestApp::new().await;
    let created = app
        .admin(
            "POST",
            "/api/admin/crm/pipelines",
            &json!({"name": "Partners"}),
        )
        .await;
    let pipeline = created.body["data"].clone();
    let id = pipeline["id"].as_str().unwrap();
    let deal = create_deal(
        &app,
        &app.token.clone(),
        json!({"title": "Reseller", "amount": "10.00", "currency": "EUR", "pipeline_id": id}),
    )
    .await;
    let uri = format!("/api/admin/crm/pipelines/{id}");
    let (status, body) = app.request("DELETE", &uri, Some(&app.token.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let only_closed = json!({"name": "Partners", "stages": [
        {"name": "New", "probability": 5},
        {"name": "Won", "probability": 100, "closed_won": true},
        {"name": "Lost", "probability": 0, "closed_lost": true}
    ]});
    let reply = app.admin("PUT", &uri, &only_closed).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);

    let deal_uri = format!("/api/admin/crm/deals/{}", deal["id"].as_str().unwrap());
    let (status, _) = app
        .request("DELETE", &deal_uri, Some(&app.token.clone()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.request("DELETE", &uri, Some(&app.token.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let default_id = default_pipeline(&app).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .request(
            "DELETE",
            &format!("/api/admin/crm/pipelines/{default_id}"),
            Some(&app.token.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the default pipeline stays");
}

#[tokio::test]
async fn a_deal_moves_through_stages_and_keeps_its_history() {
    let app = TestApp::new().await;
    let pipeline = default_pipeline(&app).await;
    let deal = create_deal(
        &app,
        &app.token.clone(),
        json!({"title": "Acme", "amount": "1200.50", "currency": "EUR", "expected_close_date": "2025-12-01"}),
    )
    .await;
    assert_eq!(deal["amount"], "1200.50");
    assert_eq!(deal["amount_minor"], 120_050);
    assert_eq!(deal["probability"], 10);
    assert_eq!(deal["stage_id"], stage_id(&pipeline, "Lead").as_str());
    let uri = format!("/api/admin/crm/deals/{}", deal["id"].as_str().unwrap());

    let moved = app
        .admin(
            "PATCH",
            &format!("{uri}/stage"),
            &json!({"stage_id": stage_id(&pipeline, "Proposal")}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.body["data"]["probability"], 50);

    let no_reason = app.admin("POST", &format!("{uri}/lose"), &json!({})).await;
    assert_eq!(
        no_reason.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_reason.text
    );
    assert!(no_reason.body["error"]["details"]["reason"].is_array());

    let lost = app
        .admin("POST", &format!("{uri}/lose"), &json!({"reason": "budget"}))
        .await;
    assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);
    assert_eq!(lost.body["data"]["status"], "lost");
    let again = app
        .admin("POST", &format!("{uri}/lose"), &json!({"reason": "budget"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let won = app
        .send(
            "POST",
            &format!("{uri}/win"),
            Some(&app.token.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.text);
    assert_eq!(won.body["data"]["status"], "won");

    let (_, read) = app.get(&uri).await;
    let history: Vec<(Value, Value, Value)> = read["data"]["stage_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["kind"].clone(),
                h["from_stage_id"].clone(),
                h["to_stage_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (
                json!("created"),
                Value::Null,
                json!(stage_id(&pipeline, "Lead"))
            ),
            (
                json!("stage_changed"),
                json!(stage_id(&pipeline, "Lead")),
                json!(stage_id(&pipeline, "Proposal"))
            ),
            (
                json!("lost"),
                json!(stage_id(&pipeline, "Proposal")),
                json!(stage_id(&pipeline, "Closed Lost"))
            ),
            (
                json!("won"),
                json!(stage_id(&pipeline, "Closed Lost")),
                json!(stage_id(&pipeline, "Closed Won"))
            ),
        ]
    );
    assert_eq!(read["data"]["stage_history"][0]["by"], "admin-1");

    let (_, audit) = app
        .get(&format!(
            "/api/admin/audit?entity_type=deal&entity_id={}",
            deal["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(audit["data"].as_array().map(Vec::len), Some(4), "{audit}");
}

#[tokio::test]
async fn deal_input_is_validated_field_by_field() {
    let app = TestApp::new().await;
    let reply = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "", "amount": "1.234", "currency": "EUR", "expected_close_date": "2025-02-30", "probability": 101}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let details = reply.body["error"]["details"].as_object().unwrap();
    let mut fields: Vec<&str> = details.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["amount", "expected_close_date", "probability", "title"]
    );

    let float = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "x", "amount": 12.5, "currency": "EUR"}),
        )
        .await;
    assert_eq!(
        float.status,
        StatusCode::BAD_REQUEST,
        "amounts are never floats: {}",
        float.text
    );

    let no_contact = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "x", "amount": "1", "currency": "EUR", "contact_id": "nobody"}),
        )
        .await;
    assert_eq!(
        no_contact.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_contact.text
    );
    assert!(no_contact.body["error"]["details"]["contact_id"].is_array());
}

#[tokio::test]
async fn a_stale_if_match_on_a_deal_is_412() {
    let app = TestApp::new().await;
    let deal = create_deal(
        &app,
        &app.token.clone(),
        json!({"title": "A", "amount": "1", "currency": "USD"}),
    )
    .await;
    let uri = format!("/api/admin/crm/deals/{}", deal["id"].as_str().unwrap());
    let body = json!({"title": "B"}).to_string().into_bytes();
    let fresh = app
        .send(
            "PATCH",
            &uri,
            Some(&app.token.clone()),
            &[("If-Match", "\"v1\"")],
            Some(("application/json", body.clone())),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
    assert_eq!(fresh.etag(), "\"v2\"");
    let stale = app
        .send(
            "PATCH",
            &uri,
            Some(&app.token.clone()),
            &[("If-Match", "\"v1\"")],
            Some(("application/json", body)),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.text
    );
}

#[tokio::test]
async fn roles_decide_who_reads_writes_and_deletes_deals() {
    let app = TestApp::new().await;
    let rep = token_for("rep-1", Role::SalesRep);
    let other_rep = token_for("rep-2", Role::SalesRep);
    let manager = token_for("mgr-1", Role::SalesManager);
    let success = token_for("cs-1", Role::CustomerSuccess);

    let own = create_deal(
        &app,
        &rep,
        json!({"title": "Mine", "amount": "5", "currency": "EUR"}),
    )
    .await;
    assert_eq!(own["owner_id"], "rep-1", "a rep's deal is their own");
    let foreign = app
        .json(
            "POST",
            "/api/admin/crm/deals",
            &rep,
            &json!({"title": "x", "amount": "5", "currency": "EUR", "owner_id": "rep-2"}),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let uri = format!("/api/admin/crm/deals/{}", own["id"].as_str().unwrap());

    for (token, expected) in [
        (&rep, StatusCode::OK),
        (&other_rep, StatusCode::FORBIDDEN),
        (&success, StatusCode::FORBIDDEN),
        (&manager, StatusCode::OK),
    ] {
        let reply = app
            .json("PATCH", &uri, token, &json!({"title": "Renamed"}))
            .await;
        assert_eq!(reply.status, expected, "{}", reply.text);
    }
    for token in [&rep, &other_rep, &success, &manager] {
        let (status, _) = app.request("GET", &uri, Some(token)).await;
        assert_eq!(status, StatusCode::OK);
    }
    let cs_create = app
        .json(
            "POST",
            "/api/admin/crm/deals",
            &success,
            &json!({"title": "x", "amount": "1", "currency": "EUR"}),
        )
        .await;
    assert_eq!(cs_create.status, StatusCode::FORBIDDEN);
    for (token, expected) in [
        (&rep, StatusCode::FORBIDDEN),
        (&success, StatusCode::FORBIDDEN),
        (&manager, StatusCode::OK),
    ] {
        let (status, _) = app.request("DELETE", &uri, Some(token)).await;
        assert_eq!(status, expected);
    }
    for (token, expected) in [
        (&rep, StatusCode::FORBIDDEN),
        (&manager, StatusCode::CREATED),
    ] {
        let reply = app
            .json(
                "POST",
                "/api/admin/crm/pipelines",
                token,
                &json!({"name": "P"}),
            )
            .await;
        assert_eq!(reply.status, expected, "{}", reply.text);
    }
    let (status, _) = app
        .request("GET", "/api/admin/crm/analytics/pipeline", Some(&rep))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request("GET", "/api/admin/crm/analytics/pipeline", Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn deal_lists_filter_and_page_across_cursors() {
    let app = TestApp::new().await;
    let pipeline = default_pipeline(&app).await;
    let rep = token_for("rep-1", Role::SalesRep);
    for i in 0..7 {
        let token = if i % 2 == 0 {
            rep.clone()
        } else {
            app.token.clone()
        };
        create_deal(
            &app,
            &token,
            json!({"title": format!("D{i}"), "amount": "1", "currency": "EUR"}),
        )
        .await;
    }
    let mut titles = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/api/admin/crm/deals?limit=3&cursor={c}"),
            None => "/api/admin/crm/deals?limit=3".to_owned(),
        };
        let (status, body) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        titles.extend(
            body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["title"].as_str().unwrap().to_owned()),
        );
        match body["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(titles, ["D0", "D1", "D2", "D3", "D4", "D5", "D6"]);
    assert!(pages >= 3);

    let (_, mine) = app.get("/api/admin/crm/deals?owner_id=rep-1").await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 4);
    let lead = stage_id(&pipeline, "Lead");
    let (_, in_lead) = app
        .get(&format!(
            "/api/admin/crm/deals?status=open&stage_id={lead}&pipeline_id={}",
            pipeline["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(in_lead["data"].as_array().unwrap().len(), 7);
    let (_, won) = app.get("/api/admin/crm/deals?status=won").await;
    assert_eq!(won["data"].as_array().unwrap().len(), 0);
    let (status, _) = app.get("/api/admin/crm/deals?status=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
