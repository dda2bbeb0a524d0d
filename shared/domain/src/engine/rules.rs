//! Automatic lifecycle transitions: forward-only rules over facts about a contact, checked in a
//! fixed order per stage; the first rule that holds gives the transition.
//!
//! | from | rules, in order |
//! |---|---|
//! | lead | `deal_won` → customer, `disqualified` → lost, `qualified` / `lead_score` / `quote_or_demo_request` → prospect |
//! | prospect | `deal_won` → customer, `disqualified` → lost |
//! | customer | `critical_churn_risk` → churned, `referral` / `promoter_nps` / `repeat_wins_high_health` → advocacy, `renewal_window_passed` → retention |
//! | retention | `critical_churn_risk` → churned, the advocacy rules → advocacy |
//! | advocacy | `critical_churn_risk` → churned |
//! | lost, churned | none (terminal; only a manual change leaves them) |

use serde::{Deserialize, Serialize};

use super::health::RiskLevel;
use super::stage::LifecycleStage;
use crate::time::{MILLIS_PER_DAY, Millis};

/// What the rules look at, gathered by the caller as of `now`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleFacts {
    /// Someone marked the contact qualified.
    pub qualified: bool,
    /// Someone marked the contact disqualified.
    pub disqualified: bool,
    /// The current lead score (0–100).
    pub lead_score: f64,
    /// Quote or demo requests from linked visitors.
    pub quote_or_demo_requests: u64,
    pub deals_won: u32,
    /// When the contact became a customer (its first won deal).
    pub customer_since: Option<Millis>,
    /// The current health score and its risk level, once measured.
    pub health: Option<f64>,
    pub risk: Option<RiskLevel>,
    /// Since when the risk has been critical without a break (see `health::critical_since`).
    pub critical_since: Option<Millis>,
    /// Referrals made by the contact.
    pub referrals: u32,
    /// The latest NPS answer (0–10).
    pub nps: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LifecycleConfig {
    /// A lead with at least this lead score becomes a prospect.
    pub prospect_lead_score: f64,
    /// Days after becoming a customer (first delivery / renewal window) before retention.
    pub retention_after_days: u32,
    /// Days of unbroken critical risk before a customer counts as churned.
    pub churn_after_days: u32,
    /// NPS at or above which a customer is a promoter.
    pub promoter_nps: u8,
    /// Won deals and health needed for "repeated wins with high health".
    pub advocacy_wins: u32,
    pub advocacy_health: f64,
}

impl Default for LifecycleConfig {
    fn default() -> LifecycleConfig {
        LifecycleConfig {
            prospect_lead_score: 60.0,
            retention_after_days: 90,
            churn_after_days: 30,
            promoter_nps: 9,
            advocacy_wins: 2,
            advocacy_health: 80.0,
        }
    }
}

/// The rule behind an automatic transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    DealWon,
    Disqualified,
    Qualified,
    LeadScore,
    QuoteOrDemoRequest,
    CriticalChurnRisk,
    Referral,
    PromoterNps,
    RepeatWinsHighHealth,
    RenewalWindowPassed,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::DealWon => "deal_won",
            Rule::Disqualified => "disqualified",
            Rule::Qualified => "qualified",
            Rule::LeadScore => "lead_score",
            Rule::QuoteOrDemoRequest => "quote_or_demo_request",
            Rule::CriticalChurnRisk => "critical_churn_risk",
            Rule::Referral => "referral",
            Rule::PromoterNps => "promoter_nps",
            Rule::RepeatWinsHighHealth => "repeat_wins_high_health",
            Rule::RenewalWindowPassed => "renewal_window_passed",
        }
    }
}

/// An automatic stage change: which rule fired and why, in words an admin can check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub from: LifecycleStage,
    pub to: LifecycleStage,
    pub rule: Rule,
    pub reason: String,
}

/// The automatic transition out of `stage` that the facts call for at `now`, if any. Always
/// forward (`from.is_forward_to(to)`).
pub fn next_transition(
    stage: LifecycleStage,
    facts: &LifecycleFacts,
    config: &LifecycleConfig,
    now: Millis,
) -> Option<Transition> {
    use LifecycleStage::*;
    let found = match stage {
        Lead => deal_won(facts)
            .or_else(|| disqualified(facts))
            .or_else(|| to_prospect(facts, config)),
        Prospect => deal_won(facts).or_else(|| disqualified(facts)),
        Customer => churned(facts, config, now)
            .or_else(|| to_advocacy(facts, config))
            .or_else(|| to_retention(facts, config, now)),
        Retention => churned(facts, config, now).or_else(|| to_advocacy(facts, config)),
        Advocacy => churned(facts, config, now),
        Lost | Churned => None,
    };
    found.map(|(to, rule, reason)| Transition {
        from: stage,
        to,
        rule,
        reason,
    })
}

/// Applies [`next_transition`] until no rule fires: a lead with a won deal and a referral
/// becomes a customer, then an advocate. Ends because every step moves forward.
pub fn settle(
    stage: LifecycleStage,
    facts: &LifecycleFacts,
    config: &LifecycleConfig,
    now: Millis,
) -> Vec<Transition> {
    let mut transitions = Vec::new();
    let mut current = stage;
    while let Some(transition) = next_transition(current, facts, config, now) {
        current = transition.to;
        transitions.push(transition);
    }
    transitions
}

type Found = Option<(LifecycleStage, Rule, String)>;

fn deal_won(facts: &LifecycleFacts) -> Found {
    (facts.deals_won > 0).then(|| {
        (
            LifecycleStage::Customer,
            Rule::DealWon,
            format!("{} deal(s) won", facts.deals_won),
        )
    })
}

fn disqualified(facts: &LifecycleFacts) -> Found {
    facts.disqualified.then(|| {
        (
            LifecycleStage::Lost,
            Rule::Disqualified,
            "marked disqualified".to_string(),
        )
    })
}

fn to_prospect(facts: &LifecycleFacts, config: &LifecycleConfig) -> Found {
    let to = LifecycleStage::Prospect;
    if facts.qualified {
        Some((to, Rule::Qualified, "marked qualified".to_string()))
    } else if facts.lead_score >= config.prospect_lead_score {
        Some((
            to,
            Rule::LeadScore,
            format!(
                "lead score {:.1} ≥ {:.1}",
                facts.lead_score, config.prospect_lead_score
            ),
        ))
    } else if facts.quote_or_demo_requests > 0 {
        Some((
            to,
            Rule::QuoteOrDemoRequest,
            format!("{} quote or demo request(s)", facts.quote_or_demo_requests),
        ))
    } else {
        None
    }
}

fn churned(facts: &LifecycleFacts, config: &LifecycleConfig, now: Millis) -> Found {
    let since = facts.critical_since?;
    if facts.risk != Some(RiskLevel::Critical) {
        return None;
    }
    let days = now.saturating_sub(since).max(0) / MILLIS_PER_DAY;
    (days >= i64::from(config.churn_after_days)).then(|| {
        (
            LifecycleStage::Churned,
            Rule::CriticalChurnRisk,
            format!(
                "risk critical for {days} days (≥ {})",
                config.churn_after_days
            ),
        )
    })
}

fn to_advocacy(facts: &LifecycleFacts, config: &LifecycleConfig) -> Found {
    let to = LifecycleStage::Advocacy;
    if facts.referrals > 0 {
        return Some((
            to,
            Rule::Referral,
            format!("{} referral(s)", facts.referrals),
        ));
    }
    if let Some(nps) = facts.nps.filter(|nps| *nps >= config.promoter_nps) {
        return Some((
            to,
            Rule::PromoterNps,
            format!("NPS {nps} ≥ {}", config.promoter_nps),
        ));
    }
    let health = facts
        .health
        .filter(|health| *health >= config.advocacy_health)?;
    (facts.deals_won >= config.advocacy_wins).then(|| {
        (
            to,
            Rule::RepeatWinsHighHealth,
            format!(
                "{} deals won (≥ {}) with health {health:.1} (≥ {:.1})",
                facts.deals_won, config.advocacy_wins, config.advocacy_health
            ),
        )
    })
}

/// Churn signals: risk high or critical. Without a measured health the window alone decides.
fn to_retention(facts: &LifecycleFacts, config: &LifecycleConfig, now: Millis) -> Found {
    let since = facts.customer_since?;
    let days = now.saturating_sub(since).max(0) / MILLIS_PER_DAY;
    let churn_signals = matches!(facts.risk, Some(RiskLevel::High | RiskLevel::Critical));
    (days >= i64::from(config.retention_after_days) && !churn_signals).then(|| {
        (
            LifecycleStage::Retention,
            Rule::RenewalWindowPassed,
            format!(
                "customer for {days} days (≥ {}) without churn signals",
                config.retention_after_days
            ),
        )
    })
}

#[cfg(test)]
mod tests;
