//! At-least-once delivery made harmless: redelivered, reordered, concurrent and poison messages.

#![allow(clippy::unwrap_used)]

mod common;

use common::{NOW, beacon, deps, messages, site, snapshot};
use crm_domain::message::{BeaconEnvelope, DroppedReport, QueueMessage};
use crm_store::repo::BehaviorRepo;
use event_scorer::{IncomingMessage, process_batch};
use serde_json::Value;

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
    // A message of a format version this scorer does not know is not read under v1's rules.
    let mut newer = beacon("m9", "carol", "s9", 0);
    newer.v = 2;
    batch.push(IncomingMessage {
        transport_id: "newer".to_owned(),
        body: QueueMessage::Beacon(newer).to_json(),
    });
    let report = process_batch(&deps, &batch).await;
    assert_eq!(report.failed, vec!["poison".to_owned(), "newer".to_owned()]);
    assert_eq!(report.poison, 2);
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
