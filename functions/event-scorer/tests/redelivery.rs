//! At-least-once delivery made harmless: redelivered, reordered, concurrent and poison messages.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, Consent, DroppedReport, QueueMessage, VisitorKeyKind};
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use crm_store::clock::FixedClock;
use crm_store::repo::BehaviorRepo;
use crm_store::sqlite::SqliteTable;
use crm_store::table::Table;
use event_scorer::{IncomingMessage, ScorerDeps, process_batch};
use serde_json::{Value, json};

const NOW: Millis = Millis(1_763_700_000_000);

fn site() -> SiteId {
    SiteId::parse("demo").unwrap()
}

fn deps() -> ScorerDeps {
    let table: Arc<dyn Table> = Arc::new(SqliteTable::in_memory().unwrap());
    ScorerDeps {
        table,
        clock: Arc::new(FixedClock(NOW)),
    }
}

fn beacon(id: &str, visitor: &str, session: &str, offset_ms: i64) -> BeaconEnvelope {
    let ts = NOW.0 - 60_000 + offset_ms;
    let events: Vec<crm_domain::event::Event> = serde_json::from_value(json!([
        {"id": format!("{id}-1"), "t": "page_view", "ts": ts, "url": "https://shop.example/pricing", "path": "/pricing"},
        {"id": format!("{id}-2"), "t": "scroll", "ts": ts + 1, "url": "https://shop.example/pricing", "path": "/pricing", "props": {"depth": 75}},
        {"id": format!("{id}-3"), "t": "rage_click", "ts": ts + 2, "url": "https://shop.example/pricing", "path": "/pricing",
         "props": {"selector": "button.buy", "tag": "button", "count": 3}},
        {"id": format!("{id}-4"), "t": "page_leave", "ts": ts + 3, "url": "https://shop.example/pricing", "path": "/pricing", "props": {"engaged_ms": 12000}}
    ]))
    .unwrap();
    BeaconEnvelope {
        v: 1,
        id: id.to_owned(),
        site: site(),
        visitor: visitor.to_owned(),
        visitor_kind: VisitorKeyKind::FirstParty,
        session: session.to_owned(),
        received_at: Millis(ts + 10),
        country: Some("DE".to_owned()),
        consent: Consent {
            analytics: true,
            marketing: false,
        },
        events,
        rejected: 1,
        identify: None,
    }
}

fn messages(envelopes: &[BeaconEnvelope], attempt: usize) -> Vec<IncomingMessage> {
    envelopes
        .iter()
        .map(|envelope| IncomingMessage {
            // A new transport id per delivery, as when a forwarder re-sends after a lost ack.
            transport_id: format!("{}-delivery-{attempt}", envelope.id),
            body: QueueMessage::Beacon(envelope.clone()).to_json(),
        })
        .collect()
}

/// Everything the scorer writes that an admin can read, as one comparable value.
async fn snapshot(table: &Arc<dyn Table>) -> Value {
    let repo = BehaviorRepo::new(table.clone());
    let (profiles, _) = repo.list_visitors(&site(), 100, None).await.unwrap();
    let mut sessions = Vec::new();
    for profile in &profiles {
        sessions.extend(
            repo.list_sessions(&site(), &profile.visitor, 100)
                .await
                .unwrap(),
        );
    }
    json!({
        "profiles": serde_json::to_value(&profiles).unwrap(),
        "sessions": serde_json::to_value(&sessions).unwrap(),
        "totals": serde_json::to_value(repo.totals(&site(), 0, NOW.day()).await.unwrap()).unwrap(),
        "averages": serde_json::to_value(repo.score_averages(&site()).await.unwrap()).unwrap(),
        "friction": serde_json::to_value(repo.ranked_friction_points(&site()).await.unwrap()).unwrap(),
        "intent": serde_json::to_value(repo.ranked_intent_signals(&site()).await.unwrap()).unwrap(),
        "pages": serde_json::to_value(repo.top_pages(&site(), 100).await.unwrap()).unwrap(),
    })
}

fn envelopes() -> Vec<BeaconEnvelope> {
    vec![
        beacon("m1", "alice", "s1", 0),
        beacon("m2", "alice", "s1", 5_000),
        beacon("m3", "bob", "s2", 1_000),
        beacon("m4", "alice", "s3", 20_000),
    ]
}

#[tokio::test]
async fn delivering_a_batch_again_changes_nothing() {
    let deps = deps();
    let batch = envelopes();
    let first = process_batch(&deps, &messages(&batch, 1)).await;
    assert!(first.failed.is_empty(), "{first:?}");
    assert_eq!(first.applied, 4);
    let after_once = snapshot(&deps.table).await;

    for attempt in 2..5 {
        let again = process_batch(&deps, &messages(&batch, attempt)).await;
        assert!(again.failed.is_empty());
        assert_eq!(again.applied, 0);
        assert_eq!(again.duplicates, 4);
    }
    assert_eq!(snapshot(&deps.table).await, after_once);
    assert_eq!(after_once["totals"]["events"], 16);
    assert_eq!(after_once["totals"]["visitors"], 2);
    assert_eq!(after_once["totals"]["sessions"], 3);
    assert_eq!(after_once["totals"]["rejected_events"], 4);
}

#[tokio::test]
async fn overlapping_and_reordered_redeliveries_give_the_same_state_as_one_clean_delivery() {
    let clean = deps();
    process_batch(&clean, &messages(&envelopes(), 1)).await;

    let messy = deps();
    let all = envelopes();
    let batches = [
        vec![all[3].clone(), all[1].clone()],
        vec![all[1].clone(), all[0].clone(), all[3].clone()],
        vec![all[2].clone(), all[2].clone()],
        all.clone(),
    ];
    for (attempt, batch) in batches.iter().enumerate() {
        let report = process_batch(&messy, &messages(batch, attempt)).await;
        assert!(report.failed.is_empty(), "{report:?}");
    }
    let clean_state = snapshot(&clean.table).await;
    let messy_state = snapshot(&messy.table).await;
    assert_eq!(messy_state["totals"], clean_state["totals"]);
    assert_eq!(messy_state["friction"], clean_state["friction"]);
    assert_eq!(messy_state["intent"], clean_state["intent"]);
    assert_eq!(messy_state["pages"], clean_state["pages"]);
    let counters = |state: &Value| -> Vec<Value> {
        state["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|profile| profile["totals"].clone())
            .collect()
    };
    assert_eq!(counters(&messy_state), counters(&clean_state));
}

#[tokio::test]
async fn concurrent_scorers_on_one_visitor_lose_no_update() {
    let deps = deps();
    let batches: Vec<Vec<BeaconEnvelope>> = (0..8)
        .map(|index| vec![beacon(&format!("c{index}"), "carol", "s9", index * 100)])
        .collect();
    let mut tasks = Vec::new();
    for (attempt, batch) in batches.into_iter().enumerate() {
        let deps = deps.clone();
        tasks.push(tokio::spawn(async move {
            process_batch(&deps, &messages(&batch, attempt)).await
        }));
    }
    for task in tasks {
        let report = task.await.unwrap();
        assert!(report.failed.is_empty(), "{report:?}");
    }
    let state = snapshot(&deps.table).await;
    assert_eq!(state["profiles"][0]["totals"]["events"], 32);
    assert_eq!(state["totals"]["events"], 32);
}

#[tokio::test]
async fn a_poison_message_fails_alone() {
    let deps = deps();
    let mut batch = messages(&envelopes()[..2], 1);
    batch.insert(
        1,
        IncomingMessage {
            transport_id: "poison".to_owned(),
            body: "{\"kind\":\"beacon\",".to_owned(),
        },
    );
    let report = process_batch(&deps, &batch).await;
    assert_eq!(report.failed, vec!["poison".to_owned()]);
    assert_eq!(report.poison, 1);
    assert_eq!(report.applied, 2);
}

#[tokio::test]
async fn bot_reports_are_counted_once() {
    let deps = deps();
    let report = QueueMessage::Dropped(DroppedReport {
        v: 1,
        id: "bot-1".to_owned(),
        site: site(),
        received_at: NOW,
        bot_beacons: 1,
        bot_events: 7,
    });
    let message = IncomingMessage {
        transport_id: "t".to_owned(),
        body: report.to_json(),
    };
    for _ in 0..3 {
        assert!(
            process_batch(&deps, std::slice::from_ref(&message))
                .await
                .failed
                .is_empty()
        );
    }
    let totals = BehaviorRepo::new(deps.table.clone())
        .totals(&site(), 0, NOW.day())
        .await
        .unwrap();
    assert_eq!(totals.bot_beacons, 1);
    assert_eq!(totals.bot_events, 7);
}
