//! The Lambda handler invoked in-process with EventBridge Scheduler payloads (the schedule's
//! `Input`, delivered to the function as is).

use lambda_runtime::{Context, LambdaEvent};
use scheduled_jobs::lambda::{PERMANENT_ERROR_TYPE, RETRYABLE_ERROR_TYPE, handle};
use serde_json::{Value, json};

use crate::common::*;
use crate::faults::{AtCheckpoint, CheckpointFault};
use crate::sqlite;

fn event(payload: Value) -> LambdaEvent<Value> {
    LambdaEvent::new(payload, Context::default())
}

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[tokio::test]
async fn the_scheduled_retention_payload_runs_the_job_and_returns_its_counts() {
    let table = sqlite();
    fill_scenario(&table).await;
    let deps = deps_at(table.clone(), NOW);
    let payload = fixture(include_str!("../fixtures/scheduler-retention.json"));

    let report = handle(event(payload), &deps).await.unwrap();

    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        json!({
            "job": "retention",
            "now": NOW.0,
            "budget": 500,
            "sites_visited": 2,
            "visitors_scanned": 4,
            "items_removed": 8,
            "sessions_anonymized": 0,
            "score_changes_removed": 0,
            "contacts_scanned": 0,
            "segments_visited": 0,
            "members_added": 0,
            "members_removed": 0,
            "contacts_rescored": 0,
            "contacts_updated": 0,
            "score_changes_written": 0,
            "transitions_written": 0,
            "transitions_published": 0,
            "sweep_finished": true,
            "cursor_saved": false,
            "superseded": false,
        })
    );
}

#[tokio::test]
async fn a_budget_in_the_payload_bounds_the_run() {
    let table = sqlite();
    fill_scenario(&table).await;
    let deps = deps_at(table.clone(), NOW);
    let payload = fixture(include_str!("../fixtures/scheduler-retention-budget.json"));

    let report = handle(event(payload), &deps).await.unwrap();

    assert_eq!((report.budget, report.visitors_scanned), (3, 3));
    assert!(report.cursor_saved && !report.sweep_finished);
}

#[tokio::test]
async fn the_decay_payload_runs_the_decay_job() {
    let payload = fixture(include_str!("../fixtures/scheduler-decay.json"));
    let report = handle(event(payload), &deps_at(sqlite(), NOW))
        .await
        .unwrap();
    assert_eq!(report.job, scheduled_jobs::JobKind::Decay);
    assert_eq!(report.contacts_rescored, 0);
    assert!(report.sweep_finished);
}

#[tokio::test]
async fn malformed_payloads_fail_permanently_with_the_problem_named() {
    let cases = [
        (json!({"job": "vacuum"}), "unknown variant `vacuum`"),
        (json!({"job": "retention", "budget": 0}), "budget"),
        (
            json!({"job": "retention", "extra": true}),
            "unknown field `extra`",
        ),
        (json!({}), "missing field `job`"),
        (json!("retention"), "invalid type"),
        (Value::Null, "invalid type"),
    ];
    for (payload, problem) in cases {
        let error = handle(event(payload.clone()), &deps_at(sqlite(), NOW))
            .await
            .unwrap_err();
        assert_eq!(error.error_type, PERMANENT_ERROR_TYPE, "{payload}");
        assert!(
            error.error_message.starts_with("invalid job request: ")
                && error.error_message.contains(problem),
            "{payload}: {}",
            error.error_message
        );
    }
}

#[tokio::test]
async fn a_store_outage_fails_as_retryable() {
    let table = sqlite();
    fill_scenario(&table).await;
    let deps = deps_at(CheckpointFault::once(table, AtCheckpoint::Unavailable), NOW);
    let payload = fixture(include_str!("../fixtures/scheduler-retention.json"));

    let error = handle(event(payload), &deps).await.unwrap_err();

    assert_eq!(error.error_type, RETRYABLE_ERROR_TYPE);
    assert!(
        error.error_message.contains("unavailable"),
        "{}",
        error.error_message
    );
}

#[tokio::test]
async fn after_the_job_the_transitions_outbox_is_relayed_to_the_queue() {
    use crm_domain::contacts::{LifecycleStage, Transition};
    use crm_domain::records::Role;
    use crm_store::queue::Queue;
    use crm_store::repo::crm::audit::{Actor, AuditEntry};
    use crm_store::repo::crm::outbox::{TransitionMessage, TransitionOutbox, add_transition};
    use crm_store::repo::crm::{Change, commit};
    use crm_store::sqlite::SqliteQueue;
    use scheduled_jobs::lambda::handle_and_relay;

    let table = sqlite();
    let transition = Transition {
        id: "t-1".to_owned(),
        from: Some(LifecycleStage::Lead),
        to: LifecycleStage::Prospect,
        at: NOW,
        reason: "marked qualified".to_owned(),
        actor: "rep-1".to_owned(),
    };
    let message = TransitionMessage::new("c-1", &transition, None);
    let mut change = Change::new();
    add_transition(&mut change, &message).unwrap();
    let actor = Actor {
        subject: "rep-1".to_owned(),
        role: Role::SalesRep,
    };
    change
        .audit(&AuditEntry::new(
            "a-1".to_owned(),
            NOW,
            &actor,
            "contact",
            "c-1",
            "lifecycle_change",
            &Value::Null,
            &Value::Null,
        ))
        .unwrap();
    commit(table.as_ref(), change).await.unwrap();
    let queue = SqliteQueue::in_memory("transitions", None).unwrap();
    // The frequent schedule's payload: the job itself does nothing, the relay after it publishes.
    let payload = fixture(include_str!("../fixtures/scheduler-transitions.json"));

    let report = handle_and_relay(event(payload), &deps_at(table.clone(), NOW), Some(&queue))
        .await
        .unwrap();

    assert_eq!(report.job, scheduled_jobs::JobKind::Transitions);
    assert_eq!(report.transitions_published, 1);
    assert!(
        TransitionOutbox::new(table)
            .pending(10)
            .await
            .unwrap()
            .is_empty()
    );
    let received = queue
        .receive(
            10,
            std::time::Duration::from_secs(30),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap();
    assert_eq!(received.len(), 1);
    let sent: TransitionMessage = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(sent, message);
}
