//! [`DynamoTable`]: the `Table` port on one DynamoDB table (defined by
//! [`super::table_definition`]). Requests are checked against the port's limits first; reads by
//! key are strongly consistent, index queries eventually consistent, as the port says.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    self as ddb, KeysAndAttributes, PutRequest, ReturnValue, TransactWriteItem,
};

use super::attrs::{AttrMap, item_from_map, item_map, key_map};
use super::cursor;
use super::errors::{from_sdk, from_transact};
use super::expression::{Names, Placeholders};
use super::retry::{Backoff, until_processed};
use super::schema::index_name;
use crate::limits::{
    check_batch_get, check_batch_write, check_item, check_key, check_query, check_transact_write,
    check_update,
};
use crate::table::{
    Condition, Item, Key, Page, Query, Table, TableError, TableResult, TransactItem, Update,
    WriteRequest,
};

/// The `Table` port on DynamoDB: cheap to clone, `Send + Sync`, usable as `Arc<dyn Table>`.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    client: Client,
    table_name: Arc<str>,
    backoff: Backoff,
}

impl DynamoTable {
    /// The table `table_name` (which must exist: see [`super::create_table_if_missing`]) through
    /// `client`.
    pub fn new(client: Client, table_name: impl Into<String>) -> DynamoTable {
        DynamoTable {
            client,
            table_name: Arc::from(table_name.into()),
            backoff: Backoff::UNPROCESSED,
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table_name
    }
}

fn built<T>(result: Result<T, aws_sdk_dynamodb::error::BuildError>) -> TableResult<T> {
    result.map_err(|error| TableError::Invalid(format!("cannot build the request: {error}")))
}

/// The key condition, condition or update of one request, rendered with shared placeholders.
struct Rendered {
    condition: Option<String>,
    update: Option<String>,
    names: Option<Names>,
    values: Option<AttrMap>,
}

fn render(condition: Option<&Condition>, update: Option<&Update>) -> TableResult<Rendered> {
    let mut placeholders = Placeholders::default();
    let condition = match condition {
        Some(condition) => placeholders.condition(condition)?,
        None => None,
    };
    let update = match update {
        Some(update) => placeholders.update(update)?,
        None => None,
    };
    let (names, values) = placeholders.into_maps();
    Ok(Rendered {
        condition,
        update,
        names,
        values,
    })
}

impl DynamoTable {
    fn write_request(request: &WriteRequest) -> TableResult<ddb::WriteRequest> {
        Ok(match request {
            WriteRequest::Put(item) => ddb::WriteRequest::builder()
                .put_request(built(
                    PutRequest::builder().set_item(Some(item_map(item))).build(),
                )?)
                .build(),
            WriteRequest::Delete(key) => ddb::WriteRequest::builder()
                .delete_request(built(
                    ddb::DeleteRequest::builder()
                        .set_key(Some(key_map(key)))
                        .build(),
                )?)
                .build(),
        })
    }

    fn transact_item(&self, item: &TransactItem) -> TableResult<TransactWriteItem> {
        let table = self.table_name.as_ref();
        Ok(match item {
            TransactItem::Put { item, condition } => {
                let rendered = render(condition.as_ref(), None)?;
                let put = ddb::Put::builder()
                    .table_name(table)
                    .set_item(Some(item_map(item)))
                    .set_condition_expression(rendered.condition)
                    .set_expression_attribute_names(rendered.names)
                    .set_expression_attribute_values(rendered.values);
                TransactWriteItem::builder()
                    .put(built(put.build())?)
                    .build()
            }
            TransactItem::Update {
                key,
                update,
                condition,
            } => {
                let rendered = render(condition.as_ref(), Some(update))?;
                let Some(expression) = rendered.update else {
                    return Err(TableError::Invalid(
                        "an update in a transaction needs at least one action \
                         (DynamoDB's TransactWriteItems requires an UpdateExpression)"
                            .to_owned(),
                    ));
                };
                let update = ddb::Update::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .update_expression(expression)
                    .set_condition_expression(rendered.condition)
                    .set_expression_attribute_names(rendered.names)
                    .set_expression_attribute_values(rendered.values);
                TransactWriteItem::builder()
                    .update(built(update.build())?)
                    .build()
            }
            TransactItem::Delete { key, condition } => {
                let rendered = render(condition.as_ref(), None)?;
                let delete = ddb::Delete::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(rendered.condition)
                    .set_expression_attribute_names(rendered.names)
                    .set_expression_attribute_values(rendered.values);
                TransactWriteItem::builder()
                    .delete(built(delete.build())?)
                    .build()
            }
            TransactItem::ConditionCheck { key, condition } => {
                let mut placeholders = Placeholders::default();
                let expression = match placeholders.condition(condition)? {
                    Some(expression) => expression,
                    None => placeholders.always()?,
                };
                let (names, values) = placeholders.into_maps();
                let check = ddb::ConditionCheck::builder()
                    .table_name(table)
                    .set_key(Some(key_map(key)))
                    .condition_expression(expression)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values);
                TransactWriteItem::builder()
                    .condition_check(built(check.build())?)
                    .build()
            }
        })
    }

    /// One BatchWriteItem call; returns what DynamoDB left unprocessed.
    async fn batch_write_once(
        &self,
        requests: Vec<ddb::WriteRequest>,
    ) -> TableResult<(Vec<()>, Option<Vec<ddb::WriteRequest>>)> {
        let output = self
            .client
            .batch_write_item()
            .request_items(self.table_name.as_ref(), requests)
            .send()
            .await
            .map_err(|error| from_sdk("BatchWriteItem", error))?;
        let unprocessed = output
            .unprocessed_items
            .and_then(|mut tables| tables.remove(self.table_name.as_ref()))
            .filter(|requests| !requests.is_empty());
        Ok((Vec::new(), unprocessed))
    }

    /// One BatchGetItem call; returns the items read and the keys DynamoDB left unprocessed.
    async fn batch_get_once(
        &self,
        keys: KeysAndAttributes,
    ) -> TableResult<(Vec<Item>, Option<KeysAndAttributes>)> {
        let output = self
            .client
            .batch_get_item()
            .request_items(self.table_name.as_ref(), keys)
            .send()
            .await
            .map_err(|error| from_sdk("BatchGetItem", error))?;
        let items = output
            .responses
            .and_then(|mut tables| tables.remove(self.table_name.as_ref()))
            .unwrap_or_default()
            .iter()
            .map(item_from_map)
            .collect::<TableResult<Vec<Item>>>()?;
        let unprocessed = output
            .unprocessed_keys
            .and_then(|mut tables| tables.remove(self.table_name.as_ref()))
            .filter(|keys| !keys.keys().is_empty());
        Ok((items, unprocessed))
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> TableResult<Option<Item>> {
        check_key(key)?;
        let output = self
            .client
            .get_item()
            .table_name(self.table_name.as_ref())
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| from_sdk("GetItem", error))?;
        output.item.as_ref().map(item_from_map).transpose()
    }

    async fn batch_get(&self, keys: &[Key]) -> TableResult<Vec<Item>> {
        check_batch_get(keys)?;
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let request = built(
            KeysAndAttributes::builder()
                .set_keys(Some(keys.iter().map(key_map).collect()))
                .consistent_read(true)
                .build(),
        )?;
        until_processed("BatchGetItem", request, self.backoff, |keys| {
            self.batch_get_once(keys)
        })
        .await
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> TableResult<()> {
        check_item(&item)?;
        let rendered = render(condition.as_ref(), None)?;
        self.client
            .put_item()
            .table_name(self.table_name.as_ref())
            .set_item(Some(item_map(&item)))
            .set_condition_expression(rendered.condition)
            .set_expression_attribute_names(rendered.names)
            .set_expression_attribute_values(rendered.values)
            .send()
            .await
            .map_err(|error| from_sdk("PutItem", error))?;
        Ok(())
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> TableResult<Item> {
        check_key(key)?;
        check_update(&update)?;
        let rendered = render(condition.as_ref(), Some(&update))?;
        let output = self
            .client
            .update_item()
            .table_name(self.table_name.as_ref())
            .set_key(Some(key_map(key)))
            .set_update_expression(rendered.update)
            .set_condition_expression(rendered.condition)
            .set_expression_attribute_names(rendered.names)
            .set_expression_attribute_values(rendered.values)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|error| from_sdk("UpdateItem", error))?;
        match output.attributes {
            Some(attributes) => item_from_map(&attributes),
            // ALL_NEW always returns at least the key; be safe if an emulator does not.
            None => Ok(Item::new(key.clone())),
        }
    }

    async fn delete(&self, key: &Key, condition: Option<Condition>) -> TableResult<()> {
        check_key(key)?;
        let rendered = render(condition.as_ref(), None)?;
        self.client
            .delete_item()
            .table_name(self.table_name.as_ref())
            .set_key(Some(key_map(key)))
            .set_condition_expression(rendered.condition)
            .set_expression_attribute_names(rendered.names)
            .set_expression_attribute_values(rendered.values)
            .send()
            .await
            .map_err(|error| from_sdk("DeleteItem", error))?;
        Ok(())
    }

    async fn query(&self, query: Query) -> TableResult<Page> {
        check_query(&query)?;
        let start = query
            .cursor
            .as_ref()
            .map(|cursor| cursor::decode(&query, cursor))
            .transpose()?;
        let key_attrs = query.index.map_or(("pk", "sk"), |index| index.key_attrs());
        let mut placeholders = Placeholders::default();
        let key_condition = placeholders.key_condition(key_attrs, &query.pk, &query.sk)?;
        let (names, values) = placeholders.into_maps();
        let limit = i32::try_from(query.limit).unwrap_or(i32::MAX);
        let output = self
            .client
            .query()
            .table_name(self.table_name.as_ref())
            .set_index_name(query.index.map(|index| index_name(index).to_owned()))
            .key_condition_expression(key_condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .scan_index_forward(query.forward)
            .limit(limit)
            .set_exclusive_start_key(start)
            // Secondary indexes cannot be read consistently; the table can.
            .consistent_read(query.index.is_none())
            .send()
            .await
            .map_err(|error| match from_sdk("Query", error) {
                // A start key DynamoDB finds outside the query (checked above, so only if the
                // checks and DynamoDB ever disagree).
                TableError::Invalid(message)
                    if query.cursor.is_some() && message.contains("starting key") =>
                {
                    TableError::InvalidCursor
                }
                other => other,
            })?;
        let items = output
            .items()
            .iter()
            .map(item_from_map)
            .collect::<TableResult<Vec<Item>>>()?;
        // More may follow exactly when DynamoDB says where it stopped; a full last page may come
        // without a key (moto) or with one before an empty page (DynamoDB): both are fine.
        let next = output
            .last_evaluated_key
            .as_ref()
            .filter(|key| !key.is_empty())
            .map(|key| cursor::encode(query.index, key))
            .transpose()?;
        Ok(Page { items, next })
    }

    async fn batch_write(&self, requests: Vec<WriteRequest>) -> TableResult<()> {
        check_batch_write(&requests)?;
        if requests.is_empty() {
            return Ok(());
        }
        let requests = requests
            .iter()
            .map(Self::write_request)
            .collect::<TableResult<Vec<_>>>()?;
        until_processed("BatchWriteItem", requests, self.backoff, |requests| {
            self.batch_write_once(requests)
        })
        .await?;
        Ok(())
    }

    async fn transact_write(&self, items: Vec<TransactItem>) -> TableResult<()> {
        check_transact_write(&items)?;
        if items.is_empty() {
            return Ok(());
        }
        let items = items
            .iter()
            .map(|item| self.transact_item(item))
            .collect::<TableResult<Vec<_>>>()?;
        // The SDK fills in a ClientRequestToken, so its own retries of this call are idempotent.
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map_err(from_transact)?;
        Ok(())
    }
}
