//! The decay job against DynamoDB, on a local AWS API emulator (moto): the same scenarios as on
//! SQLite (`tests/decay_scenarios`), with the cursors DynamoDB hands out.
//!
//! Needs the emulator (see `moto_table`):
//!
//! ```text
//! source tests/aws/moto.sh
//! cargo test -p scheduled-jobs --all-features --test aws_decay
//! ```

#![allow(clippy::unwrap_used)]

// Helpers shared with the SQLite tests; not every one is used here.
#[allow(dead_code)]
mod common;
mod decay_scenarios;
mod moto_table;

use moto_table::fresh_table;

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
