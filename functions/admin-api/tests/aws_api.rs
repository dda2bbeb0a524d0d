//! The contact scenarios against DynamoDB, on a local AWS API emulator (moto): CRUD with ETags,
//! email uniqueness in one transaction, and GDPR erase proved by scanning the whole table.
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

#[path = "api/scenarios.rs"]
mod scenarios;
#[path = "api/support.rs"]
#[allow(dead_code)]
mod support;

use support::TestApp;

fn endpoint() -> String {
    match std::env::var("CRM_TEST_AWS_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => panic!(
            "CRM_TEST_AWS_ENDPOINT is not set, so there is no AWS emulator to test against. \
             Run `bash tests/run.sh`, or `source tests/aws/moto.sh` and then \
             `cargo test -p admin-api --all-features --test aws_api`."
        ),
    }
}

#[tokio::test]
async fn a_contact_is_created_read_patched_replaced_and_deleted_on_dynamodb() {
    scenarios::contact_lifecycle_with_etags(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn emails_are_unique_on_dynamodb() {
    scenarios::emails_are_unique(&TestApp::on_dynamodb(&endpoint()).await).await;
}

#[tokio::test]
async fn erase_leaves_no_trace_in_the_dynamodb_table() {
    scenarios::erase_leaves_no_trace(&TestApp::on_dynamodb(&endpoint()).await).await;
}
