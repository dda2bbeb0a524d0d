//! The forecast and pipeline analytics on a fixture with known answers (the worked example of
//! docs/crm-api.md). The test clock is 2025-11-21, so deals won now fall in November.

use admin_api::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, token_for};

async fn deal(
    app: &TestApp,
    owner: &str,
    amount: &str,
    currency: &str,
    stage: &str,
    close: &str,
) -> String {
    let (_, pipelines) = app.get("/api/admin/crm/pipelines").await;
    let stage_id = pipelines["data"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == stage)
        .map(|s| s["id"].clone())
        .unwrap();
    let reply = app
        .admin(
            "POST",
            "/api/admin/crm/deals",
            &json!({"title": "F", "amount": amount, "currency": currency, "stage_id": stage_id,
                    "owner_id": owner, "expected_close_date": close}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["data"]["id"].as_str().unwrap().to_owned()
}

async fn fixture(app: &TestApp) {
    let won = deal(app, "rep-1", "1000.00", "EUR", "Proposal", "2025-12-20").await;
    let reply = app
        .send(
            "POST",
            &format!("/api/admin/crm/deals/{won}/win"),
            Some(&app.token.clone()),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    deal(app, "rep-1", "200.00", "EUR", "Negotiation", "2025-11-20").await;
    deal(app, "rep-1", "333.33", "EUR", "Proposal", "2025-11-15").await;
    deal(app, "rep-1", "10.02", "EUR", "Qualified", "2025-11-30").await;
    let overridden = deal(app, "rep-1", "100.01", "EUR", "Lead", "2025-11-01").await;
    let reply = app
        .admin(
            "PATCH",
            &format!("/api/admin/crm/deals/{overridden}"),
            &json!({"probability": 60}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    deal(app, "rep-1", "700.00", "EUR", "Negotiation", "2025-12-01").await;
    deal(app, "rep-2", "40.00", "GBP", "Negotiation", "2025-11-05").await;
    deal(app, "rep-1", "25", "JPY", "Proposal", "2025-11-02").await;
    deal(app, "rep-2", "0.35", "USD", "Proposal", "2025-11-30").await;
}

fn figures(body: &Value, currency: &str) -> Vec<String> {
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

#[tokio::test]
async fn the_forecast_fixture_has_the_documented_figures() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let (status, body) = app
        .get("/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
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

#[tokio::test]
async fn a_sales_rep_gets_the_forecast_of_their_own_deals_only() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let rep2 = token_for("rep-2", Role::SalesRep);
    let (status, body) = app
        .request(
            "GET",
            "/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30",
            Some(&rep2),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let currencies: Vec<&str> = body["data"]["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["currency"].as_str().unwrap())
        .collect();
    assert_eq!(currencies, ["GBP", "USD"]);
    let (status, _) = app
        .request(
            "GET",
            "/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30&owner_id=rep-1",
            Some(&rep2),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, by_owner) = app
        .get("/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30&owner_id=rep-2")
        .await;
    assert_eq!(figures(&by_owner, "EUR"), ["-", "-", "-", "-", "-"]);
    let cs = token_for("cs-1", Role::CustomerSuccess);
    let (status, _) = app
        .request(
            "GET",
            "/api/admin/crm/deals/forecast?from=2025-11-01&to=2025-11-30",
            Some(&cs),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_forecast_needs_a_forward_period() {
    let app = TestApp::new().await;
    let (status, body) = app
        .get("/api/admin/crm/deals/forecast?from=2025-11-30&to=2025-11-01")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["details"]["to"].is_array());
    let (status, body) = app.get("/api/admin/crm/deals/forecast?to=2025-11-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["details"]["from"].is_array());
}

#[tokio::test]
async fn pipeline_analytics_count_value_conversion_and_win_rate() {
    let app = TestApp::new().await;
    fixture(&app).await;
    let (status, body) = app.get("/api/admin/crm/analytics/pipeline").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["deal_count"], 9);
    assert_eq!(data["won_count"], 1);
    assert_eq!(data["win_rate"], 100.0);
    assert_eq!(data["average_deal_size"][0]["amount"], "1000.00");
    assert_eq!(data["average_cycle_days"], 0.0);
    let negotiation = &data["stages"][3];
    assert_eq!(negotiation["count"], 3);
    let values: Vec<&str> = negotiation["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["amount"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["900.00", "40.00"]);
}
