//! What the API shows of stored state: RFC 3339 times, scores as of now, no internal fields.

use crm_domain::scoring::{Scores, SessionState, VisitorProfile};
use crm_domain::time::Millis;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn rfc3339(at: Millis) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.0) * 1_000_000)
        .ok()
        .and_then(|moment| moment.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Debug, Serialize)]
pub struct VisitorView {
    pub id: String,
    pub visitor_kind: crm_domain::message::VisitorKeyKind,
    pub first_seen: String,
    pub last_seen: String,
    pub sessions: u64,
    pub page_views: u64,
    pub events: u64,
    pub engaged_ms: u64,
    pub visit_days: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub scores: Scores,
}

impl VisitorView {
    pub fn new(profile: &VisitorProfile, now: Millis) -> VisitorView {
        VisitorView {
            id: profile.visitor.clone(),
            visitor_kind: profile.visitor_kind,
            first_seen: rfc3339(profile.first_seen),
            last_seen: rfc3339(profile.last_seen),
            sessions: profile.sessions,
            page_views: profile.totals.page_views,
            events: profile.totals.events,
            engaged_ms: profile.totals.engaged_ms,
            visit_days: profile.visit_days.len(),
            country: profile.country.clone(),
            scores: profile.scores_at(now),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: String,
    pub visitor: String,
    pub started_at: String,
    pub last_seen: String,
    pub duration_ms: i64,
    pub pages: Vec<String>,
    pub entry_page: Option<String>,
    pub exit_page: Option<String>,
    pub referrer: Option<String>,
    pub country: Option<String>,
    pub page_views: u64,
    pub events: u64,
    pub engaged_ms: u64,
    pub max_scroll: u8,
    pub scores: Scores,
}

impl SessionView {
    pub fn new(session: &SessionState) -> SessionView {
        SessionView {
            id: session.session.clone(),
            visitor: session.visitor.clone(),
            started_at: rfc3339(session.started_at),
            last_seen: rfc3339(session.last_seen),
            duration_ms: session.last_seen.saturating_sub(session.started_at),
            pages: session.pages.clone(),
            entry_page: session.entry_page.clone(),
            exit_page: session.exit_page.clone(),
            referrer: session.referrer.clone(),
            country: session.country.clone(),
            page_views: session.totals.page_views,
            events: session.totals.events,
            engaged_ms: session.totals.engaged_ms,
            max_scroll: session.totals.max_scroll,
            scores: session.scores,
        }
    }
}
