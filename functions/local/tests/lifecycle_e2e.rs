//! The engine end to end through the real `crm-local` binary: anonymous visits, an `identify`
//! that makes the visitor a lead, a qualification, a won deal, then time passing (`--now`) for
//! the decay and retention jobs — checked through the admin API, the transitions queue and every
//! item of the store.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crm_store::queue::Queue;
use crm_store::sqlite::SqliteQueue;
use serde_json::{Value, json};
use support::{LocalServer, beacon, now_ms};

const VISITOR: &str = "0b9a3c1e-7d4f-4e2a-9c8b-5f6e7d8c9b0a";
const EMAIL: &str = "Ada.Lovelace@Example.com";

#[test]
fn a_visitor_becomes_a_lead_a_prospect_and_a_customer_and_time_decays_and_expires_what_it_should() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = LocalServer::start(data.path());

    // Two anonymous visits, the second to the pricing page, then the visitor identifies.
    let (status, _) = server.post_beacon(&beacon(VISITOR, "visit-one", 3));
    assert_eq!(status, 202);
    let (status, _) = server.post_beacon(&pricing_visit());
    assert_eq!(status, 202);
    let (status, receipt) = server.post_beacon(&identify());
    assert_eq!(status, 202, "{receipt}");

    // The identify created a lead from the website, linked to the visitor and scored from its
    // visits.
    let contact = server.wait_for(Duration::from_secs(10), |server| {
        let page = server.admin_get("/api/admin/crm/contacts?q=lovelace");
        let contact = page["data"].as_array()?.first()?.clone();
        (contact["lead_score"].as_i64()? > 0).then_some(contact)
    });
    let id = contact["id"].as_str().expect("contact id").to_owned();
    assert_eq!(contact["email"], EMAIL, "{contact}");
    assert_eq!(contact["lifecycle_stage"], "lead", "{contact}");
    assert_eq!(contact["source"], "website", "{contact}");
    let scored_lead = contact["lead_score"].as_i64().expect("lead score");
    let timeline = server.admin_get(&format!("/api/admin/crm/contacts/{id}/timeline"));
    assert!(
        kinds(&timeline).iter().any(|kind| kind == "web_session"),
        "the visitor's sessions are on the contact's timeline: {timeline}"
    );
    assert!(
        kinds(&timeline).iter().any(|kind| kind == "score_change"),
        "the first lead score is recorded as a score change: {timeline}"
    );

    // Qualified by sales: a prospect. Then a deal is won: a customer.
    let (status, body) = server.admin_send(
        "POST",
        &format!("/api/admin/crm/leads/{id}/qualify"),
        &json!({}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, deal) = server.admin_send(
        "POST",
        "/api/admin/crm/deals",
        &json!({"title": "Analytical engine", "amount": "1200.00", "currency": "EUR", "contact_id": id}),
    );
    assert_eq!(status, 201, "{deal}");
    let deal_id = deal["data"]["id"].as_str().expect("deal id");
    let (status, body) = server.admin_send(
        "POST",
        &format!("/api/admin/crm/deals/{deal_id}/win"),
        &json!({}),
    );
    assert_eq!(status, 200, "{body}");
    let customer = server.wait_for(Duration::from_secs(10), |server| {
        let contact = server.admin_get(&format!("/api/admin/crm/contacts/{id}"));
        (contact["data"]["lifecycle_stage"] == "customer").then_some(contact)
    });
    assert!(
        customer["data"]["health_score"].as_i64().is_some(),
        "a customer has a health score: {customer}"
    );

    // Every transition is on the queue, once, in order, and on the timeline.
    let transitions = server.wait_for(Duration::from_secs(10), |_| {
        let messages = transition_messages(data.path());
        (messages.len() >= 3).then_some(messages)
    });
    let steps: Vec<(Value, Value)> = transitions
        .iter()
        .map(|message| (message["from"].clone(), message["to"].clone()))
        .collect();
    assert_eq!(
        steps,
        [
            (Value::Null, json!("lead")),
            (json!("lead"), json!("prospect")),
            (json!("prospect"), json!("customer")),
        ],
        "{transitions:?}"
    );
    assert!(
        transitions
            .iter()
            .all(|message| message["contact_id"] == id)
    );
    let timeline = server.admin_get(&format!("/api/admin/crm/contacts/{id}/timeline"));
    let stage_changes = kinds(&timeline)
        .iter()
        .filter(|kind| *kind == "lifecycle")
        .count();
    assert!(
        stage_changes >= 3,
        "transitions on the timeline: {timeline}"
    );
    server.kill();

    // Sixty days without a visit. A read decays the lead score exactly, before any job ran…
    let later = days_from_now(60);
    let mut server = LocalServer::start_with(data.path(), &["--now", &later]);
    let read_later = server.admin_get(&format!("/api/admin/crm/contacts/{id}"));
    let read_lead = read_later["data"]["lead_score"]
        .as_i64()
        .expect("lead score");
    assert!(
        read_lead < scored_lead,
        "lead score {scored_lead} read as {read_lead} 60 days later"
    );
    server.kill();
    // …and the decay job materializes that same value for lists sorted by score.
    let decay = run_job(data.path(), "decay", &later);
    assert!(
        counted(&decay, "decay", "contacts_rescored") >= 1,
        "{decay:?}"
    );
    let mut server = LocalServer::start_with(data.path(), &["--now", &later]);
    let decayed = server.admin_get(&format!("/api/admin/crm/contacts/{id}"));
    let decayed_lead = decayed["data"]["lead_score"].as_i64().expect("lead score");
    assert_eq!(
        decayed_lead, read_lead,
        "the decay job stores what a read computed"
    );
    let sorted = server.admin_get("/api/admin/crm/contacts?sort=-lead_score");
    assert_eq!(
        sorted["data"][0]["lead_score"],
        json!(read_lead),
        "{sorted}"
    );
    assert_eq!(
        decayed["data"]["lifecycle_stage"], "customer",
        "decay never moves a stage backwards"
    );
    server.kill();

    // Past the raw events' 90 days: they are gone, the contact and its deal are not.
    let expired = days_from_now(91);
    run_job(data.path(), "retention", &expired);
    let dump = dump(data.path());
    assert!(
        !dump.lines().any(|line| line.contains("\"E#")),
        "raw events remain after their retention"
    );
    let server = LocalServer::start_with(data.path(), &["--now", &expired]);
    let contact = server.admin_get(&format!("/api/admin/crm/contacts/{id}"));
    assert_eq!(contact["data"]["lifecycle_stage"], "customer");
    let deal = server.admin_get(&format!("/api/admin/crm/deals/{deal_id}"));
    assert_eq!(deal["data"]["status"], "won");
}

fn pricing_visit() -> Value {
    let now = now_ms();
    json!({"v": 1, "site": "demo", "sid": "visit-two", "vid": VISITOR, "consent": {"analytics": true},
    "events": [
        {"id": "p-1", "t": "page_view", "ts": now, "url": "https://shop.example/pricing", "title": "Pricing"},
        {"id": "p-2", "t": "cta_click", "ts": now, "url": "https://shop.example/pricing", "props": {"cta": "buy-pro"}}
    ]})
}

fn identify() -> Value {
    let now = now_ms();
    json!({"v": 1, "site": "demo", "sid": "visit-two", "vid": VISITOR, "consent": {"analytics": true},
        "events": [{"id": "i-1", "t": "identify", "ts": now,
            "props": {"email": EMAIL, "first_name": "Ada", "last_name": "Lovelace", "company": "Analytical Engines Ltd"}}]})
}

fn kinds(timeline: &Value) -> Vec<String> {
    timeline["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["type"].as_str().map(str::to_owned))
        .collect()
}

/// The messages on the embedded transitions queue (up to ten, in the order they were sent),
/// received without hiding them, so the queue is left as it was.
fn transition_messages(data_dir: &Path) -> Vec<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let queue = SqliteQueue::open(&data_dir.join("queue.db"), "transitions", None)
            .expect("the transitions queue");
        let received = queue
            .receive(10, Duration::ZERO, Duration::ZERO)
            .await
            .expect("receive");
        received
            .iter()
            .map(|message| serde_json::from_str(&message.body).expect("a JSON message"))
            .collect()
    })
}

fn run_job(data_dir: &Path, job: &str, now: &str) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_crm-local"))
        .args(["job", job, "--now", now, "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("crm-local job runs");
    assert!(output.status.success(), "job {job}: {output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The sum of `field` over the reports of `job`.
fn counted(reports: &[Value], job: &str, field: &str) -> u64 {
    reports
        .iter()
        .filter(|report| report["job"] == job)
        .filter_map(|report| report[field].as_u64())
        .sum()
}

fn dump(data_dir: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_crm-local"))
        .args(["dump", "--data-dir"])
        .arg(data_dir)
        .output()
        .expect("crm-local dump runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn days_from_now(days: i64) -> String {
    let moment = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    moment
        .format(&time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 instant")
}
