//! The four behavior scores as formulas over counters. Every constant is documented, with a
//! worked example, in `docs/scoring.md`; change both together.

use super::curves::{saturate, to_score};
use super::{BehaviorTotals, Scores, VisitorProfile};
use crate::time::{MILLIS_PER_DAY, Millis};

// Engagement: how much attention a visit (or a visitor) gives the site.
/// Engaged seconds at which the time component reaches 63 %.
pub const ENGAGED_SECONDS_K: f64 = 60.0;
/// Page views (per session) at which the pages component reaches 63 %.
pub const PAGES_K: f64 = 3.0;
/// Return visit days at which the return component reaches 63 %.
pub const RETURN_DAYS_K: f64 = 3.0;
pub const SESSION_ENGAGEMENT_WEIGHTS: EngagementWeights = EngagementWeights {
    time: 0.45,
    scroll: 0.20,
    pages: 0.35,
    returns: 0.0,
};
pub const VISITOR_ENGAGEMENT_WEIGHTS: EngagementWeights = EngagementWeights {
    time: 0.35,
    scroll: 0.15,
    pages: 0.25,
    returns: 0.25,
};

// Intent: signals that the visitor considers buying or talking to the company.
pub const INTENT_POINTS_PER_INTENT_PAGE_VIEW: f64 = 10.0;
pub const INTENT_POINTS_PER_CTA_CLICK: f64 = 8.0;
pub const INTENT_POINTS_PER_FORM_START: f64 = 5.0;
pub const INTENT_POINTS_PER_FORM_SUBMIT: f64 = 20.0;
pub const INTENT_POINTS_PER_HOVER_INTENT: f64 = 4.0;
pub const INTENT_POINTS_PER_QUOTE_OR_DEMO_REQUEST: f64 = 40.0;
/// Intent points at which the score reaches 63.2.
pub const INTENT_POINTS_K: f64 = 40.0;

// Friction: signs that the site got in the visitor's way.
pub const FRICTION_POINTS_PER_RAGE_CLICK: f64 = 6.0;
pub const FRICTION_POINTS_PER_DEAD_CLICK: f64 = 3.0;
pub const FRICTION_POINTS_PER_FORM_ABANDON: f64 = 8.0;
pub const FRICTION_POINTS_PER_ERROR: f64 = 5.0;
pub const FRICTION_POINTS_PER_BACK_AND_FORTH: f64 = 4.0;
/// Friction points (per session) at which the score reaches 63.2.
pub const FRICTION_POINTS_K: f64 = 20.0;

// Churn risk: how likely the visitor is not coming back.
/// Days without a visit at which the recency factor reaches 63 %.
pub const INACTIVE_DAYS_K: f64 = 14.0;
/// Visit frequency compares the visit days of the last 28 days with the 28 days before.
pub const FREQUENCY_WINDOW_DAYS: i64 = 28;
/// Falling frequency and falling engagement each remove at most half of what recency left.
pub const FALLING_FREQUENCY_WEIGHT: f64 = 0.5;
pub const FALLING_ENGAGEMENT_WEIGHT: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngagementWeights {
    pub time: f64,
    pub scroll: f64,
    pub pages: f64,
    pub returns: f64,
}

fn engagement(
    weights: EngagementWeights,
    engaged_seconds: f64,
    max_scroll: u8,
    pages: f64,
    return_days: f64,
) -> f64 {
    let time = saturate(engaged_seconds, ENGAGED_SECONDS_K);
    let scroll = f64::from(max_scroll.min(100)) / 100.0;
    let pages = saturate(pages, PAGES_K);
    let returns = saturate(return_days, RETURN_DAYS_K);
    to_score(
        weights.time * time
            + weights.scroll * scroll
            + weights.pages * pages
            + weights.returns * returns,
    )
}

pub fn session_engagement(totals: &BehaviorTotals) -> f64 {
    engagement(
        SESSION_ENGAGEMENT_WEIGHTS,
        totals.engaged_ms as f64 / 1000.0,
        totals.max_scroll,
        totals.page_views as f64,
        0.0,
    )
}

/// Per-session averages for time and pages (a loyal visitor is not "more engaged" per visit
/// just for having visited often: that is what the return component measures).
pub fn visitor_engagement(profile: &VisitorProfile) -> f64 {
    let sessions = profile.sessions.max(1) as f64;
    let return_days = profile.visit_days.len().saturating_sub(1) as f64;
    engagement(
        VISITOR_ENGAGEMENT_WEIGHTS,
        profile.totals.engaged_ms as f64 / 1000.0 / sessions,
        profile.totals.max_scroll,
        profile.totals.page_views as f64 / sessions,
        return_days,
    )
}

pub fn intent_points(totals: &BehaviorTotals) -> f64 {
    INTENT_POINTS_PER_INTENT_PAGE_VIEW * totals.intent_page_views as f64
        + INTENT_POINTS_PER_CTA_CLICK * totals.cta_clicks as f64
        + INTENT_POINTS_PER_FORM_START * totals.form_starts as f64
        + INTENT_POINTS_PER_FORM_SUBMIT * totals.form_submits as f64
        + INTENT_POINTS_PER_HOVER_INTENT * totals.hover_intents as f64
        + INTENT_POINTS_PER_QUOTE_OR_DEMO_REQUEST * totals.quote_or_demo_requests as f64
}

/// How many intent signals the totals count. Every signal has positive points, so there are
/// intent points exactly when this is not 0 (counted in integers, on the fold's hot path).
pub fn intent_signals(totals: &BehaviorTotals) -> u64 {
    [
        totals.intent_page_views,
        totals.cta_clicks,
        totals.form_starts,
        totals.form_submits,
        totals.hover_intents,
        totals.quote_or_demo_requests,
    ]
    .into_iter()
    .fold(0, u64::saturating_add)
}

/// The same for a session and a visitor: intent accumulates, it is not averaged away.
pub fn intent(totals: &BehaviorTotals) -> f64 {
    to_score(saturate(intent_points(totals), INTENT_POINTS_K))
}

pub fn friction_points(totals: &BehaviorTotals) -> f64 {
    FRICTION_POINTS_PER_RAGE_CLICK * totals.rage_clicks as f64
        + FRICTION_POINTS_PER_DEAD_CLICK * totals.dead_clicks as f64
        + FRICTION_POINTS_PER_FORM_ABANDON * totals.form_abandons as f64
        + FRICTION_POINTS_PER_ERROR * totals.errors as f64
        + FRICTION_POINTS_PER_BACK_AND_FORTH * totals.back_and_forth as f64
}

/// Friction per session: for a visitor, the points are averaged over their sessions, so one
/// bad visit long ago fades as good visits follow.
pub fn friction(totals: &BehaviorTotals, sessions: u64) -> f64 {
    to_score(saturate(
        friction_points(totals) / sessions.max(1) as f64,
        FRICTION_POINTS_K,
    ))
}

/// The three churn factors, each 0..=1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChurnFactors {
    pub inactivity: f64,
    pub falling_frequency: f64,
    pub falling_engagement: f64,
}

pub fn churn_factors(profile: &VisitorProfile, at: Millis) -> ChurnFactors {
    let inactive_days = at.saturating_sub(profile.last_seen).max(0) as f64 / MILLIS_PER_DAY as f64;
    ChurnFactors {
        inactivity: saturate(inactive_days, INACTIVE_DAYS_K),
        falling_frequency: falling_frequency(&profile.visit_days, at.day()),
        falling_engagement: profile
            .engagement_trend
            .falling_engagement(profile.sessions),
    }
}

/// `(previous − recent) / previous` over two 28-day windows ending on `today`; 0 without history.
pub fn falling_frequency(visit_days: &[i64], today: i64) -> f64 {
    let recent_start = today - FREQUENCY_WINDOW_DAYS;
    let previous_start = recent_start - FREQUENCY_WINDOW_DAYS;
    let recent = visit_days
        .iter()
        .filter(|day| (recent_start + 1..=today).contains(*day))
        .count() as f64;
    let previous = visit_days
        .iter()
        .filter(|day| (previous_start + 1..=recent_start).contains(*day))
        .count() as f64;
    if previous == 0.0 {
        0.0
    } else {
        ((previous - recent) / previous).clamp(0.0, 1.0)
    }
}

/// `1 − (1 − inactivity)(1 − ½ falling frequency)(1 − ½ falling engagement)`: each factor takes
/// away part of what is left of the chance the visitor comes back.
pub fn churn_risk(profile: &VisitorProfile, at: Millis) -> f64 {
    let factors = churn_factors(profile, at);
    let stays = (1.0 - factors.inactivity)
        * (1.0 - FALLING_FREQUENCY_WEIGHT * factors.falling_frequency)
        * (1.0 - FALLING_ENGAGEMENT_WEIGHT * factors.falling_engagement);
    to_score(1.0 - stays)
}

pub fn session_scores(totals: &BehaviorTotals) -> Scores {
    Scores {
        engagement: session_engagement(totals),
        intent: intent(totals),
        friction: friction(totals, 1),
        churn_risk: 0.0,
    }
}

pub fn visitor_scores(profile: &VisitorProfile, at: Millis) -> Scores {
    Scores {
        engagement: visitor_engagement(profile),
        intent: intent(&profile.totals),
        friction: friction(&profile.totals, profile.sessions),
        churn_risk: churn_risk(profile, at),
    }
}
