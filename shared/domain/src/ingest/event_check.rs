//! Per-event checks and anonymization: one bad event is rejected with a reason, never the beacon.

use serde_json::{Map, Value};

use super::beacon::char_count_at_most;
use super::identify;
use super::props;
use crate::event::{Event, EventKind};
use crate::message::IdentifyRequest;
use crate::privacy::{AnonymizedUrl, anonymize_url, mask_pii, mask_pii_in_place};
use crate::time::{MILLIS_PER_DAY, Millis};

/// Longest `url` and `ref` accepted, in bytes (what browsers and CDNs handle comfortably).
pub const MAX_URL_BYTES: usize = 2048;
pub const MAX_TITLE_CHARS: usize = 512;
/// Longest event id, in characters.
pub const MAX_EVENT_ID_CHARS: usize = 64;
/// Browser clocks may be wrong: `ts` is clamped into `[received − 7 days, received + 5 minutes]`.
/// Seven days covers beacons a tracker queued while offline; five minutes covers clock drift.
pub const MAX_PAST_SKEW_MS: i64 = 7 * MILLIS_PER_DAY;
pub const MAX_FUTURE_SKEW_MS: i64 = 5 * 60 * 1000;

/// Why one event of a beacon was rejected; its `code` goes into the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRejection {
    /// The entry of `events` is not a JSON object.
    InvalidEvent,
    /// `t` is missing or not one of the v1 event types.
    UnknownType,
    /// `id` is missing, not a string, longer than 64 characters, or empty once sanitized.
    InvalidId,
    /// `ts` is missing or not a number.
    InvalidTs,
    /// A known field has the wrong JSON type, or a `page_view` has no `url`.
    InvalidField,
    /// A field is over its limit (url, ref, title, props).
    TooLarge,
    /// `identify` without analytics consent, or with DNT or GPC set.
    ConsentRequired,
    /// `identify` without any usable trait.
    InvalidTraits,
}

impl EventRejection {
    pub const ALL: [EventRejection; 8] = [
        EventRejection::InvalidEvent,
        EventRejection::UnknownType,
        EventRejection::InvalidId,
        EventRejection::InvalidTs,
        EventRejection::InvalidField,
        EventRejection::TooLarge,
        EventRejection::ConsentRequired,
        EventRejection::InvalidTraits,
    ];

    pub fn code(self) -> &'static str {
        match self {
            EventRejection::InvalidEvent => "invalid_event",
            EventRejection::UnknownType => "unknown_type",
            EventRejection::InvalidId => "invalid_id",
            EventRejection::InvalidTs => "invalid_ts",
            EventRejection::InvalidField => "invalid_field",
            EventRejection::TooLarge => "too_large",
            EventRejection::ConsentRequired => "consent_required",
            EventRejection::InvalidTraits => "invalid_traits",
        }
    }
}

/// The window browser timestamps are clamped into.
pub(crate) struct TimeWindow {
    earliest: i64,
    latest: i64,
}

impl TimeWindow {
    pub(crate) fn around(now: Millis) -> TimeWindow {
        TimeWindow {
            earliest: now.0.saturating_sub(MAX_PAST_SKEW_MS),
            latest: now.0.saturating_add(MAX_FUTURE_SKEW_MS),
        }
    }

    fn clamp(&self, browser_ts: f64) -> Millis {
        // `as` saturates on out-of-range floats, and JSON has no NaN.
        Millis((browser_ts as i64).clamp(self.earliest, self.latest))
    }
}

pub(crate) enum CheckedEvent {
    Behavior(Event),
    Identify(IdentifyRequest),
}

pub(crate) fn check_event(
    raw: Value,
    window: &TimeWindow,
    first_party_allowed: bool,
) -> Result<CheckedEvent, EventRejection> {
    let Value::Object(mut fields) = raw else {
        return Err(EventRejection::InvalidEvent);
    };
    let kind = match fields.get("t") {
        Some(Value::String(name)) => EventKind::parse(name).ok_or(EventRejection::UnknownType)?,
        _ => return Err(EventRejection::UnknownType),
    };
    let id = match fields.remove("id") {
        Some(Value::String(id)) => sanitize_event_id(&id)?,
        _ => return Err(EventRejection::InvalidId),
    };
    let ts = match fields.get("ts").and_then(Value::as_f64) {
        Some(browser_ts) => window.clamp(browser_ts),
        None => return Err(EventRejection::InvalidTs),
    };
    if kind == EventKind::Identify {
        if !first_party_allowed {
            return Err(EventRejection::ConsentRequired);
        }
        return identify::identify_request(ts, fields.remove("props")).map(CheckedEvent::Identify);
    }
    behavior_event(kind, id, ts, &mut fields).map(CheckedEvent::Behavior)
}

fn behavior_event(
    kind: EventKind,
    id: String,
    ts: Millis,
    fields: &mut Map<String, Value>,
) -> Result<Event, EventRejection> {
    let url = optional_string(fields, "url")?;
    let title = optional_string(fields, "title")?;
    let referrer = optional_string(fields, "ref")?;
    if url.as_ref().is_some_and(|url| url.len() > MAX_URL_BYTES)
        || referrer
            .as_ref()
            .is_some_and(|referrer| referrer.len() > MAX_URL_BYTES)
        || title
            .as_ref()
            .is_some_and(|title| !char_count_at_most(title, MAX_TITLE_CHARS))
    {
        return Err(EventRejection::TooLarge);
    }
    if kind == EventKind::PageView && url.is_none() {
        return Err(EventRejection::InvalidField);
    }
    let props = match fields.remove("props") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(props)) => {
            props::check_limits(&props)?;
            props::anonymize(props)
        }
        Some(_) => return Err(EventRejection::InvalidField),
    };

    let (url, path) = match url.as_deref().map(anonymize_url) {
        Some(AnonymizedUrl { url, path }) => (Some(url), Some(path)),
        None => (None, None),
    };
    let title = title.map(|mut title| {
        mask_pii_in_place(&mut title);
        title
    });
    let referrer = referrer.map(|referrer| anonymize_url(&referrer).url);
    Ok(Event {
        id,
        kind,
        ts,
        url,
        path,
        title,
        referrer,
        props,
    })
}

/// A string field, absent or null as `None`, any other JSON type rejected.
fn optional_string(
    fields: &mut Map<String, Value>,
    name: &str,
) -> Result<Option<String>, EventRejection> {
    match fields.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(EventRejection::InvalidField),
    }
}

/// Ids are masked like any text (a client could put a phone number there), then kept to
/// `[A-Za-z0-9_-]` so they are safe in keys and logs.
fn sanitize_event_id(raw: &str) -> Result<String, EventRejection> {
    if raw.is_empty() || !char_count_at_most(raw, MAX_EVENT_ID_CHARS) {
        return Err(EventRejection::InvalidId);
    }
    let masked = mask_pii(raw);
    let id: String = masked
        .chars()
        .filter(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '-'))
        .collect();
    if id.is_empty() {
        Err(EventRejection::InvalidId)
    } else {
        Ok(id)
    }
}
