//! Step 1 of ingest: the whole-beacon checks (size, JSON, schema) that decide between a `4xx`
//! for the beacon and per-event checks in `accept`.

use serde_json::{Map, Value};

use super::{
    IngestError, MAX_BEACON_BYTES, MAX_CLIENT_ID_CHARS, MAX_EVENTS_PER_BEACON, ParsedBeacon,
};
use crate::message::Consent;
use crate::site::SiteId;

/// Checks size, JSON and the beacon schema (`v`, `site`, `sid`, `events` 1..=100 …).
pub fn parse_beacon(body: &[u8]) -> Result<ParsedBeacon, IngestError> {
    if body.len() > MAX_BEACON_BYTES {
        return Err(IngestError::PayloadTooLarge {
            limit: MAX_BEACON_BYTES,
        });
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| IngestError::MalformedJson(error.to_string()))?;
    let Value::Object(mut fields) = value else {
        return Err(IngestError::NotAnObject);
    };

    if fields.get("v").and_then(Value::as_u64) != Some(1) {
        return Err(schema("v", "must be 1 (beacon format v1)"));
    }
    let site = match fields.get("site") {
        Some(Value::String(raw)) => {
            SiteId::parse(raw).map_err(|error| schema("site", error.to_string()))?
        }
        _ => return Err(schema("site", "is required and must be a string")),
    };
    let browser_session_id = match fields.remove("sid") {
        Some(Value::String(sid))
            if !sid.is_empty() && char_count_at_most(&sid, MAX_CLIENT_ID_CHARS) =>
        {
            sid
        }
        _ => {
            return Err(schema(
                "sid",
                format!("must be a string of 1 to {MAX_CLIENT_ID_CHARS} characters"),
            ));
        }
    };
    let first_party_id = match fields.remove("vid") {
        None | Some(Value::Null) => None,
        Some(Value::String(vid)) if char_count_at_most(&vid, MAX_CLIENT_ID_CHARS) => {
            Some(vid).filter(|vid| !vid.is_empty())
        }
        Some(_) => {
            return Err(schema(
                "vid",
                format!("must be a string of at most {MAX_CLIENT_ID_CHARS} characters"),
            ));
        }
    };
    let consent = match fields.get("consent") {
        None | Some(Value::Null) => Consent::default(),
        Some(Value::Object(consent)) => parse_consent(consent),
        Some(_) => return Err(schema("consent", "must be an object")),
    };
    let events = match fields.remove("events") {
        Some(Value::Array(events)) if (1..=MAX_EVENTS_PER_BEACON).contains(&events.len()) => events,
        _ => {
            return Err(schema(
                "events",
                format!("must be an array of 1 to {MAX_EVENTS_PER_BEACON} events"),
            ));
        }
    };
    Ok(ParsedBeacon {
        site,
        browser_session_id,
        first_party_id,
        consent,
        events,
    })
}

fn schema(field: &'static str, message: impl Into<String>) -> IngestError {
    IngestError::Schema {
        field,
        message: message.into(),
    }
}

/// Only a literal `true` is consent: a missing, null or misspelt value never is.
fn parse_consent(consent: &Map<String, Value>) -> Consent {
    let granted = |name: &str| consent.get(name) == Some(&Value::Bool(true));
    Consent {
        analytics: granted("analytics"),
        marketing: granted("marketing"),
    }
}

/// `text.chars().count() <= max`, without counting when the byte length already proves it.
pub(crate) fn char_count_at_most(text: &str, max: usize) -> bool {
    text.len() <= max || text.chars().count() <= max
}
