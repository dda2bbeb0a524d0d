//! Pipelines, deals, stage history, the forecast and pipeline analytics over the Router.

use admin_api::Role;
use axum::http::StatusCode;
use serde_json::json;

use crate::sales_scenarios::{self, create_deal};
use crate::support::{TestApp, token_for};

#[tokio::test]
async fn a_new_store_lists_the_default_pipeline_once() {
    sales_scenarios::default_pipeline_exists_once(&TestApp::new().await).await;
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
    sales_scenarios::a_pipeline_holding_deals_is_not_deleted(&TestApp::new().await).await;
}

#[tokio::test]
async fn a_deal_moves_through_stages_and_keeps_its_history() {
    sales_scenarios::a_deal_moves_is_won_and_another_lost(&TestApp::new().await).await;
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

    for (token, expected, message) in [
        (&rep, StatusCode::OK, None),
        (
            &other_rep,
            StatusCode::FORBIDDEN,
            Some("role sales_rep may update only deals it owns"),
        ),
        (
            &success,
            StatusCode::FORBIDDEN,
            Some("role customer_success may not update deals"),
        ),
        (&manager, StatusCode::OK, None),
    ] {
        let reply = app
            .json("PATCH", &uri, token, &json!({"title": "Renamed"}))
            .await;
        assert_eq!(reply.status, expected, "{}", reply.text);
        if let Some(message) = message {
            assert_eq!(reply.body["error"]["message"], message);
        }
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
    sales_scenarios::deal_and_pipeline_lists_page(&TestApp::new().await).await;
}

#[tokio::test]
async fn filters_naming_a_pipeline_or_contact_no_record_has_are_not_found() {
    let app = TestApp::new().await;
    for uri in [
        "/api/admin/crm/deals?pipeline_id=nope",
        "/api/admin/crm/deals?pipeline_id=a%23b",
        "/api/admin/crm/deals?contact_id=a%23b",
        "/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30&pipeline_id=nope",
        "/api/admin/crm/analytics/pipeline?pipeline_id=nope",
    ] {
        let (status, body) = app.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{uri}");
    }
    // A contact id any contact could have lists that contact's deals, even after it was deleted.
    let (status, body) = app.get("/api/admin/crm/deals?contact_id=gone").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]));
}
