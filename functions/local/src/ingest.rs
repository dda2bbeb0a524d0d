//! `POST /e` for crm-local: HTTP in, crm-domain decides, the embedded queue keeps it.
//! The same contract the edge worker serves; every rule lives in `crm_domain::ingest`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use crm_domain::ingest::{
    self, IngestError, IngestKeys, MAX_BEACON_BYTES, RequestContext, check_content_type,
    parse_beacon,
};
use crm_domain::privacy::daily_salt;
use crm_domain::site::SiteId;
use crm_store::clock::Clock;
use crm_store::queue::{OutgoingMessage, Queue};
use crm_store::repo::SiteRepo;

use crate::secrets::Secrets;

#[derive(Clone)]
pub struct IngestState {
    pub sites: SiteRepo,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    pub secrets: Arc<Secrets>,
    pub trust_forwarded_for: bool,
}

pub async fn receive_beacon(
    State(state): State<IngestState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let origin = header_str(&headers, header::ORIGIN.as_str()).map(str::to_owned);
    let mut response = match accept(&state, peer, &headers, body).await {
        Ok(receipt) => (StatusCode::ACCEPTED, axum::Json(receipt)).into_response(),
        Err(Failure::Rejected(error)) => rejection(&error),
        Err(Failure::QueueUnavailable(cause)) => {
            tracing::error!(%cause, "beacon not queued");
            error_body(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the beacon could not be stored; retry later",
            )
        }
    };
    allow_origin(response.headers_mut(), origin.as_deref());
    response
}

/// `OPTIONS /e`, answered as the edge worker answers it: with `?site=<id>` the origin is checked
/// against that site, otherwise against every site; a preflight no enabled site allows is 403
/// `origin_not_allowed`. The `POST` checks the origin against the beacon's own site regardless.
pub async fn preflight(
    State(state): State<IngestState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(origin) = header_str(&headers, header::ORIGIN.as_str()) else {
        // Not a CORS preflight (no browser sends one without Origin).
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
        return response;
    };
    let site_param = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("site="));
    let allowed = match site_param {
        Some(raw) => match SiteId::parse(raw) {
            Err(_) => Ok(false),
            Ok(id) => state
                .sites
                .get(&id)
                .await
                .map(|site| site.is_some_and(|site| site.admits_preflight_from(origin))),
        },
        None => state.sites.list().await.map(|sites| {
            sites
                .iter()
                .any(|stored| !stored.is_deleted() && stored.config.admits_preflight_from(origin))
        }),
    };
    let mut response = match allowed {
        Ok(true) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            let response_headers = response.headers_mut();
            allow_origin(response_headers, Some(origin));
            response_headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("POST, OPTIONS"),
            );
            response_headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Content-Type"),
            );
            response_headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
            response
        }
        Ok(false) => error_body(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            &format!("origin {origin:?} may not send beacons here"),
        ),
        Err(error) => {
            tracing::error!(%error, "site lookup failed");
            error_body(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the site could not be looked up; retry later",
            )
        }
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

enum Failure {
    Rejected(IngestError),
    QueueUnavailable(String),
}

impl From<IngestError> for Failure {
    fn from(error: IngestError) -> Failure {
        Failure::Rejected(error)
    }
}

async fn accept(
    state: &IngestState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<ingest::Receipt, Failure> {
    check_content_type(header_str(headers, header::CONTENT_TYPE.as_str()))?;
    let body = read_limited(body).await?;
    let beacon = parse_beacon(&body)?;
    let site = state
        .sites
        .get(&beacon.site)
        .await
        .map_err(|error| Failure::QueueUnavailable(error.to_string()))?
        .ok_or_else(|| IngestError::UnknownSite(beacon.site.clone()))?;
    let now = state.clock.now();
    let salt = daily_salt(&state.secrets.daily_salt_secret, now.day());
    let request = RequestContext {
        client_ip: client_ip(peer, headers, state.trust_forwarded_for),
        user_agent: header_str(headers, header::USER_AGENT.as_str()).unwrap_or_default(),
        origin: header_str(headers, header::ORIGIN.as_str()),
        do_not_track: header_str(headers, "dnt") == Some("1"),
        global_privacy_control: header_str(headers, "sec-gpc") == Some("1"),
        country: None,
    };
    let keys = IngestKeys {
        daily_salt: &salt,
        visitor_pepper: &state.secrets.visitor_pepper,
    };
    let message_id = uuid::Uuid::now_v7().to_string();
    let accepted = ingest::accept(beacon, &site, &request, &keys, message_id.clone(), now)?;
    if let Some(message) = accepted.message {
        let outgoing = OutgoingMessage {
            entry_id: "beacon".to_owned(),
            body: message.to_json(),
        };
        let outcome = state
            .queue
            .send_batch(vec![outgoing])
            .await
            .map_err(|error| Failure::QueueUnavailable(error.to_string()))?;
        if let Some((_, reason)) = outcome.failed.first() {
            return Err(Failure::QueueUnavailable(reason.clone()));
        }
    }
    Ok(accepted.receipt)
}

/// Reads at most the beacon limit; a longer body is refused without reading it all.
async fn read_limited(body: Body) -> Result<Bytes, Failure> {
    axum::body::to_bytes(body, MAX_BEACON_BYTES)
        .await
        .map_err(|_| {
            Failure::Rejected(IngestError::PayloadTooLarge {
                limit: MAX_BEACON_BYTES,
            })
        })
}

fn client_ip(peer: SocketAddr, headers: &HeaderMap, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = header_str(headers, "x-forwarded-for")
            .and_then(|value| value.split(',').next())
            .and_then(|first| first.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    Some(peer.ip())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn allow_origin(headers: &mut HeaderMap, origin: Option<&str>) {
    let value = origin.and_then(|origin| HeaderValue::from_str(origin).ok());
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        value.unwrap_or(HeaderValue::from_static("*")),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
}

fn rejection(error: &IngestError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        error.to_json_body(),
    )
        .into_response()
}

pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}
