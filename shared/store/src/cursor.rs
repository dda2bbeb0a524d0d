//! Page positions as opaque cursors, for every `Table` adapter: the key of the last item of a page
//! (and, on an index, its index keys) as a small JSON object, base64url-encoded. Decoding never
//! trusts the text: anything that is not a cursor issued for the same partition and index is
//! `InvalidCursor`. The SQLite adapter resumes from the [`Position`] itself; the DynamoDB adapter
//! makes it from DynamoDB's LastEvaluatedKey and hands it back as the ExclusiveStartKey.

// Only the adapters make and read cursors; a build with neither adapter has no use for them.
#![cfg_attr(not(any(feature = "sqlite", feature = "dynamodb")), allow(dead_code))]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::table::{Cursor, Index, Key, TableError};

const VERSION: u8 = 1;
/// Cursors are a few hundred bytes; refuse to even decode anything far larger.
const MAX_CURSOR_CHARS: usize = 8 * 1024;

/// Where a page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    Table {
        key: Key,
    },
    Index {
        index: Index,
        index_pk: String,
        index_sk: String,
        key: Key,
    },
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u8,
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ix: Option<IndexWire>,
}

#[derive(Serialize, Deserialize)]
struct IndexWire {
    name: String,
    pk: String,
    sk: String,
}

/// The index as the cursor names it (the same names as the DynamoDB table's indexes).
fn index_name(index: Index) -> &'static str {
    match index {
        Index::Gsi1 => "gsi1",
        Index::Gsi2 => "gsi2",
    }
}

pub(crate) fn encode(position: &Position) -> Cursor {
    let wire = match position {
        Position::Table { key } => Wire {
            v: VERSION,
            pk: key.pk.clone(),
            sk: key.sk.clone(),
            ix: None,
        },
        Position::Index {
            index,
            index_pk,
            index_sk,
            key,
        } => Wire {
            v: VERSION,
            pk: key.pk.clone(),
            sk: key.sk.clone(),
            ix: Some(IndexWire {
                name: index_name(*index).to_owned(),
                pk: index_pk.clone(),
                sk: index_sk.clone(),
            }),
        },
    };
    // Serialising plain strings cannot fail; an empty cursor would only be refused later.
    let json = serde_json::to_vec(&wire).unwrap_or_default();
    Cursor(URL_SAFE_NO_PAD.encode(json))
}

/// The position `cursor` names, provided it belongs to a query of `pk` on `index`.
pub(crate) fn decode(
    cursor: &Cursor,
    index: Option<Index>,
    pk: &str,
) -> Result<Position, TableError> {
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
    let key = Key::new(wire.pk, wire.sk);
    match (index, wire.ix) {
        (None, None) if key.pk == pk => Ok(Position::Table { key }),
        (Some(index), Some(ix))
            if ix.name == index_name(index) && ix.pk == pk && !ix.sk.is_empty() =>
        {
            Ok(Position::Index {
                index,
                index_pk: ix.pk,
                index_sk: ix.sk,
                key,
            })
        }
        _ => Err(TableError::InvalidCursor),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_the_position_it_was_made_from() {
        let table = Position::Table {
            key: Key::new("P#1", "S#é"),
        };
        assert_eq!(decode(&encode(&table), None, "P#1").unwrap(), table);
        let index = Position::Index {
            index: Index::Gsi2,
            index_pk: "I".to_owned(),
            index_sk: "0001".to_owned(),
            key: Key::new("P", "S"),
        };
        assert_eq!(
            decode(&encode(&index), Some(Index::Gsi2), "I").unwrap(),
            index
        );
    }

    #[test]
    fn a_cursor_for_another_partition_or_index_is_refused() {
        let table = encode(&Position::Table {
            key: Key::new("P#1", "S"),
        });
        assert_eq!(decode(&table, None, "P#2"), Err(TableError::InvalidCursor));
        assert_eq!(
            decode(&table, Some(Index::Gsi1), "P#1"),
            Err(TableError::InvalidCursor)
        );
        let index = encode(&Position::Index {
            index: Index::Gsi1,
            index_pk: "I".to_owned(),
            index_sk: "x".to_owned(),
            key: Key::new("P", "S"),
        });
        assert_eq!(
            decode(&index, Some(Index::Gsi2), "I"),
            Err(TableError::InvalidCursor)
        );
        assert_eq!(decode(&index, None, "P"), Err(TableError::InvalidCursor));
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        for text in [
            "",
            "!!!",
            "e30",
            "bm90IGpzb24",
            "eyJ2IjoyLCJwayI6IlAiLCJzayI6IlMifQ",
            &"A".repeat(10_000),
        ] {
            assert_eq!(
                decode(&Cursor(text.to_owned()), None, "P"),
                Err(TableError::InvalidCursor),
                "{text}"
            );
        }
        let real = encode(&Position::Table {
            key: Key::new("P", "S"),
        })
        .0;
        for end in 0..real.len() {
            assert_eq!(
                decode(&Cursor(real[..end].to_owned()), None, "P"),
                Err(TableError::InvalidCursor)
            );
        }
    }
}
