//! How an item's attributes are stored: compact JSON text of the attribute map, each value tagged
//! with its type as DynamoDB's wire format does (`{"S":"…"}`, `{"N":1}`, `{"B":"base64"}`,
//! `{"Bool":true}`), binary as unpadded base64 rather than a JSON array of numbers.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::table::{Key, TableError, Value};

#[derive(Serialize, Deserialize)]
enum Stored {
    S(String),
    N(i64),
    B(String),
    Bool(bool),
}

pub(crate) fn encode(attrs: &BTreeMap<String, Value>) -> Result<String, TableError> {
    let stored: BTreeMap<&str, Stored> = attrs
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::S(text) => Stored::S(text.clone()),
                Value::N(number) => Stored::N(*number),
                Value::B(bytes) => Stored::B(STANDARD_NO_PAD.encode(bytes)),
                Value::Bool(flag) => Stored::Bool(*flag),
            };
            (name.as_str(), value)
        })
        .collect();
    serde_json::to_string(&stored)
        .map_err(|error| TableError::Invalid(format!("cannot encode the attributes: {error}")))
}

/// Decodes what [`encode`] wrote; a row that does not decode is reported as the store failing.
pub(crate) fn decode(key: &Key, text: &str) -> Result<BTreeMap<String, Value>, TableError> {
    let corrupt = |why: String| {
        TableError::Unavailable(format!(
            "stored item {}/{} is unreadable: {why}",
            key.pk, key.sk
        ))
    };
    let stored: BTreeMap<String, Stored> =
        serde_json::from_str(text).map_err(|error| corrupt(error.to_string()))?;
    stored
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Stored::S(text) => Value::S(text),
                Stored::N(number) => Value::N(number),
                Stored::B(text) => Value::B(
                    STANDARD_NO_PAD
                        .decode(text)
                        .map_err(|error| corrupt(error.to_string()))?,
                ),
                Stored::Bool(flag) => Value::Bool(flag),
            };
            Ok((name, value))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_value_type_survives_encoding() {
        let key = Key::new("p", "s");
        let attrs: BTreeMap<String, Value> = [
            ("s".to_owned(), Value::S("héllo \"x\"".to_owned())),
            ("n".to_owned(), Value::N(i64::MIN)),
            ("b".to_owned(), Value::B(vec![0, 255, 7])),
            ("e".to_owned(), Value::B(Vec::new())),
            ("t".to_owned(), Value::Bool(true)),
        ]
        .into_iter()
        .collect();
        let text = encode(&attrs).unwrap();
        assert_eq!(decode(&key, &text).unwrap(), attrs);
    }

    #[test]
    fn unreadable_rows_are_reported_not_panicked_on() {
        let key = Key::new("p", "s");
        assert!(matches!(
            decode(&key, "{not json"),
            Err(TableError::Unavailable(_))
        ));
        assert!(matches!(
            decode(&key, r#"{"b":{"B":"!!"}}"#),
            Err(TableError::Unavailable(_))
        ));
    }
}
