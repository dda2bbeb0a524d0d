//! Reading one page of a query: the partition (or index partition), the sort key condition as a
//! byte-order range, the position after the cursor, and the order. On an index, items with equal
//! index sort keys are ordered by their table key, so a cursor always names one exact place.
//!
//! As DynamoDB, a page stops at `limit` items or once it holds about 1 MiB, whichever is first;
//! `next` is present only when more items follow.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};

use crate::cursor::{self, Position};
use crate::limits::check_query;
use crate::table::{Index, Item, Key, Page, Query, SortKeyCondition, TableError};

use super::attrs;
use super::connection::StoreFault;

/// DynamoDB's page size cap.
const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Checks the query before touching the database; returns where its cursor points.
pub(crate) fn check(query: &Query) -> Result<Option<Position>, TableError> {
    check_query(query)?;
    query
        .cursor
        .as_ref()
        .map(|cursor| cursor::decode(cursor, query.index, &query.pk))
        .transpose()
}

/// The column names of the partition and sort key the query reads; never from input.
fn columns(index: Option<Index>) -> (&'static str, &'static str) {
    match index {
        None => ("pk", "sk"),
        Some(Index::Gsi1) => ("gsi1pk", "gsi1sk"),
        Some(Index::Gsi2) => ("gsi2pk", "gsi2sk"),
    }
}

pub(crate) fn run(connection: &Connection, query: &Query) -> Result<Page, TableError> {
    let position = check(query)?;
    let (part, sort) = columns(query.index);
    let mut sql = format!("SELECT pk, sk, attrs, {sort} FROM items WHERE {part} = ?");
    let mut params = vec![SqlValue::Text(query.pk.clone())];
    let (lower, upper) = sort_range(&query.sk);
    if let Some(low) = lower {
        sql.push_str(&format!(" AND {sort} >= ?"));
        params.push(SqlValue::Text(low));
    }
    match upper {
        Some(Upper::Inclusive(high)) => {
            sql.push_str(&format!(" AND {sort} <= ?"));
            params.push(SqlValue::Text(high));
        }
        Some(Upper::Exclusive(high)) => {
            sql.push_str(&format!(" AND {sort} < ?"));
            params.push(SqlValue::Text(high));
        }
        None => {}
    }
    let after = if query.forward { ">" } else { "<" };
    match position {
        None => {}
        Some(Position::Table { key }) => {
            sql.push_str(&format!(" AND sk {after} ?"));
            params.push(SqlValue::Text(key.sk));
        }
        Some(Position::Index { index_sk, key, .. }) => {
            sql.push_str(&format!(" AND ({sort}, pk, sk) {after} (?, ?, ?)"));
            params.extend([
                SqlValue::Text(index_sk),
                SqlValue::Text(key.pk),
                SqlValue::Text(key.sk),
            ]);
        }
    }
    let direction = if query.forward { "ASC" } else { "DESC" };
    match query.index {
        None => sql.push_str(&format!(" ORDER BY sk {direction}")),
        Some(_) => sql.push_str(&format!(
            " ORDER BY {sort} {direction}, pk {direction}, sk {direction}"
        )),
    }
    sql.push_str(" LIMIT ?");
    // One row more than the page tells whether another page follows.
    params.push(SqlValue::Integer(
        i64::try_from(query.limit + 1).unwrap_or(i64::MAX),
    ));

    let mut statement = connection.prepare(&sql).map_err(TableError::sqlite)?;
    let mut rows = statement
        .query(params_from_iter(params))
        .map_err(TableError::sqlite)?;
    let mut items = Vec::new();
    let mut last_index_sk = String::new();
    let mut bytes = 0usize;
    let mut more = false;
    while let Some(row) = rows.next().map_err(TableError::sqlite)? {
        if items.len() == query.limit || bytes >= MAX_PAGE_BYTES {
            more = true;
            break;
        }
        let key = Key::new(
            row.get::<_, String>(0).map_err(TableError::sqlite)?,
            row.get::<_, String>(1).map_err(TableError::sqlite)?,
        );
        let text: String = row.get(2).map_err(TableError::sqlite)?;
        let item = Item {
            attrs: attrs::decode(&key, &text)?,
            key,
        };
        last_index_sk = row.get(3).map_err(TableError::sqlite)?;
        bytes = bytes.saturating_add(item.size());
        items.push(item);
    }
    let next = match items.last() {
        Some(last) if more => Some(cursor::encode(&match query.index {
            None => Position::Table {
                key: last.key.clone(),
            },
            Some(index) => Position::Index {
                index,
                index_pk: query.pk.clone(),
                index_sk: last_index_sk,
                key: last.key.clone(),
            },
        })),
        _ => None,
    };
    Ok(Page { items, next })
}

enum Upper {
    Inclusive(String),
    Exclusive(String),
}

/// The sort key condition as a range of byte-ordered strings.
fn sort_range(condition: &SortKeyCondition) -> (Option<String>, Option<Upper>) {
    match condition {
        SortKeyCondition::Any => (None, None),
        SortKeyCondition::BeginsWith(prefix) if prefix.is_empty() => (None, None),
        SortKeyCondition::BeginsWith(prefix) => (
            Some(prefix.clone()),
            prefix_end(prefix).map(Upper::Exclusive),
        ),
        SortKeyCondition::Between(low, high) => {
            (Some(low.clone()), Some(Upper::Inclusive(high.clone())))
        }
    }
}

/// The smallest string greater than every string that starts with `prefix` (None: no such
/// string). UTF-8 byte order is code point order, so it is the prefix with its last character
/// replaced by the next code point, dropping trailing characters that have no successor.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            other => char::from_u32(u32::from(other) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::MAX_QUERY_LIMIT;

    #[test]
    fn prefix_end_is_just_past_every_string_with_the_prefix() {
        assert_eq!(prefix_end("S#").as_deref(), Some("S$"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
        let end = prefix_end("é").unwrap_or_default();
        assert!("é\u{10FFFF}".as_bytes() < end.as_bytes());
        assert!("ê".as_bytes() >= end.as_bytes());
    }

    #[test]
    fn limits_and_bounds_are_checked() {
        let mut query = Query::partition("P");
        query.limit = 0;
        assert!(matches!(check(&query), Err(TableError::Invalid(_))));
        query.limit = MAX_QUERY_LIMIT + 1;
        assert!(matches!(check(&query), Err(TableError::Invalid(_))));
        query.limit = MAX_QUERY_LIMIT;
        assert_eq!(check(&query), Ok(None));
        query.sk = SortKeyCondition::Between("b".to_owned(), "a".to_owned());
        assert!(matches!(check(&query), Err(TableError::Invalid(_))));
    }
}
