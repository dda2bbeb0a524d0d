//! The Lambda handler invoked in-process with real SQS event JSON: a poison message is reported
//! alone in `batchItemFailures`, and a redelivered batch leaves every score unchanged. Runs on
//! the embedded store and, with `--features aws-tests`, on DynamoDB in the local AWS emulator.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use crm_store::clock::FixedClock;
use crm_store::repo::BehaviorRepo;
use crm_store::table::Table;
use event_scorer::ScorerDeps;
use event_scorer::lambda::handle_sqs_event;
use lambda_runtime::{Context, LambdaEvent};

const SQS_EVENT: &str = include_str!("fixtures/sqs_event.json");
const POISON_MESSAGE_ID: &str = "2e1424d4-f796-459a-8184-9c92662be6da";
const VISITOR: &str = "3f2a9c0d1e4b5a6978877665544332211";
const NOW: Millis = Millis(1_763_700_060_000);

async fn invoke(deps: &ScorerDeps) -> serde_json::Value {
    let event: SqsEvent = serde_json::from_str(SQS_EVENT).unwrap();
    let response = handle_sqs_event(LambdaEvent::new(event, Context::default()), deps)
        .await
        .unwrap();
    serde_json::to_value(response).unwrap()
}

async fn scores_and_counters(table: &Arc<dyn Table>) -> serde_json::Value {
    let site = SiteId::parse("demo").unwrap();
    let repo = BehaviorRepo::new(table.clone());
    let profile = repo
        .get_profile(&site, VISITOR)
        .await
        .unwrap()
        .expect("the visitor was scored");
    serde_json::json!({
        "scores": profile.scores,
        "totals": profile.totals,
        "site": repo.totals(&site, 0, NOW.day()).await.unwrap(),
    })
}

async fn poison_fails_alone_and_redelivery_changes_nothing(table: Arc<dyn Table>) {
    let deps = ScorerDeps {
        table: table.clone(),
        clock: Arc::new(FixedClock(NOW)),
    };
    let response = invoke(&deps).await;
    assert_eq!(
        response["batchItemFailures"],
        serde_json::json!([{ "itemIdentifier": POISON_MESSAGE_ID }])
    );
    let first = scores_and_counters(&table).await;
    assert_eq!(first["totals"]["events"], 3);
    assert!(first["scores"]["intent"].as_f64().unwrap() > 0.0, "{first}");

    let again = invoke(&deps).await;
    assert_eq!(again["batchItemFailures"], response["batchItemFailures"]);
    assert_eq!(scores_and_counters(&table).await, first);

    // The site counters are still pending; rolling them up changes no figure.
    let repo = BehaviorRepo::new(table.clone());
    let site = SiteId::parse("demo").unwrap();
    assert!(!repo.pending_counters(&site).await.unwrap().is_empty());
    while repo.roll_up(&site).await.unwrap() > 0 {}
    assert!(repo.pending_counters(&site).await.unwrap().is_empty());
    assert_eq!(scores_and_counters(&table).await, first);
}

#[tokio::test]
async fn on_the_embedded_store_a_poison_message_fails_alone_and_redelivery_changes_nothing() {
    let table: Arc<dyn Table> = Arc::new(crm_store::sqlite::SqliteTable::in_memory().unwrap());
    poison_fails_alone_and_redelivery_changes_nothing(table).await;
}

#[cfg(feature = "aws-tests")]
#[tokio::test]
async fn on_dynamodb_a_poison_message_fails_alone_and_redelivery_changes_nothing() {
    use crm_store::test_support::{dynamodb_client, fresh_dynamo_table};

    let table = fresh_dynamo_table(&dynamodb_client().await, "scorer-handler").await;
    poison_fails_alone_and_redelivery_changes_nothing(Arc::new(table)).await;
}
