//! The decay job against DynamoDB, on a local AWS API emulator (moto): the same scenarios as on
//! SQLite (`tests/decay_scenarios`), with the cursors DynamoDB hands out.
//!
//! Needs `CRM_TEST_AWS_ENDPOINT` (set by `source tests/aws/moto.sh`; `bash tests/run.sh` does it)
//! and fails, never skips, without it:
//!
//! ```text
//! source tests/aws/moto.sh
//! cargo test -p scheduled-jobs --all-features --test aws_decay
//! ```
//!
//! Every test creates its own table, so tests never share state.

#![allow(clippy::unwrap_used)]

// Helpers shared with the SQLite tests; not every one is used here.
#[allow(dead_code)]
mod common;
mod decay_scenarios;

use std::sync::Arc;

use crm_store::dynamodb::{self, DynamoTable, create_table_if_missing};
use crm_store::table::Table;

fn endpoint() -> String {
    match std::env::var("CRM_TEST_AWS_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => panic!(
            "CRM_TEST_AWS_ENDPOINT is not set, so there is no AWS emulator to test against. \
             Run `bash tests/run.sh`, or `source tests/aws/moto.sh` and then \
             `cargo test -p scheduled-jobs --all-features --test aws_decay`."
        ),
    }
}

async fn fresh_table() -> Arc<dyn Table> {
    let client = dynamodb::Client::new(&dynamodb::sdk_config(Some(&endpoint())).await);
    let name = format!("crm-jobs-{}", uuid::Uuid::now_v7().simple());
    let created = create_table_if_missing(&client, &name)
        .await
        .expect("create the table");
    assert!(created, "{name} should not have existed");
    Arc::new(DynamoTable::new(client, name))
}

#[tokio::test]
async fn a_month_without_activity_lowers_the_stored_lead_score_and_records_why() {
    decay_scenarios::a_month_without_activity_lowers_the_stored_lead_score_and_records_why(
        fresh_table().await,
    )
    .await;
}

#[tokio::test]
async fn a_small_budget_sweeps_every_contact_once_over_several_runs() {
    decay_scenarios::a_small_budget_sweeps_every_contact_once_over_several_runs(
        fresh_table().await,
    )
    .await;
}

#[tokio::test]
async fn a_customer_critical_for_thirty_days_churns_and_the_transition_reaches_the_queue() {
    decay_scenarios::a_customer_critical_for_thirty_days_churns_and_the_transition_reaches_the_queue(fresh_table().await).await;
}
