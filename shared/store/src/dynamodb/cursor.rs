//! Page positions: DynamoDB's LastEvaluatedKey (the table key, plus the index key on an index)
//! as base64url JSON, handed back as the next query's ExclusiveStartKey. Decoding never trusts
//! the text: anything that is not a position of the same partition and index, within the query's
//! sort key condition, is `InvalidCursor` (DynamoDB would answer a foreign start key with an
//! error or a wrong page; moto with an empty page).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::attrs::AttrMap;
use super::limits::{PK_ATTR, SK_ATTR};
use crate::table::{Cursor, Index, Query, SortKeyCondition, TableError};

const VERSION: u8 = 1;
/// Cursors are a few hundred bytes; refuse to even decode anything far larger.
const MAX_CURSOR_CHARS: usize = 8 * 1024;

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Wire {
    v: u8,
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ix: Option<IndexWire>,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct IndexWire {
    name: String,
    pk: String,
    sk: String,
}

pub(crate) fn index_name(index: Index) -> &'static str {
    match index {
        Index::Gsi1 => super::schema::GSI1_NAME,
        Index::Gsi2 => super::schema::GSI2_NAME,
    }
}

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
    let ix = index
        .map(|index| {
            let (pk_attr, sk_attr) = index.key_attrs();
            Ok::<_, TableError>(IndexWire {
                name: index_name(index).to_owned(),
                pk: string(last_evaluated_key, pk_attr)?,
                sk: string(last_evaluated_key, sk_attr)?,
            })
        })
        .transpose()?;
    let wire = Wire {
        v: VERSION,
        pk: string(last_evaluated_key, PK_ATTR)?,
        sk: string(last_evaluated_key, SK_ATTR)?,
        ix,
    };
    let json = serde_json::to_vec(&wire)
        .map_err(|error| TableError::Unavailable(format!("cannot encode a cursor: {error}")))?;
    Ok(Cursor(URL_SAFE_NO_PAD.encode(json)))
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
    if cursor.0.is_empty() || cursor.0.len() > MAX_CURSOR_CHARS {
        return Err(TableError::InvalidCursor);
    }
    let json = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .map_err(|_| TableError::InvalidCursor)?;
    let wire: Wire = serde_json::from_slice(&json).map_err(|_| TableError::InvalidCursor)?;
    if wire.v != VERSION || wire.pk.is_empty() || wire.sk.is_empty() {
        return Err(TableError::InvalidCursor);
    }
    let mut key = HashMap::from([
        (PK_ATTR.to_owned(), AttributeValue::S(wire.pk.clone())),
        (SK_ATTR.to_owned(), AttributeValue::S(wire.sk.clone())),
    ]);
    match (query.index, wire.ix) {
        (None, None) if wire.pk == query.pk && within(&wire.sk, &query.sk) => Ok(key),
        (Some(index), Some(ix))
            if ix.name == index_name(index)
                && ix.pk == query.pk
                && !ix.sk.is_empty()
                && within(&ix.sk, &query.sk) =>
        {
            let (pk_attr, sk_attr) = index.key_attrs();
            key.insert(pk_attr.to_owned(), AttributeValue::S(ix.pk));
            key.insert(sk_attr.to_owned(), AttributeValue::S(ix.sk));
            Ok(key)
        }
        _ => Err(TableError::InvalidCursor),
    }
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
