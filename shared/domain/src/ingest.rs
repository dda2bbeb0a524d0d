//! Beacon contract v1: the two pure steps every ingest host runs.
//!
//! 1. [`parse_beacon`] checks size, content type and JSON shape, and names the site.
//! 2. The host looks the site up in its own configuration (Table, KV, variable).
//! 3. [`accept`] checks the origin, drops bots, applies consent rules, anonymizes every event and
//!    returns the queue message plus the receipt the host answers with (`202`).

use std::net::IpAddr;

use serde::Serialize;

use crate::message::QueueMessage;
use crate::site::{SiteConfig, SiteId};
use crate::time::Millis;

pub const MAX_BEACON_BYTES: usize = 64 * 1024;
pub const MAX_EVENTS_PER_BEACON: usize = 100;

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
    Schema { field: &'static str, message: String },
    #[error("unknown site {0:?}")]
    UnknownSite(SiteId),
    #[error("site {0:?} is disabled")]
    SiteDisabled(SiteId),
    #[error("origin {origin:?} is not allowed for site {site:?}")]
    OriginNotAllowed { site: SiteId, origin: String },
}

impl IngestError {
    pub fn status(&self) -> u16 {
        todo!()
    }

    pub fn code(&self) -> &'static str {
        todo!()
    }

    /// `{"error": {"code": "…", "message": "…"}}`
    pub fn to_json_body(&self) -> String {
        todo!()
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
    // Further fields are private to the ingest pipeline.
}

/// Checks the content type (`None`, `application/json` or `text/plain`, parameters allowed).
pub fn check_content_type(content_type: Option<&str>) -> Result<(), IngestError> {
    todo!()
}

/// Checks size, JSON and the beacon schema (`v`, `site`, `sid`, `events` 1..=100 …).
pub fn parse_beacon(body: &[u8]) -> Result<ParsedBeacon, IngestError> {
    todo!()
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
pub fn accept(
    beacon: ParsedBeacon,
    site: &SiteConfig,
    request: &RequestContext<'_>,
    keys: &IngestKeys<'_>,
    message_id: String,
    now: Millis,
) -> Result<Accepted, IngestError> {
    todo!()
}
