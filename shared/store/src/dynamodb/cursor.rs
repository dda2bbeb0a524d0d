//! Page positions: DynamoDB's LastEvaluatedKey (the table key, plus the index key on an index)
//! as a [`Position`], encoded by the shared [`crate::cursor`] and handed back as the next query's
//! ExclusiveStartKey. Decoding never trusts the text: on top of the shared checks (a cursor of
//! the same partition and index), the position must lie within the query's sort key condition,
//! or it is `InvalidCursor` (DynamoDB would answer a foreign start key with an error or a wrong
//! page; moto with an empty page). The SQLite adapter needs no such check: it resumes after any
//! position with a range predicate.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attrs::AttrMap;
use crate::cursor::{self, Position};
use crate::limits::{PK_ATTR, SK_ATTR};
use crate::table::{Cursor, Index, Key, Query, SortKeyCondition, TableError};

fn string(key: &AttrMap, name: &str) -> Result<String, TableError> {
    match key.get(name) {
        Some(AttributeValue::S(text)) => Ok(text.clone()),
        _ => Err(TableError::Unavailable(format!(
            "DynamoDB returned a LastEvaluatedKey without the string attribute {name}"
        ))),
    }
}

/// The cursor for the page after the one that ended at `last_evaluated_key`.
pub(crate) fn encode(
    index: Option<Index>,
    last_evaluated_key: &AttrMap,
) -> Result<Cursor, TableError> {
    let position = match index {
        None => Position::Table {
            key: Key::new(
                string(last_evaluated_key, PK_ATTR)?,
                string(last_evaluated_key, SK_ATTR)?,
            ),
        },
        Some(index) => {
            let (pk_attr, sk_attr) = index.key_attrs();
            let index_pk = string(last_evaluated_key, pk_attr)?;
            let index_sk = string(last_evaluated_key, sk_attr)?;
            Position::Index {
                index,
                index_pk,
                index_sk,
                key: Key::new(
                    string(last_evaluated_key, PK_ATTR)?,
                    string(last_evaluated_key, SK_ATTR)?,
                ),
            }
        }
    };
    Ok(cursor::encode(&position))
}

fn within(sort_key: &str, condition: &SortKeyCondition) -> bool {
    match condition {
        SortKeyCondition::Any => true,
        SortKeyCondition::BeginsWith(prefix) => sort_key.starts_with(prefix.as_str()),
        SortKeyCondition::Between(low, high) => {
            low.as_str() <= sort_key && sort_key <= high.as_str()
        }
    }
}

/// The ExclusiveStartKey `query`'s cursor names, provided it belongs to this query.
pub(crate) fn decode(query: &Query, cursor: &Cursor) -> Result<AttrMap, TableError> {
    let position = cursor::decode(cursor, query.index, &query.pk)?;
    let (key, index_key) = match position {
        Position::Table { key } => (key, None),
        Position::Index {
            index,
            index_pk,
            index_sk,
            key,
        } => (key, Some((index, index_pk, index_sk))),
    };
    let sort_key = index_key
        .as_ref()
        .map_or(&key.sk, |(_, _, index_sk)| index_sk);
    if !within(sort_key, &query.sk) {
        return Err(TableError::InvalidCursor);
    }
    let mut map = HashMap::from([
        (PK_ATTR.to_owned(), AttributeValue::S(key.pk)),
        (SK_ATTR.to_owned(), AttributeValue::S(key.sk)),
    ]);
    if let Some((index, index_pk, index_sk)) = index_key {
        let (pk_attr, sk_attr) = index.key_attrs();
        map.insert(pk_attr.to_owned(), AttributeValue::S(index_pk));
        map.insert(sk_attr.to_owned(), AttributeValue::S(index_sk));
    }
    Ok(map)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_owned())
    }

    fn table_key() -> AttrMap {
        HashMap::from([("pk".to_owned(), s("P#1")), ("sk".to_owned(), s("b#é"))])
    }

    fn index_key() -> AttrMap {
        let mut key = table_key();
        key.insert("gsi2pk".to_owned(), s("I"));
        key.insert("gsi2sk".to_owned(), s("0001"));
        key
    }

    fn query(index: Option<Index>, pk: &str, sk: SortKeyCondition) -> Query {
        Query {
            index,
            sk,
            ..Query::partition(pk)
        }
    }

    #[test]
    fn a_cursor_gives_back_the_last_evaluated_key() {
        let cursor = encode(None, &table_key()).unwrap();
        assert_eq!(
            decode(&query(None, "P#1", SortKeyCondition::Any), &cursor).unwrap(),
            table_key()
        );
        let cursor = encode(Some(Index::Gsi2), &index_key()).unwrap();
        let on_index = query(
            Some(Index::Gsi2),
            "I",
            SortKeyCondition::BeginsWith("00".to_owned()),
        );
        assert_eq!(decode(&on_index, &cursor).unwrap(), index_key());
    }

    #[test]
    fn a_cursor_of_another_partition_index_or_range_is_invalid() {
        let table = encode(None, &table_key()).unwrap();
        let invalid = |query: Query, cursor: &Cursor| {
            assert_eq!(
                decode(&query, cursor),
                Err(TableError::InvalidCursor),
                "{query:?}"
            );
        };
        invalid(query(None, "P#2", SortKeyCondition::Any), &table);
        invalid(
            query(Some(Index::Gsi1), "P#1", SortKeyCondition::Any),
            &table,
        );
        invalid(
            query(None, "P#1", SortKeyCondition::BeginsWith("a".to_owned())),
            &table,
        );
        invalid(
            query(
                None,
                "P#1",
                SortKeyCondition::Between("c".to_owned(), "d".to_owned()),
            ),
            &table,
        );
        let index = encode(Some(Index::Gsi2), &index_key()).unwrap();
        invalid(query(Some(Index::Gsi1), "I", SortKeyCondition::Any), &index);
        invalid(query(None, "P#1", SortKeyCondition::Any), &index);
        invalid(query(Some(Index::Gsi2), "J", SortKeyCondition::Any), &index);
    }

    #[test]
    fn garbage_and_truncated_cursors_are_invalid_without_panicking() {
        let any = query(None, "P#1", SortKeyCondition::Any);
        for text in ["", "!!!", "e30", "eyJ9", "bm90IGpzb24", &"A".repeat(10_000)] {
            assert_eq!(
                decode(&any, &Cursor(text.to_owned())),
                Err(TableError::InvalidCursor),
                "{text}"
            );
        }
        let real = encode(None, &table_key()).unwrap().0;
        for end in 0..real.len() {
            assert_eq!(
                decode(&any, &Cursor(real[..end].to_owned())),
                Err(TableError::InvalidCursor)
            );
        }
    }

    #[test]
    fn a_last_evaluated_key_without_the_index_keys_is_an_error_not_a_cursor() {
        assert!(matches!(
            encode(Some(Index::Gsi1), &table_key()),
            Err(TableError::Unavailable(_))
        ));
    }
}
