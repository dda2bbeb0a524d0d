//! Custom properties (`props`): size limits, then masking of every key and value.
//!
//! Limits bound what one event can cost downstream (queue message size, DynamoDB item size);
//! they are checked on what the browser sent, before any work is spent masking it.

use serde_json::{Map, Value};

use super::EventRejection;
use crate::privacy::pii::{
    CARD_DIGITS, CARD_MASK, EMAIL_MASK, PHONE_MASK, contains_pii, passes_luhn, truncate_chars,
};
use crate::privacy::{mask_pii, mask_pii_in_place};

/// Largest `props`, measured as its compact JSON.
pub const MAX_PROPS_BYTES: usize = 4096;
/// Most keys in `props` itself.
pub const MAX_PROPS_KEYS: usize = 32;
/// `props` is depth 1; an object or array inside it is depth 2; nothing deeper.
pub const MAX_PROPS_DEPTH: usize = 2;
/// `props.text` of clicks: visible text, cut (not rejected) after masking.
pub const MAX_TEXT_CHARS: usize = 100;
/// `props.selector`: a CSS selector, cut after masking.
pub const MAX_SELECTOR_CHARS: usize = 256;
/// `props.message` of errors, cut after masking.
pub const MAX_MESSAGE_CHARS: usize = 512;
/// Longest property name kept; longer names are cut.
pub const MAX_KEY_CHARS: usize = 64;

const REDACTED: &str = "[redacted]";

pub(crate) fn check_limits(props: &Map<String, Value>) -> Result<(), EventRejection> {
    if props.len() > MAX_PROPS_KEYS
        || props
            .values()
            .any(|value| depth(value) + 1 > MAX_PROPS_DEPTH)
    {
        return Err(EventRejection::TooLarge);
    }
    let mut size = ByteCounter(0);
    match serde_json::to_writer(&mut size, props) {
        Ok(()) if size.0 <= MAX_PROPS_BYTES => Ok(()),
        _ => Err(EventRejection::TooLarge),
    }
}

/// How deep a value nests: a scalar is 0, an object or array of scalars is 1.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(fields) => 1 + fields.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Masks every key and value and bounds the well-known text properties.
pub(crate) fn anonymize(mut props: Map<String, Value>) -> Map<String, Value> {
    anonymize_object(&mut props);
    for (name, limit) in [
        ("text", MAX_TEXT_CHARS),
        ("selector", MAX_SELECTOR_CHARS),
        ("message", MAX_MESSAGE_CHARS),
    ] {
        if let Some(Value::String(text)) = props.get_mut(name) {
            truncate_chars(text, limit);
        }
    }
    props
}

fn anonymize_object(fields: &mut Map<String, Value>) {
    let keys_need_work = fields
        .keys()
        .any(|key| !super::beacon::char_count_at_most(key, MAX_KEY_CHARS) || contains_pii(key));
    if keys_need_work {
        *fields = std::mem::take(fields)
            .into_iter()
            .map(|(key, value)| {
                let mut key = mask_pii(&key).into_owned();
                truncate_chars(&mut key, MAX_KEY_CHARS);
                (key, value)
            })
            .collect();
    }
    for (key, value) in fields.iter_mut() {
        match sensitive_property_mask(key) {
            Some(mask) => *value = Value::String(mask.to_owned()),
            None => anonymize_value(value),
        }
    }
}

fn anonymize_value(value: &mut Value) {
    match value {
        Value::String(text) => mask_pii_in_place(text),
        Value::Number(number) => {
            if number.as_u64().is_some_and(is_card_number) {
                *value = Value::String(CARD_MASK.to_owned());
            }
        }
        Value::Array(items) => items.iter_mut().for_each(anonymize_value),
        Value::Object(fields) => anonymize_object(fields),
        Value::Null | Value::Bool(_) => {}
    }
}

/// A card number sent as a JSON number. (A phone number sent as a number cannot be told from a
/// counter; the property-name rule below catches the usual `phone` field.)
fn is_card_number(number: u64) -> bool {
    let mut digits = [0u8; 20];
    let mut count = 0;
    let mut rest = number;
    while rest > 0 {
        digits[count] = (rest % 10) as u8;
        rest /= 10;
        count += 1;
    }
    digits[..count].reverse();
    CARD_DIGITS.contains(&count) && passes_luhn(&digits[..count])
}

/// Properties whose name says they hold personal data lose their value whatever it looks like;
/// personal data travels only through `identify`.
fn sensitive_property_mask(key: &str) -> Option<&'static str> {
    const EMAIL_KEYS: [&str; 3] = ["email", "e-mail", "mail"];
    const PHONE_KEYS: [&str; 5] = ["phone", "telephone", "tel", "mobile", "cell"];
    const CARD_KEYS: [&str; 4] = ["card", "card_number", "cc", "cc_number"];
    const SECRET_KEYS: [&str; 7] = ["password", "pass", "pwd", "ssn", "iban", "token", "secret"];
    let is_any = |names: &[&str]| names.iter().any(|name| name.eq_ignore_ascii_case(key));
    if key.len() > 11 {
        None
    } else if is_any(&EMAIL_KEYS) {
        Some(EMAIL_MASK)
    } else if is_any(&PHONE_KEYS) {
        Some(PHONE_MASK)
    } else if is_any(&CARD_KEYS) {
        Some(CARD_MASK)
    } else if is_any(&SECRET_KEYS) {
        Some(REDACTED)
    } else {
        None
    }
}
