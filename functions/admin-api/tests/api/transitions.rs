//! Lifecycle transitions reach the transitions outbox in the same write as the contact: a
//! manual change, and the automatic one a won deal causes (its lead becomes a customer at once);
//! the relay then publishes them on a queue, each once.

use std::time::Duration;

use axum::http::StatusCode;
use crm_store::queue::Queue;
use crm_store::repo::codec::decode;
use crm_store::repo::crm::outbox::{TransitionMessage, TransitionOutbox};
use crm_store::sqlite::SqliteQueue;
use serde_json::json;

use crate::sales_scenarios::create_deal;
use crate::scenarios::create;
use crate::support::{NOW, TestApp};

async fn pending(app: &TestApp) -> Vec<TransitionMessage> {
    TransitionOutbox::new(app.table.clone())
        .pending(100)
        .await
        .unwrap()
        .iter()
        .map(|item| decode(item).unwrap())
        .collect()
}

async fn relay(app: &TestApp) -> Vec<TransitionMessage> {
    let queue = SqliteQueue::in_memory("transitions", None).unwrap();
    let report = TransitionOutbox::new(app.table.clone())
        .relay(&queue, 100)
        .await
        .unwrap();
    assert_eq!(report.failed, 0);
    let mut received = Vec::new();
    loop {
        let batch = queue
            .receive(10, Duration::from_secs(30), Duration::ZERO)
            .await
            .unwrap();
        if batch.is_empty() {
            return received;
        }
        received.extend(
            batch
                .iter()
                .map(|message| serde_json::from_str(&message.body).unwrap()),
        );
    }
}

#[tokio::test]
async fn a_manual_stage_change_is_committed_with_its_outbox_message_and_relayed_once() {
    let app = TestApp::new().await;
    let contact = create(&app, json!({"email": "a@x.io"})).await;
    let id = contact["id"].as_str().unwrap();
    let changed = app
        .admin(
            "PUT",
            &format!("/api/admin/crm/contacts/{id}/lifecycle"),
            &json!({"stage": "customer", "reason": "signed the contract"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);

    // Created as a lead, then moved by hand: two transitions, oldest first.
    let queued = pending(&app).await;
    let moves: Vec<_> = queued.iter().map(|m| (m.from, m.to)).collect();
    use crm_domain::contacts::LifecycleStage::{Customer, Lead};
    assert_eq!(moves, vec![(None, Lead), (Some(Lead), Customer)]);
    let manual = &queued[1];
    assert_eq!(
        (
            manual.contact_id.as_str(),
            manual.rule,
            manual.reason.as_str()
        ),
        (id, None, "signed the contract")
    );
    assert_eq!((manual.actor.as_str(), manual.at), ("admin-1", NOW));
    let (_, lifecycle) = app
        .get(&format!("/api/admin/crm/contacts/{id}/lifecycle"))
        .await;
    let ids: Vec<&str> = lifecycle["data"]["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&manual.id.as_str()), "{lifecycle}");

    let published = relay(&app).await;
    assert_eq!(published, queued);
    assert!(pending(&app).await.is_empty());
    assert!(relay(&app).await.is_empty(), "each message is sent once");
}

#[tokio::test]
async fn winning_a_deal_makes_its_lead_a_customer_at_once_with_a_health_score() {
    let app = TestApp::new().await;
    let contact = create(&app, json!({"email": "b@x.io", "company": "Acme"})).await;
    let id = contact["id"].as_str().unwrap();
    let deal = create_deal(
        &app,
        &app.token,
        json!({"title": "Pilot", "amount": "1000.00", "currency": "EUR", "contact_id": id}),
    )
    .await;
    let won = app
        .admin(
            "POST",
            &format!("/api/admin/crm/deals/{}/win", deal["id"].as_str().unwrap()),
            &json!({}),
        )
        .await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.text);

    let (_, stored) = app.get(&format!("/api/admin/crm/contacts/{id}")).await;
    assert_eq!(stored["data"]["lifecycle_stage"], "customer", "{stored}");
    // No usage or relationship yet, no trouble, one win: 0 + 25 + 69.7 × 0.2 + 0 = 38.9.
    assert_eq!(stored["data"]["health_score"], 39);
    let automatic: Vec<TransitionMessage> = pending(&app)
        .await
        .into_iter()
        .filter(|message| message.rule.is_some())
        .collect();
    assert_eq!(automatic.len(), 1, "{automatic:?}");
    assert_eq!(automatic[0].rule, Some(crm_domain::engine::Rule::DealWon));
    assert_eq!(automatic[0].actor, "system");
    assert_eq!(automatic[0].reason, "1 deal(s) won");
    let (_, lifecycle) = app
        .get(&format!("/api/admin/crm/contacts/{id}/lifecycle"))
        .await;
    assert_eq!(
        lifecycle["data"]["transitions"][0]["rule"], "deal_won",
        "{lifecycle}"
    );
    let (_, audit) = app
        .get(&format!(
            "/api/admin/audit?entity_type=contact&entity_id={id}"
        ))
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"lifecycle_transition"), "{actions:?}");
    assert!(actions.contains(&"rescore"), "{actions:?}");

    // Recalculating finds the same: nothing new to write, no second transition.
    let reply = app
        .admin(
            "POST",
            &format!("/api/admin/crm/contacts/{id}/recalculate-score"),
            &json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let data = &reply.body["data"];
    assert_eq!(data["stage"], "customer", "{data}");
    assert_eq!(data["transitions"], json!([]));
    assert_eq!(data["health"]["score"], json!(38.9), "{data}");
    assert_eq!(
        (
            data["health"]["health_score"].clone(),
            data["health"]["risk"].clone()
        ),
        (json!(39), json!("high"))
    );
    assert_eq!(reply.etag(), format!("\"v{}\"", stored["data"]["version"]));
}
