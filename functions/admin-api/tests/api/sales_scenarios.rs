//! Sales scenarios that run on every store: pipelines, deals with their stage history, the
//! forecast and list pages. The SQLite tests (`sales_pipelines_deals.rs`, `sales_forecast.rs`)
//! call them, and so does the DynamoDB emulator run (`tests/aws_api.rs`); the segment scenarios
//! are in `segment_scenarios.rs`. Each stays at tens of items: moto answers a query in ~12 ms.

use admin_api::Role;
use axum::http::StatusCode;
use crm_domain::time::Millis;
use serde_json::{Value, json};

use crate::scenarios;
use crate::support::{NOW, Reply, TestApp, token_for};

const DAY: i64 = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Helpers shared with the SQLite-only tests.

pub async fn default_pipeline(app: &TestApp) -> Value {
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

pub fn stage_id(pipeline: &Value, name: &str) -> String {
    pipeline["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .unwrap()
}

pub async fn create_deal(app: &TestApp, token: &str, body: Value) -> Value {
    let reply = app.json("POST", "/api/admin/crm/deals", token, &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["data"].clone()
}

/// A request as the admin with `If-Match: etag` (and a JSON body if any).
pub async fn with_if_match(
    app: &TestApp,
    method: &str,
    uri: &str,
    etag: &str,
    body: Option<&Value>,
) -> Reply {
    let token = app.token.clone();
    let body = body.map(|body| ("application/json", body.to_string().into_bytes()));
    app.send(method, uri, Some(&token), &[("If-Match", etag)], body)
        .await
}

/// Every page of a list (`uri` with or without a query), following `next_cursor`.
pub async fn pages(app: &TestApp, uri: &str, limit: usize) -> Vec<Vec<Value>> {
    let separator = if uri.contains('?') { '&' } else { '?' };
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_uri = match &cursor {
            Some(cursor) => format!("{uri}{separator}limit={limit}&cursor={cursor}"),
            None => format!("{uri}{separator}limit={limit}"),
        };
        let (status, body) = app.get(&page_uri).await;
        assert_eq!(status, StatusCode::OK, "{page_uri}: {body}");
        let page = body["data"].as_array().unwrap().clone();
        assert!(page.len() <= limit, "{body}");
        assert_eq!(body["meta"]["count"], page.len(), "{body}");
        pages.push(page);
        match body["meta"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return pages,
        }
        assert!(pages.len() < 20, "pagination does not end");
    }
}

fn titles(pages: &[Vec<Value>]) -> Vec<String> {
    pages
        .concat()
        .iter()
        .map(|deal| deal["title"].as_str().unwrap().to_owned())
        .collect()
}

/// One deal of the forecast fixture, in a stage of the default pipeline.
pub async fn forecast_deal(
    app: &TestApp,
    owner: &str,
    amount: &str,
    currency: &str,
    stage: &str,
    close: &str,
) -> String {
    let pipeline = default_pipeline(app).await;
    let reply = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "F", "amount": amount, "currency": currency,
                    "stage_id": stage_id(&pipeline, stage), "owner_id": owner,
                    "expected_close_date": close}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

/// The worked example of docs/crm-api.md ("Forecast"). The test clock is 2025-11-21, so the
/// deal won now falls in November.
pub async fn forecast_fixture(app: &TestApp) {
    let won = forecast_deal(app, "rep-1", "1000.00", "EUR", "Proposal", "2025-12-20").await;
    let reply = app
        .send(
            "POST",
            &format!("/api/admin/crm/deals/{won}/win"),
            Some(&app.token.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    forecast_deal(app, "rep-1", "200.00", "EUR", "Negotiation", "2025-11-20").await;
    forecast_deal(app, "rep-1", "333.33", "EUR", "Proposal", "2025-11-15").await;
    forecast_deal(app, "rep-1", "10.02", "EUR", "Qualified", "2025-11-30").await;
    let overridden = forecast_deal(app, "rep-1", "100.01", "EUR", "Lead", "2025-11-01").await;
    let reply = app
        .admin(
            "PATCH",
            &format!("/api/admin/crm/deals/{overridden}"),
            &json!({"probability": 60}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    forecast_deal(app, "rep-1", "700.00", "EUR", "Negotiation", "2025-12-01").await;
    forecast_deal(app, "rep-2", "40.00", "GBP", "Negotiation", "2025-11-05").await;
    forecast_deal(app, "rep-1", "25", "JPY", "Proposal", "2025-11-02").await;
    forecast_deal(app, "rep-2", "0.35", "USD", "Proposal", "2025-11-30").await;
}

/// worst_case, commit, best_case, pipeline, weighted of one currency ("-" where absent).
pub fn figures(body: &Value, currency: &str) -> Vec<String> {
    let entry = body["data"]["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency"] == currency)
        .cloned()
        .unwrap_or(Value::Null);
    ["worst_case", "commit", "best_case", "pipeline", "weighted"]
        .iter()
        .map(|k| entry[k].as_str().unwrap_or("-").to_owned())
        .collect()
}

fn currencies(body: &Value) -> Vec<String> {
    body["data"]["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["currency"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/// A new store gets the default pipeline once, even when its first requests race.
pub async fn default_pipeline_exists_once(app: &TestApp) {
    let (first, second, third) = tokio::join!(
        app.get("/api/admin/crm/pipelines"),
        app.get("/api/admin/crm/pipelines"),
        app.get("/api/admin/crm/pipelines"),
    );
    for (status, body) in [&first, &second, &third] {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
        assert_eq!(body["data"][0]["id"], first.1["data"][0]["id"]);
    }
    let pipeline = default_pipeline(app).await;
    assert_eq!(pipeline["name"].as_str().map(str::is_empty), Some(false));
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
    // The seeding is audited once, as the system's.
    let (_, audit) = app.get("/api/admin/audit?actor=system").await;
    let created: Vec<&Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["entity_type"] == "pipeline" && entry["action"] == "create")
        .collect();
    assert_eq!(created.len(), 1, "{audit}");
    assert_eq!(created[0]["entity_id"], pipeline["id"]);
}

/// A pipeline holding a deal is not deleted (409), nor loses the stage holding it; once the
/// deal is gone it is. The default pipeline is never deleted.
pub async fn a_pipeline_holding_deals_is_not_deleted(app: &TestApp) {
    let created = app
        .admin(
            "POST",
            "/api/admin/crm/pipelines",
            &json!({"name": "Partners"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let pipeline = created.body["data"].clone();
    let id = pipeline["id"].as_str().unwrap();
    let deal = create_deal(
        app,
        &app.token.clone(),
        json!({"title": "Reseller", "amount": "10.00", "currency": "EUR", "pipeline_id": id}),
    )
    .await;
    assert_eq!(deal["stage_id"], stage_id(&pipeline, "Lead").as_str());
    let uri = format!("/api/admin/crm/pipelines/{id}");
    let (status, read) = app.get(&uri).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    let counts: Vec<i64> = read["data"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["deal_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [1, 0, 0, 0, 0, 0]);

    let (status, body) = app.request("DELETE", &uri, Some(&app.token.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let only_closed = json!({"name": "Partners", "stages": [
        {"name": "New", "probability": 5},
        {"name": "Won", "probability": 100, "closed_won": true},
        {"name": "Lost", "probability": 0, "closed_lost": true}
    ]});
    let reply = app.admin("PUT", &uri, &only_closed).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    let (status, _) = app.get(&uri).await;
    assert_eq!(status, StatusCode::OK, "the pipeline is still there");

    let deal_uri = format!("/api/admin/crm/deals/{}", deal["id"].as_str().unwrap());
    let (status, _) = app
        .request("DELETE", &deal_uri, Some(&app.token.clone()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.request("DELETE", &uri, Some(&app.token.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.get(&uri).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let default_id = default_pipeline(app).await["id"]
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
    let (_, list) = app.get("/api/admin/crm/pipelines").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

/// A deal moves through stages over days (its history counts the days in each stage), is won;
/// another is lost with a reason, then won; a stale `If-Match` is 412 and changes nothing.
pub async fn a_deal_moves_is_won_and_another_lost(app: &TestApp) {
    let pipeline = default_pipeline(app).await;
    let stage = |name: &str| json!(stage_id(&pipeline, name));
    let day = |n: i64| app.at(Millis(NOW.0 + n * DAY));
    let contact = scenarios::create(app, json!({"email": "buyer@example.com"})).await;
    let contact_id = contact["id"].as_str().unwrap();

    let created = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "Acme", "amount": "1200.50", "currency": "EUR",
                    "contact_id": contact_id, "expected_close_date": "2025-12-01"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.etag(), "\"v1\"");
    let deal = &created.body["data"];
    assert_eq!(deal["amount"], "1200.50");
    assert_eq!(deal["amount_minor"], 120_050);
    assert_eq!(deal["probability"], 10);
    assert_eq!(deal["stage_id"], stage("Lead"));
    let id = deal["id"].as_str().unwrap().to_owned();
    let uri = format!("/api/admin/crm/deals/{id}");

    let later = day(2);
    let moved = with_if_match(
        &later,
        "PATCH",
        &format!("{uri}/stage"),
        "\"v1\"",
        Some(&json!({"stage_id": stage("Qualified")})),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    assert_eq!(moved.etag(), "\"v2\"");
    assert_eq!(moved.body["data"]["probability"], 25);
    assert_eq!(moved.body["data"]["days_in_stage"], 0);

    for (method, path, body) in [
        ("PATCH", uri.clone(), Some(json!({"title": "Late"}))),
        ("POST", format!("{uri}/win"), None),
        (
            "PATCH",
            format!("{uri}/stage"),
            Some(json!({"stage_id": stage("Negotiation")})),
        ),
    ] {
        let stale = with_if_match(&later, method, &path, "\"v1\"", body.as_ref()).await;
        assert_eq!(
            stale.status,
            StatusCode::PRECONDITION_FAILED,
            "{method} {path}: {}",
            stale.text
        );
    }
    let read = later.send("GET", &uri, Some(&app.token), &[], None).await;
    assert_eq!(read.etag(), "\"v2\"", "a stale write changes nothing");
    assert_eq!(read.body["data"]["title"], "Acme");
    assert_eq!(read.body["data"]["stage_id"], stage("Qualified"));

    let moved = with_if_match(
        &day(5),
        "PATCH",
        &format!("{uri}/stage"),
        "\"v2\"",
        Some(&json!({"stage_id": stage("Proposal")})),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let won = with_if_match(&day(6), "POST", &format!("{uri}/win"), "\"v3\"", None).await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.text);
    assert_eq!(won.etag(), "\"v4\"");
    assert_eq!(won.body["data"]["status"], "won");
    assert_eq!(won.body["data"]["probability"], 100);
    assert!(won.body["data"]["closed_at"].is_string());
    let again = day(6)
        .send("POST", &format!("{uri}/win"), Some(&app.token), &[], None)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    let (_, read) = day(8).get(&uri).await;
    assert_eq!(
        read["data"]["days_in_stage"], 2,
        "won on day 6, read on day 8"
    );
    let history: Vec<(Value, Value, Value, Value)> = read["data"]["stage_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["kind"].clone(),
                h["from_stage_id"].clone(),
                h["to_stage_id"].clone(),
                h["days_in_stage"].clone(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            (json!("created"), Value::Null, stage("Lead"), json!(0)),
            (
                json!("stage_changed"),
                stage("Lead"),
                stage("Qualified"),
                json!(2)
            ),
            (
                json!("stage_changed"),
                stage("Qualified"),
                stage("Proposal"),
                json!(3)
            ),
            (
                json!("won"),
                stage("Proposal"),
                stage("Closed Won"),
                json!(1)
            ),
        ]
    );
    assert!(
        read["data"]["stage_history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["by"] == "admin-1")
    );

    // Another deal is lost, with a reason, and later won after all.
    let other = create_deal(
        app,
        &app.token.clone(),
        json!({"title": "Globex", "amount": "99", "currency": "JPY", "stage_id": stage("Proposal")}),
    )
    .await;
    let other_uri = format!("/api/admin/crm/deals/{}", other["id"].as_str().unwrap());
    let no_reason = app
        .admin("POST", &format!("{other_uri}/lose"), &json!({}))
        .await;
    assert_eq!(
        no_reason.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_reason.text
    );
    assert!(no_reason.body["error"]["details"]["reason"].is_array());
    let next_day = day(1);
    let lose_uri = format!("{other_uri}/lose");
    let lost = next_day
        .admin("POST", &lose_uri, &json!({"reason": "budget"}))
        .await;
    assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);
    assert_eq!(lost.body["data"]["status"], "lost");
    assert_eq!(lost.body["data"]["lost_reason"], "budget");
    assert_eq!(lost.body["data"]["probability"], 0);
    let again = next_day
        .admin("POST", &lose_uri, &json!({"reason": "budget"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let won = day(3)
        .send(
            "POST",
            &format!("{other_uri}/win"),
            Some(&app.token.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.text);
    let (_, read) = day(3).get(&other_uri).await;
    let history = read["data"]["stage_history"].as_array().unwrap();
    let kinds: Vec<&str> = history
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "lost", "won"]);
    assert_eq!(history[1]["lost_reason"], "budget");
    assert_eq!(history[1]["days_in_stage"], 1);
    assert_eq!(history[1]["from_stage_id"], stage("Proposal"));
    assert_eq!(history[2]["from_stage_id"], stage("Closed Lost"));
    assert_eq!(history[2]["days_in_stage"], 2);

    let (_, by_contact) = app
        .get(&format!("/api/admin/crm/deals?contact_id={contact_id}"))
        .await;
    assert_eq!(by_contact["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_contact["data"][0]["id"], id.as_str());
    let (_, won) = app.get("/api/admin/crm/deals?status=won").await;
    assert_eq!(won["data"].as_array().unwrap().len(), 2);
    let (_, audit) = app
        .get(&format!("/api/admin/audit?entity_type=deal&entity_id={id}"))
        .await;
    let mut actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        ["create", "stage_change", "stage_change", "win"],
        "{audit}"
    );
}

/// The forecast fixture's figures per currency (half-even weighted sums included).
pub async fn forecast_has_the_documented_figures(app: &TestApp) {
    forecast_fixture(app).await;
    let (status, body) = app
        .get("/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(currencies(&body), ["EUR", "GBP", "JPY", "USD"]);
    assert_eq!(
        figures(&body, "EUR"),
        ["1000.00", "1200.00", "1633.34", "1643.36", "1379.18"]
    );
    assert_eq!(
        figures(&body, "GBP"),
        ["0.00", "40.00", "40.00", "40.00", "30.00"]
    );
    // 12.5 yen rounds half-even to 12; 17.5 cents to 18.
    assert_eq!(figures(&body, "JPY"), ["0", "0", "25", "25", "12"]);
    assert_eq!(
        figures(&body, "USD"),
        ["0.00", "0.00", "0.35", "0.35", "0.18"]
    );
}

/// A sales rep gets the forecast of their own deals only; others' is 403 for them.
pub async fn a_sales_rep_forecasts_their_own_deals(app: &TestApp) {
    forecast_fixture(app).await;
    const PERIOD: &str = "/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30";
    let rep2 = token_for("rep-2", Role::SalesRep);
    let (status, body) = app.request("GET", PERIOD, Some(&rep2)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(currencies(&body), ["GBP", "USD"]);
    assert_eq!(
        figures(&body, "USD"),
        ["0.00", "0.00", "0.35", "0.35", "0.18"]
    );
    let (status, _) = app
        .request("GET", &format!("{PERIOD}&owner_id=rep-1"), Some(&rep2))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let rep1 = token_for("rep-1", Role::SalesRep);
    let (_, own) = app.request("GET", PERIOD, Some(&rep1)).await;
    assert_eq!(currencies(&own), ["EUR", "JPY"]);
    assert_eq!(
        figures(&own, "EUR"),
        ["1000.00", "1200.00", "1633.34", "1643.36", "1379.18"]
    );
    let (_, by_owner) = app.get(&format!("{PERIOD}&owner_id=rep-2")).await;
    assert_eq!(figures(&by_owner, "EUR"), ["-", "-", "-", "-", "-"]);
    assert_eq!(
        figures(&by_owner, "GBP"),
        ["0.00", "40.00", "40.00", "40.00", "30.00"]
    );
    let cs = token_for("cs-1", Role::CustomerSuccess);
    let (status, _) = app.request("GET", PERIOD, Some(&cs)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Deal lists page across cursors, whole and filtered by owner (its own index), pipeline (an
/// index prefix) and contact (its links); pipelines list oldest first in one page.
pub async fn deal_and_pipeline_lists_page(app: &TestApp) {
    let pipeline = default_pipeline(app).await;
    let rep = token_for("rep-1", Role::SalesRep);
    for i in 0..7 {
        let token = if i % 2 == 0 {
            rep.clone()
        } else {
            app.token.clone()
        };
        create_deal(
            app,
            &token,
            json!({"title": format!("D{i}"), "amount": "1", "currency": "EUR"}),
        )
        .await;
    }
    let partners = app
        .admin(
            "POST",
            "/api/admin/crm/pipelines",
            &json!({"name": "Partners"}),
        )
        .await;
    assert_eq!(partners.status, StatusCode::CREATED, "{}", partners.text);
    let partners_id = partners.body["data"]["id"].as_str().unwrap().to_owned();
    let contact = scenarios::create(app, json!({"email": "partner@example.com"})).await;
    let contact_id = contact["id"].as_str().unwrap();
    for i in 0..3 {
        create_deal(
            app,
            &app.token.clone(),
            json!({"title": format!("P{i}"), "amount": "2", "currency": "USD",
                   "pipeline_id": partners_id, "contact_id": contact_id}),
        )
        .await;
    }

    // All deals: by pipeline (the default is older), then creation order.
    let all = pages(app, "/api/admin/crm/deals", 4).await;
    assert!(all.len() >= 3, "{all:?}");
    assert_eq!(all[0].len(), 4);
    assert_eq!(
        titles(&all),
        ["D0", "D1", "D2", "D3", "D4", "D5", "D6", "P0", "P1", "P2"]
    );
    let mine = pages(app, "/api/admin/crm/deals?owner_id=rep-1", 3).await;
    assert!(mine.len() >= 2, "{mine:?}");
    assert_eq!(titles(&mine), ["D0", "D2", "D4", "D6"]);
    let in_partners = pages(
        app,
        &format!("/api/admin/crm/deals?pipeline_id={partners_id}"),
        2,
    )
    .await;
    assert!(in_partners.len() >= 2, "{in_partners:?}");
    assert_eq!(titles(&in_partners), ["P0", "P1", "P2"]);
    let of_contact = pages(
        app,
        &format!("/api/admin/crm/deals?contact_id={contact_id}"),
        2,
    )
    .await;
    assert!(of_contact.len() >= 2, "{of_contact:?}");
    assert_eq!(titles(&of_contact), ["P0", "P1", "P2"]);
    let lead = stage_id(&pipeline, "Lead");
    let in_lead = pages(
        app,
        &format!(
            "/api/admin/crm/deals?status=open&stage_id={lead}&pipeline_id={}",
            pipeline["id"].as_str().unwrap()
        ),
        5,
    )
    .await;
    assert_eq!(titles(&in_lead).len(), 7);
    let (_, won) = app.get("/api/admin/crm/deals?status=won").await;
    assert_eq!(won["data"].as_array().unwrap().len(), 0);
    let (status, _) = app.get("/api/admin/crm/deals?status=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Pipelines: a handful, oldest first, one page.
    let third = app
        .admin(
            "POST",
            "/api/admin/crm/pipelines",
            &json!({"name": "Renewals"}),
        )
        .await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.text);
    let (_, list) = app.get("/api/admin/crm/pipelines").await;
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    assert_eq!(names[1..], ["Partners", "Renewals"]);
    assert_eq!(list["data"][0]["id"], pipeline["id"]);
    assert_eq!(list["meta"]["next_cursor"], Value::Null);
}
