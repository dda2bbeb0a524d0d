//! Falling engagement: is the visitor's latest session less engaged than their sessions on
//! average? Kept as a running sum so no session history has to be loaded.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// What a profile remembers about its sessions' engagement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EngagementTrend {
    /// Sum of every session's current engagement score, in tenths of a point (scores have one
    /// decimal, so integer tenths add up exactly in any order).
    pub session_engagement_tenths: u64,
    /// Engagement of the most recently active session.
    pub latest_session_engagement: f64,
    /// When that session was last active.
    pub latest_session_at: Millis,
}

fn tenths(score: f64) -> u64 {
    (score * 10.0).round().max(0.0) as u64
}

impl EngagementTrend {
    /// A session's engagement went from `before` (0 for a new session) to `after`.
    pub fn record_session(&mut self, before: f64, after: f64, session_last_seen: Millis) {
        self.session_engagement_tenths = self
            .session_engagement_tenths
            .saturating_sub(tenths(before))
            + tenths(after);
        if session_last_seen >= self.latest_session_at {
            self.latest_session_engagement = after;
            self.latest_session_at = session_last_seen;
        }
    }

    /// `(mean − latest) / mean`, 0..=1; 0 until there are two sessions to compare.
    pub fn falling_engagement(&self, sessions: u64) -> f64 {
        if sessions < 2 || self.session_engagement_tenths == 0 {
            return 0.0;
        }
        let mean = self.session_engagement_tenths as f64 / 10.0 / sessions as f64;
        ((mean - self.latest_session_engagement) / mean).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latest_session_below_the_mean_is_falling_engagement() {
        let mut trend = EngagementTrend::default();
        trend.record_session(0.0, 80.0, Millis(1));
        trend.record_session(0.0, 20.0, Millis(2));
        // mean 50, latest 20 → 0.6
        assert!((trend.falling_engagement(2) - 0.6).abs() < 1e-9);
    }

    #[test]
    fn an_updated_session_replaces_its_old_score_in_the_sum() {
        let mut trend = EngagementTrend::default();
        trend.record_session(0.0, 30.5, Millis(1));
        trend.record_session(30.5, 42.1, Millis(2));
        assert_eq!(trend.session_engagement_tenths, 421);
        assert_eq!(trend.falling_engagement(1), 0.0);
    }
}
