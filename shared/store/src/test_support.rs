//! For the AWS tests of every crate: where the local AWS API emulator (moto) is, and a table of
//! the test's own on it, so cases never share state. Behind the `test-support` feature, which
//! only dev-dependencies enable; the DynamoDB and SQS parts appear when the test build already
//! has `dynamodb` or `sqs`, so a crate's SQLite-only tests do not compile the SDK for it.

use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(feature = "dynamodb")]
use crate::dynamodb::{self, DynamoTable, create_table_if_missing};
#[cfg(feature = "sqs")]
use crate::sqs;

/// `CRM_TEST_AWS_ENDPOINT`, which `tests/aws/moto.sh` exports.
///
/// # Panics
///
/// When it is not set: the AWS tests fail without the emulator, they never skip.
#[track_caller]
pub fn aws_endpoint() -> String {
    match std::env::var("CRM_TEST_AWS_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => panic!(
            "CRM_TEST_AWS_ENDPOINT is not set, so there is no AWS emulator to test against. \
             Run `bash tests/run.sh`, or `source tests/aws/moto.sh` and then this test's \
             `cargo test` command."
        ),
    }
}

/// `crm-{kind}-…`, a name no other case or run uses; valid for tables and queues alike.
pub fn unique_name(kind: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("crm-{kind}-{n}-{}", uuid::Uuid::now_v7().simple())
}

/// A DynamoDB client of the emulator.
#[cfg(feature = "dynamodb")]
pub async fn dynamodb_client() -> dynamodb::Client {
    dynamodb::Client::new(&dynamodb::sdk_config(Some(&aws_endpoint())).await)
}

/// An SQS client of the emulator.
#[cfg(feature = "sqs")]
pub async fn sqs_client() -> sqs::Client {
    sqs::Client::new(&sqs::sdk_config(Some(&aws_endpoint())).await)
}

/// A new, empty table named after `kind` ([`unique_name`]), with the production schema.
///
/// # Panics
///
/// When the table cannot be created, or already existed.
#[cfg(feature = "dynamodb")]
pub async fn fresh_dynamo_table(client: &dynamodb::Client, kind: &str) -> DynamoTable {
    let name = unique_name(kind);
    let created = create_table_if_missing(client, &name)
        .await
        .expect("create the table");
    assert!(created, "{name} should not have existed");
    DynamoTable::new(client.clone(), name)
}
