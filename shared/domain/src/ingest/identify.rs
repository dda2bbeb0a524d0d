//! `identify`: the one channel where personal data travels on purpose, and only with consent.
//!
//! Only a fixed list of string traits is kept, each bounded; the request rides beside the
//! behavior events in the envelope, never among them.

use serde_json::{Map, Value};

use super::EventRejection;
use crate::message::IdentifyRequest;
use crate::privacy::pii::truncate_chars;
use crate::time::Millis;

/// The traits kept from `identify` props; anything else is dropped.
pub const IDENTIFY_TRAITS: [&str; 8] = [
    "email",
    "name",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "phone",
    "website",
];
pub const MAX_TRAIT_CHARS: usize = 256;

pub(crate) fn identify_request(
    ts: Millis,
    props: Option<Value>,
) -> Result<IdentifyRequest, EventRejection> {
    let mut props = match props {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(props)) => props,
        Some(_) => return Err(EventRejection::InvalidField),
    };
    let mut traits = Map::new();
    for name in IDENTIFY_TRAITS {
        if let Some(Value::String(value)) = props.remove(name) {
            let mut value = value.trim().to_owned();
            truncate_chars(&mut value, MAX_TRAIT_CHARS);
            if !value.is_empty() {
                traits.insert(name.to_owned(), Value::String(value));
            }
        }
    }
    if traits.is_empty() {
        return Err(EventRejection::InvalidTraits);
    }
    Ok(IdentifyRequest { ts, traits })
}

/// Several `identify` events in one beacon become one request: later traits win, the latest
/// time is kept.
pub(crate) fn merge(current: &mut Option<IdentifyRequest>, next: IdentifyRequest) {
    match current {
        None => *current = Some(next),
        Some(current) => {
            current.ts = current.ts.max(next.ts);
            current.traits.extend(next.traits);
        }
    }
}
