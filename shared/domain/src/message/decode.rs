//! Fast deserialization of [`QueueMessage`].
//!
//! Serde's derive for internally tagged enums first buffers the whole message into a generic
//! tree to find the tag, then deserializes again from that tree: every string is copied twice,
//! which made parsing a batch slower than folding it. Every producer writes the tag first
//! (`to_json` serializes it first), so when `kind` is the first key the rest of the object is
//! handed straight to the variant's derived deserializer. Any other key order still works,
//! through the buffered path.

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{BeaconEnvelope, DroppedReport, QueueMessage};

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum MessageKind {
    Beacon,
    Dropped,
}

/// The slow path for messages whose tag is not the first key.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TaggedMessage {
    Beacon(BeaconEnvelope),
    Dropped(DroppedReport),
}

impl From<TaggedMessage> for QueueMessage {
    fn from(message: TaggedMessage) -> QueueMessage {
        match message {
            TaggedMessage::Beacon(envelope) => QueueMessage::Beacon(envelope),
            TaggedMessage::Dropped(report) => QueueMessage::Dropped(report),
        }
    }
}

/// A map key, compared with `kind` without allocating when it is borrowed from the input.
enum Key {
    Kind,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(if key == "kind" {
                    Key::Kind
                } else {
                    Key::Other(key.to_owned())
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for QueueMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<QueueMessage, D::Error> {
        deserializer.deserialize_map(QueueMessageVisitor)
    }
}

struct QueueMessageVisitor;

impl<'de> Visitor<'de> for QueueMessageVisitor {
    type Value = QueueMessage;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a queue message object with a \"kind\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<QueueMessage, A::Error> {
        let mut buffered = serde_json::Map::new();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Kind if buffered.is_empty() => {
                    let kind: MessageKind = map.next_value()?;
                    let rest = MapAccessDeserializer::new(map);
                    return match kind {
                        MessageKind::Beacon => {
                            BeaconEnvelope::deserialize(rest).map(QueueMessage::Beacon)
                        }
                        MessageKind::Dropped => {
                            DroppedReport::deserialize(rest).map(QueueMessage::Dropped)
                        }
                    };
                }
                Key::Kind => {
                    buffered.insert("kind".to_owned(), map.next_value()?);
                }
                Key::Other(name) => {
                    buffered.insert(name, map.next_value()?);
                }
            }
        }
        serde_json::from_value::<TaggedMessage>(serde_json::Value::Object(buffered))
            .map(QueueMessage::from)
            .map_err(de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn beacon_json() -> serde_json::Value {
        json!({"kind": "beacon", "v": 1, "id": "m1", "site": "demo", "visitor": "v", "visitor_kind": "daily",
               "session": "s", "received_at": 5, "consent": {"analytics": false},
               "events": [{"id": "e", "t": "click", "ts": 4, "props": {"selector": "a"}}]})
    }

    #[test]
    fn a_message_with_the_tag_first_round_trips() {
        let message = QueueMessage::from_json(&beacon_json().to_string()).unwrap();
        assert_eq!(
            QueueMessage::from_json(&message.to_json()).unwrap(),
            message
        );
        assert_eq!(message.id(), "m1");
    }

    #[test]
    fn a_message_with_the_tag_anywhere_decodes_the_same() {
        let tag_first = QueueMessage::from_json(&beacon_json().to_string()).unwrap();
        let text = r#"{"v":1,"id":"m1","site":"demo","kind":"beacon","visitor":"v","visitor_kind":"daily","session":"s",
            "received_at":5,"consent":{"analytics":false},"events":[{"id":"e","t":"click","ts":4,"props":{"selector":"a"}}]}"#;
        assert_eq!(QueueMessage::from_json(text).unwrap(), tag_first);
    }

    #[test]
    fn unknown_kinds_and_missing_tags_are_errors() {
        assert!(QueueMessage::from_json(r#"{"kind":"other","id":"x"}"#).is_err());
        assert!(QueueMessage::from_json(r#"{"id":"x"}"#).is_err());
        assert!(QueueMessage::from_json(r#"{"kind":"beacon","#).is_err());
        assert!(QueueMessage::from_json("[]").is_err());
    }

    #[test]
    fn a_message_of_another_format_version_is_refused() {
        for version in [0, 2, 99] {
            let mut beacon = beacon_json();
            beacon["v"] = json!(version);
            let error = QueueMessage::from_json(&beacon.to_string()).unwrap_err();
            assert!(
                error.to_string().contains(&format!("version {version}")),
                "{error}"
            );
        }
        let dropped = r#"{"kind":"dropped","v":2,"id":"b","site":"demo","received_at":1,"bot_beacons":1,"bot_events":3}"#;
        assert!(QueueMessage::from_json(dropped).is_err());
    }

    #[test]
    fn a_dropped_report_decodes() {
        let text = r#"{"kind":"dropped","v":1,"id":"b","site":"demo","received_at":1,"bot_beacons":1,"bot_events":3}"#;
        assert!(
            matches!(QueueMessage::from_json(text).unwrap(), QueueMessage::Dropped(report) if report.bot_events == 3)
        );
    }
}
