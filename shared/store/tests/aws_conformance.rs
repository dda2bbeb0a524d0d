//! The port conformance suites against the AWS adapters, on a local AWS API emulator (moto), plus
//! what only the AWS adapters must do: enforce the limits moto does not, refuse foreign cursors,
//! create the table and queues when missing.
//!
//! Needs `CRM_TEST_AWS_ENDPOINT` (set by `source tests/aws/moto.sh`; `bash tests/run.sh` does it)
//! and fails, never skips, without it:
//!
//! ```text
//! source tests/aws/moto.sh
//! cargo test -p crm-store --features dynamodb,sqs,conformance --test aws_conformance
//! ```
//!
//! Every case gets its own table or queue pair (unique names), so cases never share state.

use std::sync::Arc;

use crm_store::conformance::queue::QueuePair;
use crm_store::conformance::{queue as queue_suite, table as table_suite};
use crm_store::dynamodb::{DynamoTable, create_table_if_missing};
use crm_store::queue::{OutgoingMessage, Queue, QueueError};
use crm_store::sqs::{self, SqsQueue, create_queue_with_dead_letter_if_missing};
use crm_store::table::{
    Condition, Cursor, Item, Key, Query, SortKeyCondition, Table, TableError, TransactItem, Update,
    Value, WriteRequest,
};
use crm_store::test_support::{
    aws_endpoint, dynamodb_client, fresh_dynamo_table, sqs_client, unique_name,
};

/// Receives after which the test queues move a message to their dead-letter queue.
const MAX_RECEIVES: u32 = 3;

async fn fresh_queues(client: &sqs::Client) -> QueuePair {
    let name = unique_name("events");
    let (url, dead_letter_url) = create_queue_with_dead_letter_if_missing(
        client,
        &name,
        &format!("{name}-dlq"),
        MAX_RECEIVES,
    )
    .await
    .expect("create the queues");
    QueuePair {
        queue: Arc::new(SqsQueue::new(client.clone(), url)),
        dead_letters: Arc::new(SqsQueue::new(client.clone(), dead_letter_url)),
        max_receives: MAX_RECEIVES,
    }
}

fn s(text: &str) -> Value {
    Value::S(text.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_table_passes_the_table_conformance_suite() {
    let client = dynamodb_client().await;
    table_suite::run_all(|| {
        let client = client.clone();
        async move { Arc::new(fresh_dynamo_table(&client, "table").await) as Arc<dyn Table> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqs_queue_passes_the_queue_conformance_suite() {
    let client = sqs_client().await;
    queue_suite::run_all(|| {
        let client = client.clone();
        async move { fresh_queues(&client).await }
    })
    .await;
}

#[tokio::test]
async fn limits_moto_does_not_enforce_are_refused_before_any_request() {
    // The table does not exist: only checks made before a request can answer `Invalid`.
    let table = DynamoTable::new(dynamodb_client().await, unique_name("never-created"));
    let key = |sk: &str| Key::new("P", sk);
    let invalid = |result: Result<(), TableError>, what: &str| {
        assert!(
            matches!(result, Err(TableError::Invalid(_))),
            "{what}: {result:?}"
        );
    };
    let puts: Vec<WriteRequest> = (0..26)
        .map(|n| WriteRequest::Put(Item::new(key(&format!("{n:02}")))))
        .collect();
    invalid(table.batch_write(puts).await, "26 batch writes");
    let twice = vec![
        WriteRequest::Put(Item::new(key("a"))),
        WriteRequest::Delete(key("a")),
    ];
    invalid(table.batch_write(twice).await, "a key twice in a batch");
    let numeric_index_key = Item::new(key("a"))
        .with("gsi1pk", Value::N(7))
        .with("gsi1sk", s("x"));
    invalid(
        table.put(numeric_index_key, None).await,
        "a numeric index key",
    );
    let too_big = Item::new(key("big")).with("blob", Value::B(vec![0; 400 * 1024]));
    invalid(table.put(too_big, None).await, "an item over 400 KiB");
    let transact_twice = vec![
        TransactItem::ConditionCheck {
            key: key("a"),
            condition: Condition::ItemExists,
        },
        TransactItem::Delete {
            key: key("a"),
            condition: None,
        },
    ];
    invalid(
        table.transact_write(transact_twice).await,
        "a key twice in a transaction",
    );
    let add_to_index = Update {
        add: vec![("gsi2sk".to_owned(), 1)],
        ..Update::default()
    };
    assert!(matches!(
        table.update(&key("a"), add_to_index, None).await,
        Err(TableError::Invalid(_))
    ));
    assert!(matches!(
        table.batch_get(&[key("a"), key("a")]).await,
        Err(TableError::Invalid(_))
    ));
}

#[tokio::test]
async fn an_update_without_actions_in_a_transaction_is_invalid() {
    // TransactWriteItems requires an UpdateExpression; the SQLite adapter accepts this (and
    // creates the item), DynamoDB cannot express it.
    let table = fresh_dynamo_table(&dynamodb_client().await, "table").await;
    let key = Key::new("P", "touched");
    let result = table
        .transact_write(vec![TransactItem::Update {
            key: key.clone(),
            update: Update::default(),
            condition: None,
        }])
        .await;
    assert!(matches!(result, Err(TableError::Invalid(_))), "{result:?}");
    assert_eq!(table.get(&key).await.expect("get"), None);
}

#[tokio::test]
async fn a_missing_table_is_unavailable_not_invalid() {
    let table = DynamoTable::new(dynamodb_client().await, unique_name("never-created"));
    let result = table.get(&Key::new("P", "S")).await;
    assert!(
        matches!(&result, Err(TableError::Unavailable(message)) if message.contains("ResourceNotFound")),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_cursor_is_refused_by_a_query_it_does_not_belong_to() {
    let table = fresh_dynamo_table(&dynamodb_client().await, "table").await;
    let pk = "P";
    let writes = ["a#1", "a#2", "a#3", "b#1", "b#2"]
        .iter()
        .map(|sk| WriteRequest::Put(Item::new(Key::new(pk, *sk))))
        .collect();
    table.batch_write(writes).await.expect("batch_write");
    let prefix = |prefix: &str| Query {
        sk: SortKeyCondition::BeginsWith(prefix.to_owned()),
        limit: 1,
        ..Query::partition(pk)
    };
    let first = table.query(prefix("a#")).await.expect("first page");
    let cursor = first.next.expect("a cursor after a full page");
    // moto would answer these with an empty page; DynamoDB with an error. Both are wrong answers.
    for other in [
        Query {
            cursor: Some(cursor.clone()),
            ..prefix("b#")
        },
        Query {
            sk: SortKeyCondition::Between("b".to_owned(), "c".to_owned()),
            cursor: Some(cursor.clone()),
            ..Query::partition(pk)
        },
    ] {
        assert_eq!(table.query(other).await, Err(TableError::InvalidCursor));
    }
    let forged = Cursor(format!("{}x", cursor.0));
    let with_forged = Query {
        cursor: Some(forged),
        ..prefix("a#")
    };
    assert_eq!(
        table.query(with_forged).await,
        Err(TableError::InvalidCursor)
    );
    let second = table
        .query(Query {
            cursor: Some(cursor),
            ..prefix("a#")
        })
        .await
        .expect("the cursor works for its own query");
    assert_eq!(second.items[0].key.sk, "a#2");
}

#[tokio::test]
async fn creating_the_table_again_keeps_it_and_its_ttl() {
    let client = dynamodb_client().await;
    let table = fresh_dynamo_table(&client, "table").await;
    let item = Item::new(Key::new("P", "kept")).with("ttl", Value::N(4_102_444_800));
    table.put(item.clone(), None).await.expect("put");
    assert!(
        !create_table_if_missing(&client, table.table_name())
            .await
            .expect("create again"),
        "an existing table is not created again"
    );
    assert_eq!(table.get(&item.key).await.expect("get"), Some(item));
    let ttl = client
        .describe_time_to_live()
        .table_name(table.table_name())
        .send()
        .await
        .expect("describe TTL");
    let description = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(description.attribute_name(), Some("ttl"));
}

#[tokio::test]
async fn an_existing_table_with_another_key_is_refused() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let client = dynamodb_client().await;
    let name = unique_name("other-shape");
    client
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .send()
        .await
        .expect("create a table of another shape");
    let result = create_table_if_missing(&client, &name).await;
    assert!(matches!(result, Err(TableError::Invalid(_))), "{result:?}");
}

#[tokio::test]
async fn bodies_sqs_refuses_fail_alone_though_moto_would_take_them() {
    let pair = fresh_queues(&sqs_client().await).await;
    let message = |entry_id: &str, body: &str| OutgoingMessage {
        entry_id: entry_id.to_owned(),
        body: body.to_owned(),
    };
    let outcome = pair
        .queue
        .send_batch(vec![
            message("nul", "a \u{0} inside"),
            message("empty", ""),
            message("fine", "fine"),
        ])
        .await
        .expect("send_batch");
    let failed: Vec<&str> = outcome.failed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(failed, vec!["nul", "empty"]);
    let received = pair
        .queue
        .receive(
            10,
            std::time::Duration::from_secs(30),
            std::time::Duration::from_secs(1),
        )
        .await
        .expect("receive");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body, "fine");
}

#[tokio::test]
async fn creating_the_queues_again_returns_the_same_urls() {
    let client = sqs_client().await;
    let name = unique_name("again");
    let dead_letters = format!("{name}-dlq");
    let first = create_queue_with_dead_letter_if_missing(&client, &name, &dead_letters, 5)
        .await
        .expect("create");
    let second = create_queue_with_dead_letter_if_missing(&client, &name, &dead_letters, 5)
        .await
        .expect("create again");
    assert_eq!(first, second);
    let refused = create_queue_with_dead_letter_if_missing(&client, &name, &name, 5).await;
    assert!(matches!(refused, Err(QueueError::Invalid(_))));
}

#[tokio::test]
async fn sending_to_a_missing_queue_is_an_error_not_a_list_of_failures() {
    let client = sqs_client().await;
    let url = format!("{}/123456789012/{}", aws_endpoint(), unique_name("missing"));
    let queue = SqsQueue::new(client, url);
    let result = queue
        .send_batch(vec![OutgoingMessage {
            entry_id: "m".to_owned(),
            body: "lost?".to_owned(),
        }])
        .await;
    assert!(
        matches!(result, Err(QueueError::Unavailable(_))),
        "{result:?}"
    );
}
