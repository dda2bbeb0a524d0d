//! The lead score: how ready a contact is to buy, 0–100, as five weighted factors (fit,
//! behavioral, engagement, intent, timing), each 0–100. It is a pure function of the stored
//! inputs and `now`, so the incremental path and `recalculate-score` agree; intent and
//! engagement decay with their half-lives from their last signal.

use serde::{Deserialize, Serialize};

use super::activity::LeadActivity;
use super::decay::{HalfLives, decayed};
use super::factor::{Factor, FactorName, WeightsError, check_sum, round1, total};
use crate::scoring::curves::saturate;
use crate::scoring::formulas::{INTENT_POINTS_K, intent_points};
use crate::time::{MILLIS_PER_DAY, Millis};

/// Weights of the five factors, in percent; they sum to 100 (checked on construction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawLeadWeights", into = "RawLeadWeights")]
pub struct LeadWeights {
    fit: u8,
    behavioral: u8,
    engagement: u8,
    intent: u8,
    timing: u8,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLeadWeights {
    fit: u8,
    behavioral: u8,
    engagement: u8,
    intent: u8,
    timing: u8,
}

impl LeadWeights {
    pub fn new(
        fit: u8,
        behavioral: u8,
        engagement: u8,
        intent: u8,
        timing: u8,
    ) -> Result<LeadWeights, WeightsError> {
        check_sum(&[fit, behavioral, engagement, intent, timing])?;
        Ok(LeadWeights {
            fit,
            behavioral,
            engagement,
            intent,
            timing,
        })
    }
}

impl Default for LeadWeights {
    /// 30 / 25 / 20 / 15 / 10.
    fn default() -> LeadWeights {
        LeadWeights {
            fit: 30,
            behavioral: 25,
            engagement: 20,
            intent: 15,
            timing: 10,
        }
    }
}

impl TryFrom<RawLeadWeights> for LeadWeights {
    type Error = WeightsError;

    fn try_from(raw: RawLeadWeights) -> Result<LeadWeights, WeightsError> {
        LeadWeights::new(
            raw.fit,
            raw.behavioral,
            raw.engagement,
            raw.intent,
            raw.timing,
        )
    }
}

impl From<LeadWeights> for RawLeadWeights {
    fn from(weights: LeadWeights) -> RawLeadWeights {
        RawLeadWeights {
            fit: weights.fit,
            behavioral: weights.behavioral,
            engagement: weights.engagement,
            intent: weights.intent,
            timing: weights.timing,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadConfig {
    pub weights: LeadWeights,
    pub half_lives: HalfLives,
}

/// What the contact record says about who the person is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FitInputs {
    pub has_company: bool,
    pub job_title: Option<String>,
    /// Profile fields filled, out of `fields_total` (the caller decides which fields count).
    pub fields_filled: u8,
    pub fields_total: u8,
}

/// Everything the lead score reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadInputs {
    pub fit: FitInputs,
    pub activity: LeadActivity,
}

/// A lead score with its breakdown (fit, behavioral, engagement, intent, timing, in that order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadScore {
    /// 0–100, one decimal: the sum of the factors' points.
    pub score: f64,
    pub factors: Vec<Factor>,
}

impl LeadScore {
    /// The score as the contact record stores it (a whole number).
    pub fn whole(&self) -> u8 {
        self.score.round().clamp(0.0, 100.0) as u8
    }
}

// Fit.
pub const FIT_COMPANY: f64 = 0.30;
pub const FIT_JOB_TITLE: f64 = 0.20;
pub const FIT_DECISION_MAKER: f64 = 0.15;
pub const FIT_FIELDS: f64 = 0.35;
/// Words of a job title that mark a decision maker (compared whole, ignoring case).
pub const DECISION_MAKER_WORDS: [&str; 17] = [
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "cio",
    "ciso",
    "chief",
    "founder",
    "cofounder",
    "owner",
    "president",
    "vp",
    "director",
    "head",
    "partner",
    "principal",
];

// Behavioral.
pub const BEHAVIORAL_PAGES: f64 = 0.35;
pub const BEHAVIORAL_SESSIONS: f64 = 0.30;
pub const BEHAVIORAL_RETURNS: f64 = 0.35;
/// Page views at which the pages component reaches 63 %.
pub const BEHAVIORAL_PAGES_K: f64 = 10.0;
pub const BEHAVIORAL_SESSIONS_K: f64 = 3.0;
/// Return visit days (visit days − 1) at which the returns component reaches 63 %.
pub const BEHAVIORAL_RETURNS_K: f64 = 3.0;

// Engagement.
pub const ENGAGEMENT_TIME: f64 = 0.45;
pub const ENGAGEMENT_INTERACTIONS: f64 = 0.35;
pub const ENGAGEMENT_INBOUND: f64 = 0.20;
/// Engaged seconds per session at which the time component reaches 63 %.
pub const ENGAGEMENT_SECONDS_K: f64 = 60.0;
pub const ENGAGEMENT_INTERACTIONS_K: f64 = 3.0;
pub const ENGAGEMENT_INBOUND_K: f64 = 1.0;

// Timing.
pub const TIMING_RECENCY: f64 = 0.6;
pub const TIMING_FREQUENCY: f64 = 0.4;
/// Days since the last activity at which recency has fallen to 37 % (`e^−1`).
pub const TIMING_RECENCY_DAYS_K: f64 = 14.0;
/// Active days counted for frequency: the 30 days ending today.
pub const TIMING_WINDOW_DAYS: i64 = 30;
pub const TIMING_FREQUENCY_K: f64 = 4.0;

/// The lead score of `inputs` as it reads at `now`.
pub fn lead_score(inputs: &LeadInputs, config: &LeadConfig, now: Millis) -> LeadScore {
    let weights = config.weights;
    let activity = &inputs.activity;
    let factors = vec![
        Factor::new(FactorName::Fit, fit(&inputs.fit), weights.fit),
        Factor::new(
            FactorName::Behavioral,
            behavioral(activity),
            weights.behavioral,
        ),
        Factor::new(
            FactorName::Engagement,
            engagement(activity, config.half_lives, now),
            weights.engagement,
        ),
        Factor::new(
            FactorName::Intent,
            intent(activity, config.half_lives, now),
            weights.intent,
        ),
        Factor::new(FactorName::Timing, timing(activity, now), weights.timing),
    ];
    LeadScore {
        score: total(&factors),
        factors,
    }
}

/// `100 × (0.30·company + 0.20·job title + 0.15·decision maker + 0.35·filled / total)`.
pub fn fit(inputs: &FitInputs) -> f64 {
    let title = inputs
        .job_title
        .as_deref()
        .map(str::trim)
        .filter(|title| !title.is_empty());
    let filled = if inputs.fields_total == 0 {
        0.0
    } else {
        f64::from(inputs.fields_filled.min(inputs.fields_total)) / f64::from(inputs.fields_total)
    };
    score(
        FIT_COMPANY * flag(inputs.has_company)
            + FIT_JOB_TITLE * flag(title.is_some())
            + FIT_DECISION_MAKER * flag(title.is_some_and(is_decision_maker))
            + FIT_FIELDS * filled,
    )
}

/// Whether a job title names a decision maker: one of its words (split on anything not a letter
/// or digit) is in [`DECISION_MAKER_WORDS`].
pub fn is_decision_maker(title: &str) -> bool {
    title.split(|c: char| !c.is_alphanumeric()).any(|word| {
        DECISION_MAKER_WORDS
            .iter()
            .any(|known| word.eq_ignore_ascii_case(known))
    })
}

/// `100 × (0.35·sat(page views, 10) + 0.30·sat(sessions, 3) + 0.35·sat(visit days − 1, 3))`.
pub fn behavioral(activity: &LeadActivity) -> f64 {
    let returns = activity.visit_days.len().saturating_sub(1) as f64;
    score(
        BEHAVIORAL_PAGES * saturate(activity.behavior.page_views as f64, BEHAVIORAL_PAGES_K)
            + BEHAVIORAL_SESSIONS * saturate(activity.sessions as f64, BEHAVIORAL_SESSIONS_K)
            + BEHAVIORAL_RETURNS * saturate(returns, BEHAVIORAL_RETURNS_K),
    )
}

/// `100 × (0.45·sat(engaged s per session, 60) + 0.35·sat(interactions, 3) +
/// 0.20·sat(inbound interactions, 1))`, decayed with the engagement half-life from the last
/// visit or interaction.
pub fn engagement(activity: &LeadActivity, half_lives: HalfLives, now: Millis) -> f64 {
    let seconds_per_session =
        activity.behavior.engaged_ms as f64 / 1000.0 / activity.sessions.max(1) as f64;
    let fresh = 100.0
        * (ENGAGEMENT_TIME * saturate(seconds_per_session, ENGAGEMENT_SECONDS_K)
            + ENGAGEMENT_INTERACTIONS
                * saturate(activity.interactions as f64, ENGAGEMENT_INTERACTIONS_K)
            + ENGAGEMENT_INBOUND
                * saturate(activity.inbound_interactions as f64, ENGAGEMENT_INBOUND_K));
    match activity.last_activity_at() {
        Some(at) => round1(decayed(fresh, at, now, half_lives.engagement)),
        None => round1(fresh),
    }
}

/// The behavior intent score of the summed totals (`100 × sat(intent points, 40)`, see the
/// intent section), decayed with the intent half-life from the last intent signal.
pub fn intent(activity: &LeadActivity, half_lives: HalfLives, now: Millis) -> f64 {
    let fresh = 100.0 * saturate(intent_points(&activity.behavior), INTENT_POINTS_K);
    match activity.last_intent_at.or(activity.last_visit_at) {
        Some(at) => round1(decayed(fresh, at, now, half_lives.intent)),
        None => round1(fresh),
    }
}

/// `100 × (0.6·e^(−days since last activity / 14) + 0.4·sat(active days in the last 30, 4))`;
/// 0 without any activity.
pub fn timing(activity: &LeadActivity, now: Millis) -> f64 {
    let Some(last) = activity.last_activity_at() else {
        return 0.0;
    };
    let idle_days = now.saturating_sub(last).max(0) as f64 / MILLIS_PER_DAY as f64;
    let today = now.day();
    let recent_days = activity
        .active_days
        .iter()
        .filter(|day| (today - TIMING_WINDOW_DAYS + 1..=today).contains(*day))
        .count() as f64;
    score(
        TIMING_RECENCY * (-idle_days / TIMING_RECENCY_DAYS_K).exp()
            + TIMING_FREQUENCY * saturate(recent_days, TIMING_FREQUENCY_K),
    )
}

fn flag(on: bool) -> f64 {
    if on { 1.0 } else { 0.0 }
}

fn score(fraction: f64) -> f64 {
    round1(100.0 * fraction.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests;
