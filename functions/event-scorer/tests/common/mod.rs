//! Fixtures shared by the scorer's tests: beacons, deliveries and a readable snapshot of the
//! state an admin sees.

#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, Consent, QueueMessage, VisitorKeyKind};
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
pub use crm_store::clock::FixedClock;
use crm_store::repo::BehaviorRepo;
use crm_store::sqlite::SqliteTable;
use crm_store::table::Table;
use event_scorer::{IncomingMessage, ScorerDeps};
use serde_json::{Value, json};

pub const NOW: Millis = Millis(1_763_700_000_000);

pub fn site() -> SiteId {
    SiteId::parse("demo").unwrap()
}

pub fn deps() -> ScorerDeps {
    let table: Arc<dyn Table> = Arc::new(SqliteTable::in_memory().unwrap());
    ScorerDeps {
        table,
        clock: Arc::new(FixedClock(NOW)),
    }
}

/// A scorer on an in-memory SQLite store, and the store itself (tests that read every item).
pub fn sqlite_deps() -> (Arc<SqliteTable>, ScorerDeps) {
    let sqlite = Arc::new(SqliteTable::in_memory().unwrap());
    let deps = ScorerDeps {
        table: sqlite.clone(),
        clock: Arc::new(FixedClock(NOW)),
    };
    (sqlite, deps)
}

pub fn beacon(id: &str, visitor: &str, session: &str, offset_ms: i64) -> BeaconEnvelope {
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

pub fn messages(envelopes: &[BeaconEnvelope], attempt: usize) -> Vec<IncomingMessage> {
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
pub async fn snapshot(table: &Arc<dyn Table>) -> Value {
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
