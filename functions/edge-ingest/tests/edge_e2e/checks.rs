//! What the test checks on the messages that reached SQS: one per accepted beacon, anonymized,
//! and scored by the event-scorer.

use std::collections::HashMap;
use std::sync::Arc;

use crm_domain::message::{BeaconEnvelope, QueueMessage, VisitorKeyKind};
use crm_domain::privacy::{VisitorKey, daily_salt};
use crm_domain::site::SiteId;
use crm_store::clock::SystemClock;
use crm_store::queue::ReceivedMessage;
use crm_store::repo::BehaviorRepo;
use crm_store::sqlite::SqliteTable;
use event_scorer::{IncomingMessage, ScorerDeps, process_batch};

use crate::support::{BROWSER, CLIENT_IP, Environment};

/// Strings of the posted beacons that must never reach SQS.
const NEVER_QUEUED: [&str; 9] = [
    CLIENT_IP,
    "203.0.113.",
    "jane.doe",
    "@example.com",
    "79460958",
    "4111111111111111",
    "4111 1111",
    "sid-valid",
    "vid-valid",
];

/// Parses every received message, checking none leaks personal data, that exactly one is a bot
/// report and that no beacon arrived twice. Returns the envelopes by case name.
pub fn envelopes_by_case(received: &[ReceivedMessage]) -> HashMap<String, BeaconEnvelope> {
    let mut envelopes = HashMap::new();
    let mut bot_reports = 0;
    for message in received {
        for secret in NEVER_QUEUED {
            assert!(
                !message.body.contains(secret),
                "{secret:?} reached SQS in {}",
                message.body
            );
        }
        match QueueMessage::from_json(&message.body).expect("the one queue message format") {
            QueueMessage::Beacon(envelope) => {
                let case = envelope.events[0]
                    .id
                    .split('-')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let twice = envelopes.insert(case, envelope);
                assert!(twice.is_none(), "a beacon arrived twice: {}", message.body);
            }
            QueueMessage::Dropped(report) => {
                assert_eq!((report.bot_beacons, report.bot_events), (1, 2));
                bot_reports += 1;
            }
        }
    }
    assert_eq!(bot_reports, 1, "one bot report");
    envelopes
}

/// What each accepted beacon became: consent, visitor keys, country, masking.
pub fn anonymized_as_documented(env: &Environment, envelopes: &HashMap<String, BeaconEnvelope>) {
    let valid = &envelopes["valid"];
    assert_eq!(valid.visitor_kind, VisitorKeyKind::FirstParty);
    assert!(valid.consent.analytics);
    assert_eq!(valid.country.as_deref(), Some("DE"));
    assert_eq!(
        valid.events[0].url.as_deref(),
        Some("https://shop.example/pricing?utm_source=news")
    );
    assert_eq!(envelopes["kv"].site.as_str(), "kvshop");

    let dnt = &envelopes["dnt"];
    assert_eq!(dnt.visitor_kind, VisitorKeyKind::Daily);
    assert!(!dnt.consent.analytics && !dnt.consent.marketing);
    // crm-domain's hash of the daily salt (from the secret and the UTC day), the site, the
    // client IP from CF-Connecting-IP truncated to its /24, and the user agent.
    let salt = daily_salt(&env.daily_salt_secret, dnt.received_at.day());
    let site = SiteId::parse("demo").expect("valid id");
    let expected = VisitorKey::daily(&salt, &site, CLIENT_IP.parse().ok(), BROWSER);
    assert_eq!(dnt.visitor, expected.key);
    assert_eq!(dnt.events[0].title.as_deref(), Some("Welcome\u{FFFE}"));

    let masked_url = envelopes["pii"].events[0]
        .url
        .as_deref()
        .unwrap_or_default();
    assert!(
        masked_url.contains("[email]") && masked_url.contains("utm_source=mail"),
        "{masked_url}"
    );
}

/// Runs the event-scorer on the received bodies and checks each beacon's visitor profile.
pub async fn scored(received: &[ReceivedMessage], envelopes: &HashMap<String, BeaconEnvelope>) {
    let table = Arc::new(SqliteTable::in_memory().expect("an in-memory table"));
    let deps = ScorerDeps {
        table: table.clone(),
        clock: Arc::new(SystemClock),
    };
    let incoming: Vec<IncomingMessage> = received
        .iter()
        .map(|message| IncomingMessage {
            transport_id: message.message_id.clone(),
            body: message.body.clone(),
        })
        .collect();
    let report = process_batch(&deps, &incoming).await;
    assert!(report.failed.is_empty(), "scorer failures: {report:?}");
    assert_eq!(report.applied, received.len(), "{report:?}");
    let behavior = BehaviorRepo::new(table);
    for (case, envelope) in envelopes {
        let profile = behavior
            .get_profile(&envelope.site, &envelope.visitor)
            .await
            .expect("the table answers")
            .unwrap_or_else(|| panic!("no profile for the {case} beacon's visitor"));
        assert_eq!(profile.visitor_kind, envelope.visitor_kind, "{case}");
        let totals = (profile.totals.page_views, profile.totals.max_scroll);
        assert_eq!(totals, (1, 60), "{case}");
        assert_eq!(profile.sessions, 1, "{case}");
    }
}
