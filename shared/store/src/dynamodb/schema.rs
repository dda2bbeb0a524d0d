//! The table's definition, and creating it when it is missing (crm-local's `--create-missing`,
//! the emulator tests). Production creates the table from `infra/template.yaml` instead.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::BuildError;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableDescription, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};

use super::errors::from_sdk;
use crate::limits::{PK_ATTR, SK_ATTR};
use crate::table::{Index, TTL_ATTR, TableError, TableResult};

/// The DynamoDB names of the port's secondary indexes.
pub const GSI1_NAME: &str = "gsi1";
pub const GSI2_NAME: &str = "gsi2";

/// The DynamoDB name of `index`.
pub(crate) fn index_name(index: Index) -> &'static str {
    match index {
        Index::Gsi1 => GSI1_NAME,
        Index::Gsi2 => GSI2_NAME,
    }
}

/// How long a new table may stay in CREATING (real DynamoDB takes seconds to a minute or two).
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_secs(1);

fn built<T>(result: Result<T, BuildError>) -> TableResult<T> {
    result.map_err(|error| TableError::Invalid(format!("table definition: {error}")))
}

fn key_element(name: &str, key_type: KeyType) -> TableResult<KeySchemaElement> {
    built(
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build(),
    )
}

fn string_attribute(name: &str) -> TableResult<AttributeDefinition> {
    built(
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build(),
    )
}

fn index(index: Index) -> TableResult<GlobalSecondaryIndex> {
    let (pk_attr, sk_attr) = index.key_attrs();
    built(
        GlobalSecondaryIndex::builder()
            .index_name(index_name(index))
            .key_schema(key_element(pk_attr, KeyType::Hash)?)
            .key_schema(key_element(sk_attr, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build(),
    )
}

/// The CreateTable request of the CRM's one table. `infra/template.yaml` must declare exactly
/// this (and is written from it):
///
/// - key: `pk` (HASH) and `sk` (RANGE), both strings (`S`);
/// - global secondary index `gsi1`: `gsi1pk` (HASH), `gsi1sk` (RANGE), strings, projection ALL;
/// - global secondary index `gsi2`: `gsi2pk` (HASH), `gsi2sk` (RANGE), strings, projection ALL;
/// - billing mode PAY_PER_REQUEST (on-demand);
/// - time to live enabled on the attribute `ttl` (epoch seconds), set after creation.
///
/// The template adds what only production needs (point-in-time recovery, deletion policy).
pub fn table_definition(client: &Client, name: &str) -> TableResult<CreateTableFluentBuilder> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element(PK_ATTR, KeyType::Hash)?)
        .key_schema(key_element(SK_ATTR, KeyType::Range)?)
        .attribute_definitions(string_attribute(PK_ATTR)?)
        .attribute_definitions(string_attribute(SK_ATTR)?);
    for gsi in [Index::Gsi1, Index::Gsi2] {
        let (pk_attr, sk_attr) = gsi.key_attrs();
        request = request
            .attribute_definitions(string_attribute(pk_attr)?)
            .attribute_definitions(string_attribute(sk_attr)?)
            .global_secondary_indexes(index(gsi)?);
    }
    Ok(request)
}

/// Creates the table `name` as [`table_definition`] describes unless it exists, waits until it
/// and its indexes are ACTIVE, and enables its TTL on `ttl` if it is not enabled yet. Returns
/// whether it created the table. An existing table without the expected key or indexes is
/// `Invalid`; it is never changed beyond enabling TTL.
pub async fn create_table_if_missing(client: &Client, name: &str) -> TableResult<bool> {
    let created = match describe(client, name).await? {
        Some(table) => {
            check_shape(name, &table)?;
            false
        }
        None => match table_definition(client, name)?.send().await {
            Ok(_) => {
                tracing::info!(table = name, "created the DynamoDB table");
                true
            }
            // Someone else created it meanwhile: wait for theirs.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_resource_in_use_exception()) =>
            {
                false
            }
            Err(error) => return Err(from_sdk("CreateTable", error)),
        },
    };
    wait_until_active(client, name, ACTIVE_TIMEOUT).await?;
    enable_ttl(client, name).await?;
    Ok(created)
}

async fn describe(client: &Client, name: &str) -> TableResult<Option<TableDescription>> {
    match client.describe_table().table_name(name).send().await {
        Ok(output) => Ok(output.table),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|error| error.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(error) => Err(from_sdk("DescribeTable", error)),
    }
}

/// An existing table must have the port's key and both indexes, or every query would fail later.
fn check_shape(name: &str, table: &TableDescription) -> TableResult<()> {
    let key: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|element| (element.attribute_name(), element.key_type()))
        .collect();
    if key != [(PK_ATTR, &KeyType::Hash), (SK_ATTR, &KeyType::Range)] {
        return Err(TableError::Invalid(format!(
            "table {name} exists but its key is not pk (HASH), sk (RANGE)"
        )));
    }
    for gsi in [GSI1_NAME, GSI2_NAME] {
        if !table
            .global_secondary_indexes()
            .iter()
            .any(|index| index.index_name() == Some(gsi))
        {
            return Err(TableError::Invalid(format!(
                "table {name} exists but has no global secondary index {gsi}"
            )));
        }
    }
    Ok(())
}

fn is_active(table: &TableDescription) -> bool {
    table.table_status() == Some(&TableStatus::Active)
        && table
            .global_secondary_indexes()
            .iter()
            .all(|index| index.index_status() == Some(&IndexStatus::Active))
}

/// Polls DescribeTable until the table and its indexes are ACTIVE (an emulator is at once; real
/// DynamoDB passes through CREATING first).
pub async fn wait_until_active(client: &Client, name: &str, timeout: Duration) -> TableResult<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let table = describe(client, name).await?;
        if table.as_ref().is_some_and(is_active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            let status = table.and_then(|table| table.table_status().cloned());
            return Err(TableError::Unavailable(format!(
                "table {name} is not ACTIVE after {timeout:?} (status {status:?})"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn enable_ttl(client: &Client, name: &str) -> TableResult<()> {
    let described = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(|error| from_sdk("DescribeTimeToLive", error))?;
    let ttl = described.time_to_live_description();
    let status = ttl.and_then(|ttl| ttl.time_to_live_status());
    let attribute = ttl.and_then(|ttl| ttl.attribute_name());
    match status {
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => {
            if attribute.is_some_and(|attribute| attribute != TTL_ATTR) {
                return Err(TableError::Invalid(format!(
                    "table {name} expires items by {attribute:?}, not by {TTL_ATTR}"
                )));
            }
            Ok(())
        }
        _ => {
            let specification = built(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTR)
                    .build(),
            )?;
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(specification)
                .send()
                .await
                .map_err(|error| from_sdk("UpdateTimeToLive", error))?;
            tracing::info!(table = name, attribute = TTL_ATTR, "enabled time to live");
            Ok(())
        }
    }
}
