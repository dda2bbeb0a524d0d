//! The API scenarios against DynamoDB, on a local AWS API emulator (moto): contact CRUD with
//! ETags, email uniqueness in one transaction, GDPR erase proved by scanning the whole table;
//! and the sales side: the default pipeline, deals through their stages, the forecast, segment
//! refresh and list pages (`api/sales_scenarios.rs` and `api/segment_scenarios.rs`, which the
//! SQLite tests run too).
//!
//! Needs `CRM_TEST_AWS_ENDPOINT` (set by `source tests/aws/moto.sh`; `bash tests/run.sh` does it)
//! and fails, never skips, without it:
//!
//! ```text
//! source tests/aws/moto.sh
//! cargo test -p admin-api --all-features --test aws_api
//! ```
//!
//! Every test creates its own table; scenarios stay at tens of items (moto is slow).

#![allow(clippy::unwrap_used)]

#[path = "api/documented.rs"]
#[allow(dead_code)]
mod documented;
#[path = "api/robustness.rs"]
mod robustness;
#[path = "api/sales_scenarios.rs"]
mod sales_scenarios;
#[path = "api/scenarios.rs"]
mod scenarios;
#[path = "api/segment_scenarios.rs"]
mod segment_scenarios;
#[path = "api/support.rs"]
#[allow(dead_code)]
mod support;

use crm_store::test_support::aws_endpoint as endpoint;
use support::TestApp;

#[tokio::test]
async fn a_contact_is_created_read_patched_replaced_and_deleted_on_dynamodb() {
    scenarios::contact_lifecycle_with_etags(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn emails_are_unique_on_dynamodb() {
    scenarios::emails_are_unique(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn a_visitor_linked_by_hand_belongs_to_one_contact_on_dynamodb() {
    scenarios::hand_links_claim_their_visitors(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn erase_leaves_no_trace_in_the_dynamodb_table() {
    scenarios::erase_leaves_no_trace(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn the_default_pipeline_exists_once_on_dynamodb() {
    sales_scenarios::default_pipeline_exists_once(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn a_pipeline_holding_deals_is_not_deleted_on_dynamodb() {
    sales_scenarios::a_pipeline_holding_deals_is_not_deleted(
        &TestApp::on_dynamodb(&endpoint()).await,
    )
    .await;
}

#[tokio::test]
async fn a_deal_moves_is_won_and_another_lost_on_dynamodb() {
    sales_scenarios::a_deal_moves_is_won_and_another_lost(&TestApp::on_dynamodb(&endpoint()).await)
        .await;
}

#[tokio::test]
async fn the_forecast_has_the_documented_figures_on_dynamodb() {
    sales_scenarios::forecast_has_the_documented_figures(&TestApp::on_dynamodb(&endpoint()).await)
        .await;
}

#[tokio::test]
async fn a_sales_rep_forecasts_their_own_deals_on_dynamodb() {
    sales_scenarios::a_sales_rep_forecasts_their_own_deals(
        &TestApp::on_dynamodb(&endpoint()).await,
    )
    .await;
}

#[tokio::test]
async fn a_dynamic_segment_refreshes_its_members_on_dynamodb() {
    segment_scenarios::a_dynamic_segment_refreshes_its_members(
        &TestApp::on_dynamodb(&endpoint()).await,
    )
    .await;
}

#[tokio::test]
async fn deal_and_pipeline_lists_page_on_dynamodb() {
    sales_scenarios::deal_and_pipeline_lists_page(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn no_generated_request_gets_a_server_error_on_dynamodb() {
    // A quarter of the SQLite run's requests: moto answers a request in milliseconds.
    robustness::no_generated_request_gets_a_server_error(
        &TestApp::on_dynamodb(&endpoint()).await,
        25,
    )
    .await;
}
