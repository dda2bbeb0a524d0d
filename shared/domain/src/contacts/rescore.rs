//! Rescoring a contact: from what is stored about it (the record, its linked visitors'
//! profiles, its interactions, its deals and the last materialized scores) to its new lead and
//! health scores, the score-change records worth writing and the automatic lifecycle
//! transitions that follow. Pure: the store loads the sources, calls [`rescore`] and writes
//! what it returns (see `crm_store::repo::crm::scores`).
//!
//! - The **lead score** is always computed; the contact keeps it as a whole number.
//! - The **health score** is computed for every contact (the lifecycle rules read it), but the
//!   contact record only keeps it once the contact is a customer (customer, retention,
//!   advocacy, churned): a lead has no health to be at risk about.
//! - A score-change record is due when the score moves by more than the threshold from the
//!   whole number stored on the contact (a first health score counts from 0).
//! - The lifecycle rules ([`settle`]) run on facts gathered from the same sources; the contact
//!   ends in the last stage they reach.

use serde::{Deserialize, Serialize};

use super::contact::{Contact, CustomValue, Qualification};
use super::interaction::{Interaction, InteractionKind, Sentiment};
use super::lifecycle::LifecycleStage;
use super::score::lead_inputs;
use crate::deals::date::Date;
use crate::deals::{Deal, DealStatus};
use crate::engine::change::DEFAULT_CHANGE_THRESHOLD;
use crate::engine::factor::FactorName;
use crate::engine::health::{
    RELATIONSHIP_WINDOW_DAYS, SUPPORT_WINDOW_DAYS, USAGE_WINDOW_DAYS, critical_since,
};
use crate::engine::{
    HealthConfig, HealthInputs, HealthScore, LeadActivity, LeadConfig, LeadInputs, LeadScore,
    LifecycleConfig, LifecycleFacts, ScoreCause, ScoreChange, ScoreKind, Transition, health_score,
    lead_score, score_change, settle,
};
use crate::scoring::VisitorProfile;
use crate::time::{MILLIS_PER_DAY, Millis};

/// The custom fields the rules read when a team records them: the latest NPS answer (0–10)
/// and the number of referrals the contact made.
pub const NPS_FIELD: &str = "nps";
pub const REFERRALS_FIELD: &str = "referrals";
/// An interaction whose outcome is this word (any case) is a complaint.
pub const COMPLAINT_OUTCOME: &str = "complaint";

/// Everything that tunes a rescore; the defaults are those documented in docs/scoring.md.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoringConfig {
    pub lead: LeadConfig,
    pub health: HealthConfig,
    pub lifecycle: LifecycleConfig,
    /// A change of more than this many points writes a score-change record.
    pub change_threshold: f64,
}

impl Default for ScoringConfig {
    fn default() -> ScoringConfig {
        ScoringConfig {
            lead: LeadConfig::default(),
            health: HealthConfig::default(),
            lifecycle: LifecycleConfig::default(),
            change_threshold: DEFAULT_CHANGE_THRESHOLD,
        }
    }
}

/// The scores as last materialized, with their breakdowns: what the contact's `SCORES` item
/// holds. `critical_since` is the churn rule's memory and only lives here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreState {
    pub lead: LeadScore,
    pub health: HealthScore,
    /// Since when the health risk has been critical without a break (customers only).
    #[serde(default)]
    pub critical_since: Option<Millis>,
    /// When these scores were computed.
    pub at: Millis,
    /// The lead score's inputs at `at`, so that a read at any later time computes the score
    /// exactly ([`ScoreState::lead_at`]) instead of trusting the last materialized value.
    /// Absent in states stored before it existed.
    #[serde(default)]
    pub lead_inputs: Option<LeadInputs>,
}

impl ScoreState {
    /// The lead score as of `now`: the engine over the stored inputs, so the behavior factors
    /// have decayed exactly since the last rescore. A `now` before `at` reads the value as of
    /// `at` (never more); without stored inputs, the materialized score.
    pub fn lead_at(&self, config: &LeadConfig, now: Millis) -> LeadScore {
        match &self.lead_inputs {
            Some(inputs) => lead_score(inputs, config, now.max(self.at)),
            None => self.lead.clone(),
        }
    }
}

/// What a rescore reads.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSources<'a> {
    pub contact: &'a Contact,
    pub profiles: &'a [VisitorProfile],
    pub interactions: &'a [Interaction],
    pub deals: &'a [Deal],
    pub previous: Option<&'a ScoreState>,
}

/// What a rescore decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Rescore {
    /// The contact with its new whole scores and final stage (`updated_at` untouched).
    pub contact: Contact,
    pub state: ScoreState,
    /// Score-change records to write (lead first, then health).
    pub changes: Vec<ScoreChange>,
    /// Automatic transitions, in order; the contact ends in the last one's `to`.
    pub transitions: Vec<Transition>,
}

impl Rescore {
    /// Whether the contact record itself changes (a whole score or its stage).
    pub fn contact_changed(&self, before: &Contact) -> bool {
        self.contact.lead_score != before.lead_score
            || self.contact.health_score != before.health_score
            || self.contact.lifecycle_stage != before.lifecycle_stage
    }
}

/// Whether the contact is (or was) a customer: the stages whose record keeps a health score.
pub fn keeps_health(stage: LifecycleStage) -> bool {
    matches!(
        stage,
        LifecycleStage::Customer
            | LifecycleStage::Retention
            | LifecycleStage::Advocacy
            | LifecycleStage::Churned
    )
}

/// The contact's scores, records and transitions as of `now`.
pub fn rescore(
    sources: ScoreSources<'_>,
    config: &ScoringConfig,
    cause: ScoreCause,
    now: Millis,
) -> Rescore {
    let contact = sources.contact;
    let inputs = lead_inputs(contact, sources.profiles, sources.interactions);
    let lead = lead_score(&inputs, &config.lead, now);
    let health_inputs = health_inputs(
        &lead,
        &inputs.activity,
        sources.interactions,
        sources.deals,
        contact,
        now,
    );
    let health = health_score(&health_inputs, &config.health);
    let critical = if keeps_health(contact.lifecycle_stage) {
        critical_since(
            sources.previous.and_then(|state| state.critical_since),
            health.risk,
            now,
        )
    } else {
        None
    };
    let facts = lifecycle_facts(
        contact,
        &lead,
        &health,
        critical,
        sources.profiles,
        sources.deals,
    );
    let transitions = settle(contact.lifecycle_stage, &facts, &config.lifecycle, now);
    let stage = transitions
        .last()
        .map_or(contact.lifecycle_stage, |transition| transition.to);

    let mut updated = contact.clone();
    updated.lifecycle_stage = stage;
    updated.lead_score = lead.whole();
    let mut changes = Vec::new();
    changes.extend(score_change(
        ScoreKind::Lead,
        Some(f64::from(contact.lead_score)),
        lead.score,
        &lead.factors,
        cause,
        config.change_threshold,
        now,
    ));
    if keeps_health(stage) {
        let whole = whole(health.score);
        updated.health_score = Some(whole);
        if updated.health_score != contact.health_score {
            changes.extend(score_change(
                ScoreKind::Health,
                contact.health_score.map(f64::from),
                health.score,
                &health.factors,
                cause,
                config.change_threshold,
                now,
            ));
        }
    }
    // Within half a point the stored whole lead score is unchanged, and so is the record.
    if updated.lead_score == contact.lead_score {
        changes.retain(|change| change.kind != ScoreKind::Lead);
    }
    Rescore {
        contact: updated,
        state: ScoreState {
            lead,
            health,
            critical_since: if keeps_health(stage) { critical } else { None },
            at: now,
            lead_inputs: Some(inputs),
        },
        changes,
        transitions,
    }
}

/// The health score's inputs from the same sources: the lead score's engagement factor, active
/// days in the last 30, complaints and negative interactions in the last 90, won and overdue
/// deals (an open deal whose expected close date has passed), interactions in the last 90 and
/// the NPS custom field.
pub fn health_inputs(
    lead: &LeadScore,
    activity: &LeadActivity,
    interactions: &[Interaction],
    deals: &[Deal],
    contact: &Contact,
    now: Millis,
) -> HealthInputs {
    let engagement = lead
        .factors
        .iter()
        .find(|factor| factor.name == FactorName::Engagement)
        .map_or(0.0, |factor| factor.value);
    let today = now.day();
    let active_days = activity
        .active_days
        .iter()
        .filter(|day| (today - USAGE_WINDOW_DAYS + 1..=today).contains(*day))
        .count();
    let within = |at: Millis, days: i64| at <= now && now.0 - at.0 < days * MILLIS_PER_DAY;
    let with_person = || {
        interactions
            .iter()
            .filter(|interaction| interaction.kind != InteractionKind::Note)
    };
    let is_complaint = |interaction: &Interaction| {
        interaction
            .outcome
            .as_deref()
            .is_some_and(|outcome| outcome.trim().eq_ignore_ascii_case(COMPLAINT_OUTCOME))
    };
    let complaints = with_person()
        .filter(|interaction| within(interaction.occurred_at, SUPPORT_WINDOW_DAYS))
        .filter(|interaction| is_complaint(interaction))
        .count();
    let negative = with_person()
        .filter(|interaction| within(interaction.occurred_at, SUPPORT_WINDOW_DAYS))
        .filter(|interaction| !is_complaint(interaction))
        .filter(|interaction| interaction.sentiment == Some(Sentiment::Negative))
        .count();
    let recent = with_person()
        .filter(|interaction| within(interaction.occurred_at, RELATIONSHIP_WINDOW_DAYS))
        .count();
    let today_date = Date::of(now);
    let overdue = deals
        .iter()
        .filter(|deal| deal.status == DealStatus::Open)
        .filter(|deal| {
            deal.expected_close_date
                .is_some_and(|date| date < today_date)
        })
        .count();
    HealthInputs {
        engagement,
        active_days: count(active_days),
        complaints: count(complaints),
        negative_interactions: count(negative),
        deals_won: count(won(deals).count()),
        overdue: count(overdue),
        interactions: count(recent),
        nps: nps(contact),
    }
}

/// The facts the lifecycle rules read.
pub fn lifecycle_facts(
    contact: &Contact,
    lead: &LeadScore,
    health: &HealthScore,
    critical_since: Option<Millis>,
    profiles: &[VisitorProfile],
    deals: &[Deal],
) -> LifecycleFacts {
    LifecycleFacts {
        qualified: contact.qualification == Qualification::Qualified,
        disqualified: contact.qualification == Qualification::Disqualified,
        lead_score: lead.score,
        quote_or_demo_requests: profiles.iter().fold(0u64, |sum, profile| {
            sum.saturating_add(profile.totals.quote_or_demo_requests)
        }),
        deals_won: count(won(deals).count()),
        customer_since: won(deals).filter_map(|deal| deal.closed_at).min(),
        health: Some(health.score),
        risk: Some(health.risk),
        critical_since,
        referrals: whole_number(contact, REFERRALS_FIELD)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        nps: nps(contact),
    }
}

fn won(deals: &[Deal]) -> impl Iterator<Item = &Deal> {
    deals.iter().filter(|deal| deal.status == DealStatus::Won)
}

fn nps(contact: &Contact) -> Option<u8> {
    whole_number(contact, NPS_FIELD)
        .filter(|n| *n <= 10)
        .map(|n| n as u8)
}

/// A non-negative whole-number custom field.
fn whole_number(contact: &Contact, field: &str) -> Option<u64> {
    match contact.custom_fields.get(field)? {
        CustomValue::Number(number) => number.as_u64(),
        CustomValue::Text(text) => text.trim().parse().ok(),
        CustomValue::Bool(_) => None,
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn whole(score: f64) -> u8 {
    if score.is_finite() {
        score.round().clamp(0.0, 100.0) as u8
    } else {
        0
    }
}

#[cfg(test)]
mod tests;
