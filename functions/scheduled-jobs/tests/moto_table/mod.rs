//! A fresh DynamoDB table on the local AWS API emulator (moto) for each test, so tests never
//! share state. Needs `CRM_TEST_AWS_ENDPOINT` (set by `source tests/aws/moto.sh`; `bash
//! tests/run.sh` does it) and fails, never skips, without it.

use std::sync::Arc;

use crm_store::dynamodb::{self, DynamoTable, create_table_if_missing};
use crm_store::table::Table;

fn endpoint() -> String {
    match std::env::var("CRM_TEST_AWS_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => endpoint,
        _ => panic!(
            "CRM_TEST_AWS_ENDPOINT is not set, so there is no AWS emulator to test against. \
             Run `bash tests/run.sh`, or `source tests/aws/moto.sh` and then \
             `cargo test -p scheduled-jobs --all-features --test <aws_decay|aws_retention>`."
        ),
    }
}

pub async fn fresh_table() -> Arc<dyn Table> {
    let client = dynamodb::Client::new(&dynamodb::sdk_config(Some(&endpoint())).await);
    let name = format!("crm-jobs-{}", uuid::Uuid::now_v7().simple());
    let created = create_table_if_missing(&client, &name)
        .await
        .expect("create the table");
    assert!(created, "{name} should not have existed");
    Arc::new(DynamoTable::new(client, name))
}
