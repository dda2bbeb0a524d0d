//! One page of an ordered list with filters the key cannot express (DynamoDB's FilterExpression,
//! done here so both adapters behave alike): read the list's partition in order, keep matching
//! items, and stop at `limit` matches or after `max_examined` items, whichever comes first. The
//! cursor resumes right after the last item examined, so a page may be short (even empty) while
//! `next` is still set; no request ever reads more than `max_examined` items.

use crate::cursor::{Position, encode};
use crate::table::{
    Cursor, Item, Key, MAX_BATCH_WRITE, MAX_QUERY_LIMIT, Query, SortKeyCondition, Table,
    TableError, WriteRequest,
};

#[derive(Debug, Clone, PartialEq)]
pub struct FilteredPage {
    pub items: Vec<Item>,
    pub next: Option<Cursor>,
}

pub async fn filtered_page(
    table: &dyn Table,
    mut query: Query,
    limit: usize,
    max_examined: usize,
    keep: impl Fn(&Item) -> bool,
) -> Result<FilteredPage, TableError> {
    let limit = limit.max(1);
    let max_examined = max_examined.max(limit);
    let mut kept = Vec::new();
    let mut examined = 0;
    loop {
        let wanted = (limit - kept.len()).max(50);
        query.limit = wanted
            .min(max_examined - examined)
            .clamp(1, MAX_QUERY_LIMIT);
        let page = table.query(query.clone()).await?;
        let count = page.items.len();
        for (position, item) in page.items.into_iter().enumerate() {
            examined += 1;
            let more_follow = position + 1 < count || page.next.is_some();
            let stop = if keep(&item) {
                kept.push(item.clone());
                kept.len() == limit
            } else {
                false
            };
            if stop || examined >= max_examined {
                let next = more_follow.then(|| cursor_after(&query, &item));
                return Ok(FilteredPage { items: kept, next });
            }
        }
        match page.next {
            Some(next) => query.cursor = Some(next),
            None => {
                return Ok(FilteredPage {
                    items: kept,
                    next: None,
                });
            }
        }
    }
}

/// A cursor that resumes `query` right after `item`, as DynamoDB's ExclusiveStartKey would.
fn cursor_after(query: &Query, item: &Item) -> Cursor {
    let position = match query.index {
        None => Position::Table {
            key: item.key.clone(),
        },
        Some(index) => {
            let (pk_attr, sk_attr) = index.key_attrs();
            Position::Index {
                index,
                index_pk: item.get_str(pk_attr).unwrap_or_default().to_owned(),
                index_sk: item.get_str(sk_attr).unwrap_or_default().to_owned(),
                key: item.key.clone(),
            }
        }
    };
    encode(&position)
}

/// Every item of one partition, refusing partitions beyond `max_items` rather than reading
/// without bound (GDPR export and erase of one person).
pub async fn read_partition(
    table: &dyn Table,
    pk: &str,
    max_items: usize,
) -> Result<Vec<Item>, TableError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = table
            .query(Query {
                index: None,
                pk: pk.to_owned(),
                sk: SortKeyCondition::Any,
                forward: true,
                limit: MAX_QUERY_LIMIT,
                cursor,
            })
            .await?;
        items.extend(page.items);
        if items.len() > max_items {
            return Err(TableError::Invalid(format!(
                "partition {pk} holds more than {max_items} items"
            )));
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Deletes `keys` in batches (not atomic: callers make the deletion safe to repeat).
pub async fn delete_all(table: &dyn Table, keys: Vec<Key>) -> Result<(), TableError> {
    let mut requests: Vec<WriteRequest> = keys.into_iter().map(WriteRequest::Delete).collect();
    while !requests.is_empty() {
        let rest = requests.split_off(requests.len().min(MAX_BATCH_WRITE));
        table.batch_write(requests).await?;
        requests = rest;
    }
    Ok(())
}
