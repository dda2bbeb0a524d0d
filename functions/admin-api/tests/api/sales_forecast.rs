//! The forecast and pipeline analytics on a fixture with known answers (the worked example of
//! docs/crm-api.md). The test clock is 2025-11-21, so deals won now fall in November.

use axum::http::StatusCode;

use crate::sales_scenarios::{self, forecast_fixture as fixture};
use crate::support::TestApp;

#[tokio::test]
async fn the_forecast_fixture_has_the_documented_figures() {
    sales_scenarios::forecast_has_the_documented_figures(&TestApp::new().await).await;
}

#[tokio::test]
async fn a_sales_rep_gets_the_forecast_of_their_own_deals_only() {
    sales_scenarios::a_sales_rep_forecasts_their_own_deals(&TestApp::new().await).await;
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
