//! Beacon contract v1: the two pure steps every ingest host runs.
//!
//! 1. [`parse_beacon`] checks size, content type and JSON shape, and names the site.
//! 2. The host looks the site up in its own configuration (Table, KV, variable).
//! 3. [`accept`] checks the origin, drops bots, applies consent rules, anonymizes every event and
//!    returns the queue message plus the receipt the host answers with (`202`).
//!
//! The contract itself (fields, limits, event types, codes) is documented in `docs/beacon.md`.

mod beacon;
mod event_check;
mod identify;
mod props;

use std::net::IpAddr;

use serde::Serialize;

use crate::bots;
use crate::message::{
    BeaconEnvelope, Consent, DroppedReport, IdentifyRequest, MESSAGE_FORMAT_VERSION, QueueMessage,
    VisitorKeyKind,
};
use crate::privacy::{VisitorKey, first_party_id_allowed};
use crate::site::{SiteConfig, SiteId};
use crate::time::Millis;

pub use beacon::parse_beacon;
pub use event_check::{
    EventRejection, MAX_FUTURE_SKEW_MS, MAX_PAST_SKEW_MS, MAX_TITLE_CHARS, MAX_URL_BYTES,
};
pub use identify::{IDENTIFY_TRAITS, MAX_TRAIT_CHARS};
pub use props::{
    MAX_PROPS_BYTES, MAX_PROPS_DEPTH, MAX_PROPS_KEYS, MAX_SELECTOR_CHARS, MAX_TEXT_CHARS,
};

pub const MAX_BEACON_BYTES: usize = 64 * 1024;
pub const MAX_EVENTS_PER_BEACON: usize = 100;
/// Longest browser session id (`sid`) and first-party visitor id (`vid`), in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 64;

/// A whole-beacon rejection. Each variant maps to one HTTP status and one stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    #[error("the beacon is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type {0:?} is not accepted; send application/json or text/plain")]
    UnsupportedContentType(String),
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be a JSON object")]
    NotAnObject,
    #[error("{field}: {message}")]
    Schema {
        field: &'static str,
        message: String,
    },
    #[error("unknown site \"{0}\"")]
    UnknownSite(SiteId),
    #[error("site \"{0}\" is disabled")]
    SiteDisabled(SiteId),
    #[error("origin {origin:?} is not allowed for site \"{site}\"")]
    OriginNotAllowed { site: SiteId, origin: String },
}

impl IngestError {
    pub fn status(&self) -> u16 {
        match self {
            IngestError::PayloadTooLarge { .. } => 413,
            IngestError::UnsupportedContentType(_) => 415,
            IngestError::MalformedJson(_) | IngestError::NotAnObject => 400,
            IngestError::Schema { .. } => 422,
            IngestError::UnknownSite(_)
            | IngestError::SiteDisabled(_)
            | IngestError::OriginNotAllowed { .. } => 403,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            IngestError::PayloadTooLarge { .. } => "payload_too_large",
            IngestError::UnsupportedContentType(_) => "unsupported_content_type",
            IngestError::MalformedJson(_) => "malformed_json",
            IngestError::NotAnObject => "not_an_object",
            IngestError::Schema { .. } => "invalid_beacon",
            IngestError::UnknownSite(_) => "unknown_site",
            IngestError::SiteDisabled(_) => "site_disabled",
            IngestError::OriginNotAllowed { .. } => "origin_not_allowed",
        }
    }

    /// `{"error": {"code": "…", "message": "…"}}`
    pub fn to_json_body(&self) -> String {
        serde_json::json!({ "error": { "code": self.code(), "message": self.to_string() } })
            .to_string()
    }
}

/// What the host knows about the request, besides the body. The IP is used (truncated) and
/// dropped here; it never appears in anything this module returns.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    pub client_ip: Option<IpAddr>,
    pub user_agent: &'a str,
    pub origin: Option<&'a str>,
    /// `DNT: 1`
    pub do_not_track: bool,
    /// `Sec-GPC: 1`
    pub global_privacy_control: bool,
    /// ISO country code from the edge's geo data.
    pub country: Option<&'a str>,
}

/// Secrets for the keyed hashes. `daily_salt` comes from [`crate::privacy::daily_salt`].
#[derive(Clone, Copy)]
pub struct IngestKeys<'a> {
    pub daily_salt: &'a [u8; 32],
    pub visitor_pepper: &'a [u8],
}

/// Step 1 output: a syntactically valid beacon whose events are not yet checked one by one.
#[derive(Debug, Clone)]
pub struct ParsedBeacon {
    pub site: SiteId,
    browser_session_id: String,
    first_party_id: Option<String>,
    consent: Consent,
    /// Kept as JSON so one bad event is rejected alone in [`accept`].
    events: Vec<serde_json::Value>,
}

impl ParsedBeacon {
    /// How many events the beacon carries (1..=[`MAX_EVENTS_PER_BEACON`]).
    pub fn event_count(&self) -> usize {
        self.events.len()
    }
}

/// Checks the content type (`None`, `application/json` or `text/plain`, parameters allowed).
pub fn check_content_type(content_type: Option<&str>) -> Result<(), IngestError> {
    let Some(content_type) = content_type else {
        return Ok(());
    };
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let accepted = media_type.is_empty()
        || media_type.eq_ignore_ascii_case("application/json")
        || media_type.eq_ignore_ascii_case("text/plain");
    if accepted {
        Ok(())
    } else {
        Err(IngestError::UnsupportedContentType(content_type.to_owned()))
    }
}

/// The answer to an accepted beacon: `{"accepted": N, "rejected": [{"index": i, "code": "…"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    pub accepted: usize,
    pub rejected: Vec<Rejection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub index: usize,
    pub code: &'static str,
}

#[derive(Debug, Clone)]
pub struct Accepted {
    /// What to enqueue; `None` when nothing is worth a message (every event rejected).
    pub message: Option<QueueMessage>,
    pub receipt: Receipt,
}

/// Step 3: origin, bots, consent, per-event validation and anonymization.
///
/// A known bot gets the same `202` as a browser, with `accepted: 0` and no rejections (it learns
/// nothing about the filter), and the message is a [`DroppedReport`] that only counts it.
pub fn accept(
    beacon: ParsedBeacon,
    site: &SiteConfig,
    request: &RequestContext<'_>,
    keys: &IngestKeys<'_>,
    message_id: String,
    now: Millis,
) -> Result<Accepted, IngestError> {
    if beacon.site != site.id {
        // The host looked up another site than the beacon names: never mix two sites' data.
        return Err(IngestError::UnknownSite(beacon.site));
    }
    if !site.enabled {
        return Err(IngestError::SiteDisabled(site.id.clone()));
    }
    if !site.allows_origin(request.origin) {
        return Err(IngestError::OriginNotAllowed {
            site: site.id.clone(),
            origin: request.origin.unwrap_or_default().to_owned(),
        });
    }
    if bots::is_bot(request.user_agent) {
        let report = DroppedReport {
            v: MESSAGE_FORMAT_VERSION,
            id: message_id,
            site: site.id.clone(),
            received_at: now,
            bot_beacons: 1,
            bot_events: u32::try_from(beacon.events.len()).unwrap_or(u32::MAX),
        };
        return Ok(Accepted {
            message: Some(QueueMessage::Dropped(report)),
            receipt: Receipt {
                accepted: 0,
                rejected: Vec::new(),
            },
        });
    }

    let first_party_allowed = first_party_id_allowed(
        beacon.consent,
        request.do_not_track,
        request.global_privacy_control,
    );
    let window = event_check::TimeWindow::around(now);
    let mut events = Vec::with_capacity(beacon.events.len());
    let mut rejected = Vec::new();
    let mut identify: Option<IdentifyRequest> = None;
    let mut identify_count = 0;
    for (index, raw_event) in beacon.events.into_iter().enumerate() {
        match event_check::check_event(raw_event, &window, first_party_allowed) {
            Ok(event_check::CheckedEvent::Behavior(event)) => events.push(event),
            Ok(event_check::CheckedEvent::Identify(request)) => {
                identify_count += 1;
                identify::merge(&mut identify, request);
            }
            Err(rejection) => rejected.push(Rejection {
                index,
                code: rejection.code(),
            }),
        }
    }
    let receipt = Receipt {
        accepted: events.len() + identify_count,
        rejected,
    };
    if receipt.accepted == 0 {
        return Ok(Accepted {
            message: None,
            receipt,
        });
    }

    let visitor = match (&beacon.first_party_id, first_party_allowed) {
        (Some(first_party_id), true) => {
            VisitorKey::first_party(keys.visitor_pepper, &site.id, first_party_id)
        }
        _ => VisitorKey::daily(
            keys.daily_salt,
            &site.id,
            request.client_ip,
            request.user_agent,
        ),
    };
    let session_secret: &[u8] = match visitor.kind {
        VisitorKeyKind::FirstParty => keys.visitor_pepper,
        VisitorKeyKind::Daily => keys.daily_salt,
    };
    let session = visitor.session_key(session_secret, &beacon.browser_session_id);
    let envelope = BeaconEnvelope {
        v: MESSAGE_FORMAT_VERSION,
        id: message_id,
        site: site.id.clone(),
        visitor: visitor.key,
        visitor_kind: visitor.kind,
        session,
        received_at: now,
        country: request.country.and_then(country_code),
        consent: effective_consent(beacon.consent, request),
        events,
        rejected: u32::try_from(receipt.rejected.len()).unwrap_or(u32::MAX),
        identify,
    };
    Ok(Accepted {
        message: Some(QueueMessage::Beacon(envelope)),
        receipt,
    })
}

/// The consent the data was collected under: DNT and GPC withdraw both kinds.
fn effective_consent(consent: Consent, request: &RequestContext<'_>) -> Consent {
    let browser_says_no = request.do_not_track || request.global_privacy_control;
    Consent {
        analytics: consent.analytics && !browser_says_no,
        marketing: consent.marketing && !browser_says_no,
    }
}

/// Two ASCII letters, uppercased; anything else (`T1` for Tor, `XX`, empty) is dropped.
fn country_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (raw.len() == 2 && raw.bytes().all(|byte| byte.is_ascii_alphabetic()))
        .then(|| raw.to_ascii_uppercase())
}

#[cfg(test)]
mod tests;
