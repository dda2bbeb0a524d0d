//! The decay job on SQLite: the scenarios of `tests/decay_scenarios` (the DynamoDB test target
//! runs them unchanged).

use crate::decay_scenarios;
use crate::sqlite;

#[tokio::test]
async fn a_month_without_activity_lowers_the_stored_lead_score_and_records_why() {
    decay_scenarios::a_month_without_activity_lowers_the_stored_lead_score_and_records_why(sqlite()).await;
}

#[tokio::test]
async fn a_small_budget_sweeps_every_contact_once_over_several_runs() {
    decay_scenarios::a_small_budget_sweeps_every_contact_once_over_several_runs(sqlite()).await;
}

#[tokio::test]
async fn a_customer_critical_for_thirty_days_churns_and_the_transition_reaches_the_queue() {
    decay_scenarios::a_customer_critical_for_thirty_days_churns_and_the_transition_reaches_the_queue(sqlite()).await;
}
