//! Lifecycle transitions end to end through the real `crm-local` binary: a won deal makes its
//! lead a customer, the running server's relay publishes the transition on the embedded
//! `transitions` queue, and `crm-local job decay` rescores every contact and prints its counts.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::Duration;

use crm_store::queue::Queue;
use crm_store::sqlite::SqliteQueue;
use serde_json::{Value, json};
use support::LocalServer;

/// What the embedded transitions queue holds now (received and left to become visible again).
fn transition_messages(data_dir: &Path) -> Vec<Value> {
    let queue = SqliteQueue::open(&data_dir.join("queue.db"), "transitions", None).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let received = runtime
        .block_on(queue.receive(10, Duration::from_millis(1), Duration::ZERO))
        .unwrap();
    received
        .iter()
        .map(|message| serde_json::from_str(&message.body).unwrap())
        .collect()
}

#[test]
fn a_won_deal_publishes_the_customer_transition_and_the_decay_job_prints_its_counts() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = LocalServer::start(data.path());
    let (status, contact) = server.admin_send(
        "POST",
        "/api/admin/crm/contacts",
        &json!({"email": "ada@acme.test", "company": "Acme"}),
    );
    assert_eq!(status, 201, "{contact}");
    let id = contact["data"]["id"].as_str().unwrap().to_owned();
    let (status, deal) = server.admin_send(
        "POST",
        "/api/admin/crm/deals",
        &json!({"title": "Pilot", "amount": "1000.00", "currency": "EUR", "contact_id": id}),
    );
    assert_eq!(status, 201, "{deal}");
    let deal_id = deal["data"]["id"].as_str().unwrap();
    let (status, won) = server.admin_send(
        "POST",
        &format!("/api/admin/crm/deals/{deal_id}/win"),
        &json!({}),
    );
    assert_eq!(status, 200, "{won}");
    let stage =
        server.admin_get(&format!("/api/admin/crm/contacts/{id}"))["data"]["lifecycle_stage"]
            .clone();
    assert_eq!(stage, "customer");

    // The relay task publishes within about a second.
    let messages = server.wait_for(Duration::from_secs(5), |_| {
        let messages = transition_messages(data.path());
        messages
            .iter()
            .any(|message| message["rule"] == "deal_won")
            .then_some(messages)
    });
    let won_message = messages
        .iter()
        .find(|message| message["rule"] == "deal_won")
        .unwrap();
    assert_eq!(won_message["contact_id"], id.as_str());
    assert_eq!(
        (won_message["from"].clone(), won_message["to"].clone()),
        (json!("lead"), json!("customer"))
    );
    server.kill();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_crm-local"))
        .args([
            "job",
            "decay",
            "--now",
            "2030-01-01T00:00:00Z",
            "--data-dir",
        ])
        .arg(data.path())
        .output()
        .expect("crm-local job runs");
    assert!(output.status.success(), "{output:?}");
    let reports: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let decay: Vec<&Value> = reports.iter().filter(|r| r["job"] == "decay").collect();
    assert_eq!(decay.len(), 1, "{reports:?}");
    assert_eq!(decay[0]["contacts_rescored"], 1);
    assert_eq!(decay[0]["sweep_finished"], true);
    assert!(
        reports.iter().any(|r| r["job"] == "transitions"),
        "{reports:?}"
    );
}
