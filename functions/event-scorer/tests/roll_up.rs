//! Pending counters and their roll-up: what an admin reads is the same before and after any
//! roll-up, and no pending item is ever added twice.

#![allow(clippy::unwrap_used)]

mod common;

use common::{beacon, deps, messages, site, snapshot};
use crm_domain::event::Event;
use crm_domain::scoring::pages::MAX_COUNTED_PATH_BYTES;
use crm_store::repo::BehaviorRepo;
use event_scorer::process_batch;
use serde_json::json;

/// Rolls up until nothing is pending.
async fn roll_up_everything(repo: &BehaviorRepo) {
    while repo.roll_up(&site()).await.unwrap() > 0 {}
    assert!(repo.pending_counters(&site()).await.unwrap().is_empty());
}

#[tokio::test]
async fn figures_are_the_same_before_and_after_rolling_up() {
    let deps = deps();
    let repo = BehaviorRepo::new(deps.table.clone());
    // 40 batches: the scorer rolls up on its own every 16 pending items, so some figures are
    // in counter items and some still pending when the snapshot is taken.
    for batch in 0..40 {
        let envelopes: Vec<_> = (0..3)
            .map(|index| {
                beacon(
                    &format!("m{batch}-{index}"),
                    &format!("visitor-{}", (batch + index) % 7),
                    &format!("session-{}", batch / 4),
                    i64::from(batch * 1_000 + index),
                )
            })
            .collect();
        let report = process_batch(&deps, &messages(&envelopes, 0)).await;
        assert!(report.failed.is_empty(), "{report:?}");
    }
    assert!(!repo.pending_counters(&site()).await.unwrap().is_empty());
    let before = snapshot(&deps.table).await;
    assert_eq!(before["totals"]["events"], 40 * 3 * 4);
    roll_up_everything(&repo).await;
    assert_eq!(snapshot(&deps.table).await, before);
}

#[tokio::test]
async fn two_roll_ups_racing_add_each_pending_item_once() {
    let deps = deps();
    let repo = BehaviorRepo::new(deps.table.clone());
    for batch in 0..5 {
        let envelopes = vec![beacon(&format!("m{batch}"), "alice", "s1", batch * 1_000)];
        process_batch(&deps, &messages(&envelopes, 0)).await;
    }
    let before = snapshot(&deps.table).await;
    let demo = site();
    let (first, second) = tokio::join!(repo.roll_up(&demo), repo.roll_up(&demo));
    let rolled_up = first.unwrap() + second.unwrap();
    assert_eq!(
        rolled_up, 5,
        "each of the 5 pending items is added by one roll-up"
    );
    assert!(repo.pending_counters(&site()).await.unwrap().is_empty());
    assert_eq!(snapshot(&deps.table).await, before);
}

#[tokio::test]
async fn a_pending_item_too_large_for_one_transaction_is_rolled_up_in_parts() {
    let deps = deps();
    let repo = BehaviorRepo::new(deps.table.clone());
    // Ten beacons of one visitor in one batch, twenty distinct pages each: one commit whose
    // pending item holds 200 page counters, more than a transaction can update.
    let envelopes: Vec<_> = (0..10)
        .map(|index| {
            let mut envelope = beacon(&format!("m{index}"), "alice", "s1", index * 1_000);
            envelope.events = (0..20)
                .map(|page| {
                    let path = format!("/docs/{index}/{page}");
                    serde_json::from_value::<Event>(json!({
                        "id": format!("e{index}-{page}"), "t": "page_view",
                        "ts": envelope.received_at.0 - 100 + page,
                        "url": format!("https://shop.example{path}"), "path": path,
                    }))
                    .unwrap()
                })
                .collect();
            envelope
        })
        .collect();
    let report = process_batch(&deps, &messages(&envelopes, 0)).await;
    assert!(report.failed.is_empty(), "{report:?}");
    let pending = repo.pending_counters(&site()).await.unwrap();
    assert_eq!(pending.pages.len(), 200);
    let before = snapshot(&deps.table).await;
    assert_eq!(before["pages"].as_array().map(Vec::len), Some(100));
    roll_up_everything(&repo).await;
    assert_eq!(snapshot(&deps.table).await, before);
    assert_eq!(repo.top_pages(&site(), 1_000).await.unwrap().len(), 200);
}

#[tokio::test]
async fn a_page_path_longer_than_a_store_key_is_counted_and_rolled_up() {
    let deps = deps();
    let repo = BehaviorRepo::new(deps.table.clone());
    let path = format!("/{}", "a".repeat(1_500));
    let mut envelope = beacon("m1", "alice", "s1", 0);
    envelope.events = vec![
        serde_json::from_value::<Event>(json!({
            "id": "e1", "t": "page_view", "ts": envelope.received_at.0 - 100,
            "url": format!("https://shop.example{path}"), "path": path,
        }))
        .unwrap(),
    ];
    let report = process_batch(&deps, &messages(&[envelope], 0)).await;
    assert!(report.failed.is_empty(), "{report:?}");
    roll_up_everything(&repo).await;
    let pages = repo.top_pages(&site(), 10).await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].path, path[..MAX_COUNTED_PATH_BYTES]);
    assert_eq!(pages[0].views, 1);
}
