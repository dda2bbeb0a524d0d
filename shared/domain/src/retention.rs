//! Retention policy: how long each kind of data is kept, when an item is due, and what an
//! anonymized session keeps. Pure: `now` is always a parameter.
//!
//! | data | default | what happens when due | configured by |
//! |---|---|---|---|
//! | raw events | 90 days after they were received | deleted (TTL, and the retention job) | the site's `retention_days` |
//! | sessions | 180 days after their last activity | anonymized: aggregates kept, page paths, referrer and the visitor link dropped | the site's `session_retention_days` |
//! | score-change records | 2 years (730 days) after they were written | deleted (TTL, and the retention job) | [`DEFAULT_SCORE_CHANGE_RETENTION_DAYS`]: contacts belong to no site |
//!
//! An item is due when it is *strictly* older than the retention: `at < now - days`. Contacts,
//! deals and every other timeline entry are never due.

use serde::{Deserialize, Serialize};

use crate::scoring::{BehaviorTotals, Scores, SessionState};
use crate::site::{DEFAULT_RETENTION_DAYS, SiteConfig, SiteId};
use crate::time::{MILLIS_PER_DAY, Millis};

/// Sessions keep their page paths and visitor link this long after their last activity.
pub const DEFAULT_SESSION_RETENTION_DAYS: u32 = 180;
/// Score-change records (timeline entries of kind [`SCORE_CHANGE_KIND`]) are kept 2 years.
pub const DEFAULT_SCORE_CHANGE_RETENTION_DAYS: u32 = 730;
/// The timeline kind of a score-change record.
pub const SCORE_CHANGE_KIND: &str = "score_change";

/// How long one site's data is kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub raw_events_days: u32,
    pub sessions_days: u32,
    pub score_changes_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> RetentionPolicy {
        RetentionPolicy {
            raw_events_days: DEFAULT_RETENTION_DAYS,
            sessions_days: DEFAULT_SESSION_RETENTION_DAYS,
            score_changes_days: DEFAULT_SCORE_CHANGE_RETENTION_DAYS,
        }
    }
}

impl RetentionPolicy {
    /// The policy a site's configuration sets (score changes keep the default: they belong to
    /// contacts, not to a site).
    pub fn for_site(site: &SiteConfig) -> RetentionPolicy {
        RetentionPolicy {
            raw_events_days: site.retention_days,
            sessions_days: site.session_retention_days,
            ..RetentionPolicy::default()
        }
    }

    /// The policy of a deleted site: what its visitors left is due at once (raw events
    /// deleted, sessions anonymized), as deleting the site ended the purpose it was kept for.
    pub fn after_site_deletion() -> RetentionPolicy {
        RetentionPolicy {
            raw_events_days: 0,
            sessions_days: 0,
            ..RetentionPolicy::default()
        }
    }

    /// Whether a session is due for anonymization as of `now`.
    pub fn session_is_due(&self, session: &SessionState, now: Millis) -> bool {
        is_due(session.last_seen, self.sessions_days, now)
    }

    /// Whether a timeline entry of `kind` written at `at` is due for deletion as of `now`.
    /// Only score-change records ever are.
    pub fn timeline_entry_is_due(&self, kind: &str, at: Millis, now: Millis) -> bool {
        kind == SCORE_CHANGE_KIND && is_due(at, self.score_changes_days, now)
    }
}

/// The instant before which data kept `days` has expired as of `now`.
pub fn cutoff(now: Millis, days: u32) -> Millis {
    Millis(
        now.0
            .saturating_sub(i64::from(days).saturating_mul(MILLIS_PER_DAY)),
    )
}

/// Whether something dated `at` and kept `days` is due as of `now` (strictly older).
pub fn is_due(at: Millis, days: u32, now: Millis) -> bool {
    at < cutoff(now, days)
}

/// The DynamoDB TTL (epoch seconds) of something dated `at` and kept `days`: the instant it
/// becomes due, so TTL never removes an item the job would keep.
pub fn expires_at_epoch_seconds(at: Millis, days: u32) -> i64 {
    at.0.div_euclid(1000)
        .saturating_add(i64::from(days).saturating_mul(MILLIS_PER_DAY / 1000))
}

/// What a session keeps once anonymized: its site, its day, how long it lasted, the coarse
/// country, its counters and scores. No visitor, no session id, no page path, no referrer, no
/// exact time (the day and the duration only), so it cannot be joined back to a visitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnonymizedSession {
    pub site: SiteId,
    /// Days since the Unix epoch (UTC) the session started.
    pub day: i64,
    pub duration_ms: i64,
    /// Pages viewed in the session (the count, not the paths).
    pub pages: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    pub totals: BehaviorTotals,
    pub scores: Scores,
}

/// The anonymized form of a session.
pub fn anonymize_session(session: &SessionState) -> AnonymizedSession {
    AnonymizedSession {
        site: session.site.clone(),
        day: session.started_at.day(),
        duration_ms: session.last_seen.saturating_sub(session.started_at).max(0),
        pages: session.totals.page_views,
        country: session.country.clone(),
        totals: session.totals.clone(),
        scores: session.scores,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const DAY: i64 = MILLIS_PER_DAY;
    const NOW: Millis = Millis(20_000 * DAY + 12 * 3_600_000);

    fn session(started_days_ago: i64, last_seen_days_ago: i64) -> SessionState {
        SessionState {
            site: SiteId::parse("shop").unwrap(),
            session: "s-1".to_owned(),
            visitor: "visitor-abc".to_owned(),
            started_at: Millis(NOW.0 - started_days_ago * DAY),
            last_seen: Millis(NOW.0 - last_seen_days_ago * DAY + 60_000),
            pages: vec!["/pricing".to_owned(), "/demo".to_owned()],
            entry_page: Some("/pricing".to_owned()),
            exit_page: Some("/demo".to_owned()),
            referrer: Some("https://search.example/?q=crm".to_owned()),
            country: Some("DE".to_owned()),
            totals: BehaviorTotals {
                events: 7,
                page_views: 2,
                engaged_ms: 42_000,
                cta_clicks: 1,
                ..BehaviorTotals::default()
            },
            scores: Scores {
                engagement: 40.0,
                intent: 55.5,
                friction: 0.0,
                churn_risk: 3.0,
            },
            last_page_view_at: Some(Millis(NOW.0 - last_seen_days_ago * DAY)),
        }
    }

    #[test]
    fn the_defaults_are_ninety_days_half_a_year_and_two_years() {
        let policy = RetentionPolicy::default();
        assert_eq!(
            (
                policy.raw_events_days,
                policy.sessions_days,
                policy.score_changes_days
            ),
            (90, 180, 730)
        );
    }

    #[test]
    fn a_site_sets_its_raw_event_and_session_retention_but_not_score_changes() {
        let site = SiteConfig {
            id: SiteId::parse("shop").unwrap(),
            name: "Shop".to_owned(),
            allowed_origins: vec!["*".to_owned()],
            retention_days: 30,
            session_retention_days: 60,
            enabled: true,
        };
        let policy = RetentionPolicy::for_site(&site);
        assert_eq!((policy.raw_events_days, policy.sessions_days), (30, 60));
        assert_eq!(
            policy.score_changes_days,
            DEFAULT_SCORE_CHANGE_RETENTION_DAYS
        );
    }

    #[test]
    fn after_a_site_is_deleted_everything_before_now_is_due_but_score_changes_keep_theirs() {
        let policy = RetentionPolicy::after_site_deletion();
        assert!(policy.session_is_due(&session(0, 0), Millis(NOW.0 + 60_001)));
        assert!(!policy.session_is_due(&session(0, 0), Millis(NOW.0 + 60_000)));
        assert!(is_due(Millis(NOW.0 - 1), policy.raw_events_days, NOW));
        assert_eq!(
            policy.score_changes_days,
            DEFAULT_SCORE_CHANGE_RETENTION_DAYS
        );
    }

    #[test]
    fn something_is_due_only_when_strictly_older_than_its_retention() {
        let limit = cutoff(NOW, 180);
        assert!(is_due(Millis(limit.0 - 1), 180, NOW));
        assert!(!is_due(limit, 180, NOW));
        assert!(!is_due(Millis(limit.0 + 1), 180, NOW));
        assert!(!is_due(Millis(0), u32::MAX, Millis(DAY)));
    }

    #[test]
    fn a_session_is_due_by_its_last_activity_not_its_start() {
        let policy = RetentionPolicy::default();
        assert!(policy.session_is_due(&session(200, 181), NOW));
        // Started long ago, but active within the retention: kept whole.
        assert!(!policy.session_is_due(&session(200, 179), NOW));
        assert!(!policy.session_is_due(&session(1, 0), NOW));
    }

    #[test]
    fn only_score_change_entries_older_than_two_years_are_due() {
        let policy = RetentionPolicy::default();
        let old = Millis(NOW.0 - 731 * DAY);
        let young = Millis(NOW.0 - 729 * DAY);
        assert!(policy.timeline_entry_is_due(SCORE_CHANGE_KIND, old, NOW));
        assert!(!policy.timeline_entry_is_due(SCORE_CHANGE_KIND, young, NOW));
        for kind in ["lifecycle", "note", "deal_won", "score_changes", ""] {
            assert!(!policy.timeline_entry_is_due(kind, old, NOW), "{kind}");
        }
    }

    #[test]
    fn the_ttl_is_the_instant_the_item_becomes_due() {
        let at = Millis(1_700_000_000_123);
        let ttl = expires_at_epoch_seconds(at, 730);
        assert_eq!(ttl, 1_700_000_000 + 730 * 86_400);
        let due_from = Millis(ttl * 1000 + 1000);
        assert!(is_due(at, 730, due_from));
        assert!(!is_due(at, 730, Millis(ttl * 1000)));
    }

    #[test]
    fn an_anonymized_session_keeps_its_aggregates_and_loses_paths_and_the_visitor() {
        let original = session(200, 200);
        let anonymized = anonymize_session(&original);

        assert_eq!(anonymized.site, original.site);
        assert_eq!(anonymized.totals, original.totals);
        assert_eq!(anonymized.scores, original.scores);
        assert_eq!(anonymized.country.as_deref(), Some("DE"));
        assert_eq!(anonymized.pages, 2);
        assert_eq!(anonymized.day, original.started_at.day());
        assert_eq!(anonymized.duration_ms, 60_000);
        let json = serde_json::to_string(&anonymized).unwrap();
        for gone in ["visitor-abc", "s-1", "/pricing", "/demo", "search.example"] {
            assert!(!json.contains(gone), "{gone} kept in {json}");
        }
        let back: AnonymizedSession = serde_json::from_str(&json).unwrap();
        assert_eq!(back, anonymized);
    }

    #[test]
    fn a_session_with_a_clock_skewed_end_gets_no_negative_duration() {
        let mut skewed = session(10, 10);
        skewed.last_seen = Millis(skewed.started_at.0 - 5);
        assert_eq!(anonymize_session(&skewed).duration_ms, 0);
    }
}
