//! `POST /e` and its CORS preflight, over the [`IngestDeps`] port: the same flow as crm-local's
//! handler (content type → size → parse → site → accept → enqueue → `202` with the receipt), with
//! the edge's inputs. Every rule is crm-domain's; this module only moves headers and bytes.
//!
//! The client IP comes from `CF-Connecting-IP` and the country from `CF-IPCountry` (or
//! `request.cf.country`); both go into crm-domain's `RequestContext`, which truncates the IP for
//! the daily visitor hash and keeps only a two-letter country. Neither is logged or returned.

use std::net::IpAddr;

use crm_domain::ingest::{
    self, IngestError, IngestKeys, MAX_BEACON_BYTES, Receipt, RequestContext, check_content_type,
    parse_beacon,
};
use crm_domain::site::{SiteConfig, SiteId};
use crm_domain::time::Millis;

use crate::config::IngestConfig;
use crate::http::{EdgeResponse, RequestHead};
use crate::log::Level;
use crate::message_id::uuid_v7;

/// A dependency (site store, queue) could not answer; the client should retry later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// What the ingest flow needs from its host: configuration, a clock, randomness, the site store
/// and the queue. The Worker implements it over `env`; tests with fakes.
#[allow(
    async_fn_in_trait,
    reason = "the Workers runtime is single-threaded: no caller needs a Send future"
)]
pub trait IngestDeps {
    fn config(&self) -> &IngestConfig;
    fn now(&self) -> Millis;
    /// Fresh random bytes for the message id.
    fn random_bytes(&self) -> [u8; 10];
    /// A site that is not in the `CRM_SITES` variable, from KV (`Ok(None)` without KV).
    async fn stored_site(&self, id: &SiteId) -> Result<Option<SiteConfig>, Unavailable>;
    /// Queues one message (its JSON text). `Ok` means the host took responsibility for it.
    async fn enqueue(&self, message: String) -> Result<(), Unavailable>;
    fn log(&self, level: Level, message: &str, fields: &[(&str, &str)]);
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is larger than the limit")]
    TooLarge,
    #[error("the body could not be read: {0}")]
    Unreadable(String),
}

/// The request body, read at most up to a limit (a longer body is refused without reading it
/// all).
#[allow(
    async_fn_in_trait,
    reason = "the Workers runtime is single-threaded: no caller needs a Send future"
)]
pub trait BodySource {
    async fn read_limited(self, limit: usize) -> Result<Vec<u8>, BodyError>;
}

impl BodySource for Vec<u8> {
    async fn read_limited(self, limit: usize) -> Result<Vec<u8>, BodyError> {
        if self.len() > limit {
            Err(BodyError::TooLarge)
        } else {
            Ok(self)
        }
    }
}

enum Failure {
    Rejected(IngestError),
    Unavailable(Unavailable),
}

impl From<IngestError> for Failure {
    fn from(error: IngestError) -> Failure {
        Failure::Rejected(error)
    }
}

/// `POST /e`: `202` with the receipt, the contract's `4xx` errors, or `503` when the beacon
/// could not be queued. Every answer carries the CORS headers, as crm-local's do.
pub async fn receive_beacon<D: IngestDeps, B: BodySource>(
    deps: &D,
    head: &RequestHead,
    body: B,
) -> EdgeResponse {
    let mut response = match accept_beacon(deps, head, body).await {
        Ok(receipt) => EdgeResponse::json(202, serde_json::to_string(&receipt).unwrap_or_default()),
        Err(Failure::Rejected(error)) => EdgeResponse::json(error.status(), error.to_json_body()),
        Err(Failure::Unavailable(cause)) => {
            deps.log(Level::Error, "beacon not queued", &[("cause", &cause.0)]);
            EdgeResponse::error(
                503,
                "unavailable",
                "the beacon could not be stored; retry later",
            )
        }
    };
    allow_origin(&mut response, head.header("origin"));
    response
}

async fn accept_beacon<D: IngestDeps, B: BodySource>(
    deps: &D,
    head: &RequestHead,
    body: B,
) -> Result<Receipt, Failure> {
    check_content_type(head.header("content-type"))?;
    let too_large = IngestError::PayloadTooLarge {
        limit: MAX_BEACON_BYTES,
    };
    let declared_length = head
        .header("content-length")
        .and_then(|length| length.trim().parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > MAX_BEACON_BYTES as u64) {
        return Err(too_large.into());
    }
    let body = match body.read_limited(MAX_BEACON_BYTES).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Err(too_large.into()),
        Err(BodyError::Unreadable(cause)) => return Err(IngestError::MalformedJson(cause).into()),
    };
    let beacon = parse_beacon(&body)?;
    let site = find_site(deps, &beacon.site)
        .await
        .map_err(Failure::Unavailable)?
        .ok_or_else(|| IngestError::UnknownSite(beacon.site.clone()))?;
    let config = deps.config();
    let now = deps.now();
    let salt = config.daily_salt.for_day(now.day());
    let request = RequestContext {
        client_ip: client_ip(head),
        user_agent: head.header("user-agent").unwrap_or_default(),
        origin: head.header("origin"),
        do_not_track: head.header("dnt").map(str::trim) == Some("1"),
        global_privacy_control: head.header("sec-gpc").map(str::trim) == Some("1"),
        country: head.header("cf-ipcountry").or(head.cf_country.as_deref()),
    };
    let keys = IngestKeys {
        daily_salt: &salt,
        visitor_pepper: config.visitor_pepper.expose(),
    };
    let message_id = uuid_v7(
        u64::try_from(now.0).unwrap_or_default(),
        deps.random_bytes(),
    );
    let accepted = ingest::accept(beacon, &site, &request, &keys, message_id, now)?;
    if let Some(message) = accepted.message {
        deps.enqueue(message.to_json())
            .await
            .map_err(Failure::Unavailable)?;
    }
    Ok(accepted.receipt)
}

/// The `CRM_SITES` variable first, then KV.
async fn find_site<D: IngestDeps>(
    deps: &D,
    id: &SiteId,
) -> Result<Option<SiteConfig>, Unavailable> {
    match deps.config().sites.get(id) {
        Some(site) => Ok(Some(site.clone())),
        None => deps.stored_site(id).await,
    }
}

/// Cloudflare sets `CF-Connecting-IP` to the visitor's address on every request it proxies.
fn client_ip(head: &RequestHead) -> Option<IpAddr> {
    head.header("cf-connecting-ip")
        .and_then(|ip| ip.trim().parse().ok())
}

/// `OPTIONS /e`. A preflight carries no body, so it cannot name its site the way the beacon
/// does: with `?site=<id>` the origin is checked against that site, otherwise against every
/// site of the `CRM_SITES` variable (KV cannot be listed cheaply). Beacons sent as `text/plain`
/// (what the tracker's `sendBeacon` does) need no preflight at all; the `POST` itself always
/// checks the origin against the beacon's site.
pub async fn preflight<D: IngestDeps>(deps: &D, head: &RequestHead) -> EdgeResponse {
    let Some(origin) = head.header("origin") else {
        // Not a CORS preflight (no browser sends one without Origin).
        return EdgeResponse::empty(204).with_header("allow", "POST, OPTIONS");
    };
    let allowed = match head.query_param("site") {
        Some(raw) => match SiteId::parse(raw) {
            Err(_) => Ok(false),
            Ok(id) => find_site(deps, &id)
                .await
                .map(|site| site.is_some_and(|site| site.admits_preflight_from(origin))),
        },
        None => Ok(deps.config().sites.any_allows_origin(origin)),
    };
    let mut response = match allowed {
        Ok(true) => {
            let mut response = EdgeResponse::empty(204)
                .with_header("access-control-allow-methods", "POST, OPTIONS")
                .with_header("access-control-allow-headers", "Content-Type")
                .with_header("access-control-max-age", "86400");
            response.set_header("access-control-allow-origin", origin);
            response
        }
        Ok(false) => EdgeResponse::error(
            403,
            "origin_not_allowed",
            &format!("origin {origin:?} may not send beacons here"),
        ),
        Err(cause) => {
            deps.log(Level::Error, "site lookup failed", &[("cause", &cause.0)]);
            EdgeResponse::error(
                503,
                "unavailable",
                "the site could not be looked up; retry later",
            )
        }
    };
    response.set_header("vary", "Origin");
    response
}

/// Echoes the `Origin` (or `*` without one), as crm-local does: which origins may send is
/// decided per site by crm-domain; these headers only let the page read the answer.
fn allow_origin(response: &mut EdgeResponse, origin: Option<&str>) {
    response.set_header("access-control-allow-origin", origin.unwrap_or("*"));
    response.set_header("vary", "Origin");
}

#[cfg(test)]
mod tests;
