//! A fresh DynamoDB table on the local AWS API emulator (moto) for each test, so tests never
//! share state. Needs `CRM_TEST_AWS_ENDPOINT` (set by `source tests/aws/moto.sh`; `bash
//! tests/run.sh` does it) and fails, never skips, without it.

use std::sync::Arc;

use crm_store::table::Table;
use crm_store::test_support::{dynamodb_client, fresh_dynamo_table};

pub async fn fresh_table() -> Arc<dyn Table> {
    Arc::new(fresh_dynamo_table(&dynamodb_client().await, "jobs").await)
}
