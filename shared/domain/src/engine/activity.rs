//! The lead score's activity inputs: counters that add up, latest times that take the maximum
//! and sets of active days that unite. Every merge is commutative and associative, so folding
//! signals one at a time as they arrive (the incremental path) and rebuilding from the stored
//! totals of the linked visitors and interactions (`recalculate-score`) give the same inputs,
//! and the lead score is a pure function of them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::scoring::{BehaviorTotals, VisitorProfile};
use crate::time::Millis;

/// Active days kept (the most recent ones): enough for returns and frequency.
pub const MAX_ACTIVE_DAYS: usize = 90;

/// Behavior of one linked visitor: its stored totals (for a recalculation) or what one batch
/// added to them (for the incremental path).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitorActivity {
    pub totals: BehaviorTotals,
    pub sessions: u64,
    /// UTC days (since the epoch) with a visit.
    pub visit_days: Vec<i64>,
    pub last_seen: Option<Millis>,
    /// When the last intent signal (intent page, CTA, form submit, quote or demo request) came.
    pub last_intent_at: Option<Millis>,
}

impl VisitorActivity {
    /// A visitor's stored profile as lead-score input, with the time of its last intent signal
    /// as the caller dates it (`contacts::score::visitor_activity`: the profile's own, or its
    /// last visit for a profile stored before that time was kept).
    pub fn from_profile(
        profile: &VisitorProfile,
        last_intent_at: Option<Millis>,
    ) -> VisitorActivity {
        VisitorActivity {
            totals: profile.totals.clone(),
            sessions: profile.sessions,
            visit_days: profile.visit_days.clone(),
            last_seen: Some(profile.last_seen),
            last_intent_at,
        }
    }
}

/// An interaction logged on the contact (call, email, meeting, chat…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionFact {
    pub at: Millis,
    /// The contact reached out (an inbound email or call), a stronger signal.
    pub inbound: bool,
}

/// One thing that happened, as the incremental path sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LeadSignal {
    Visit(VisitorActivity),
    Interaction(InteractionFact),
}

/// Everything the behavioral, engagement, intent and timing factors read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadActivity {
    /// Summed over the linked visitors.
    pub behavior: BehaviorTotals,
    pub sessions: u64,
    /// Distinct visit days, ascending, the last [`MAX_ACTIVE_DAYS`].
    pub visit_days: Vec<i64>,
    /// Distinct days with a visit or an interaction, ascending, the last [`MAX_ACTIVE_DAYS`].
    pub active_days: Vec<i64>,
    pub last_visit_at: Option<Millis>,
    pub last_intent_at: Option<Millis>,
    pub interactions: u64,
    pub inbound_interactions: u64,
    pub last_interaction_at: Option<Millis>,
}

impl LeadActivity {
    /// The incremental path: adds one signal.
    pub fn apply(&mut self, signal: &LeadSignal) {
        match signal {
            LeadSignal::Visit(visit) => {
                self.behavior.add(&visit.totals);
                self.sessions = self.sessions.saturating_add(visit.sessions);
                self.visit_days = unite(&self.visit_days, &visit.visit_days);
                self.active_days = unite(&self.active_days, &visit.visit_days);
                self.last_visit_at = latest(self.last_visit_at, visit.last_seen);
                self.last_intent_at = latest(self.last_intent_at, visit.last_intent_at);
            }
            LeadSignal::Interaction(interaction) => {
                self.interactions = self.interactions.saturating_add(1);
                if interaction.inbound {
                    self.inbound_interactions = self.inbound_interactions.saturating_add(1);
                }
                self.active_days = unite(&self.active_days, &[interaction.at.day()]);
                self.last_interaction_at = latest(self.last_interaction_at, Some(interaction.at));
            }
        }
    }

    /// `recalculate-score`: rebuilds the inputs from the stored totals of every linked visitor
    /// and every logged interaction, without replaying history.
    pub fn recalculate(
        visitors: &[VisitorActivity],
        interactions: &[InteractionFact],
    ) -> LeadActivity {
        let mut behavior = BehaviorTotals::default();
        for visitor in visitors {
            behavior.add(&visitor.totals);
        }
        let visit_days: BTreeSet<i64> = visitors
            .iter()
            .flat_map(|visitor| visitor.visit_days.iter().copied())
            .collect();
        let active_days: BTreeSet<i64> = visit_days
            .iter()
            .copied()
            .chain(interactions.iter().map(|interaction| interaction.at.day()))
            .collect();
        LeadActivity {
            behavior,
            sessions: visitors
                .iter()
                .fold(0u64, |sum, visitor| sum.saturating_add(visitor.sessions)),
            visit_days: most_recent(visit_days),
            active_days: most_recent(active_days),
            last_visit_at: visitors
                .iter()
                .filter_map(|visitor| visitor.last_seen)
                .max(),
            last_intent_at: visitors
                .iter()
                .filter_map(|visitor| visitor.last_intent_at)
                .max(),
            interactions: interactions.len() as u64,
            inbound_interactions: interactions
                .iter()
                .filter(|interaction| interaction.inbound)
                .count() as u64,
            last_interaction_at: interactions.iter().map(|interaction| interaction.at).max(),
        }
    }

    /// The latest visit or interaction.
    pub fn last_activity_at(&self) -> Option<Millis> {
        latest(self.last_visit_at, self.last_interaction_at)
    }
}

fn latest(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The union of two day lists, ascending, the last [`MAX_ACTIVE_DAYS`] kept.
fn unite(a: &[i64], b: &[i64]) -> Vec<i64> {
    most_recent(a.iter().chain(b).copied().collect())
}

fn most_recent(days: BTreeSet<i64>) -> Vec<i64> {
    let skip = days.len().saturating_sub(MAX_ACTIVE_DAYS);
    days.into_iter().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(page_views: u64, days: &[i64], last_seen: i64) -> VisitorActivity {
        VisitorActivity {
            totals: BehaviorTotals {
                page_views,
                ..BehaviorTotals::default()
            },
            sessions: 1,
            visit_days: days.to_vec(),
            last_seen: Some(Millis(last_seen)),
            last_intent_at: None,
        }
    }

    #[test]
    fn signals_add_counters_unite_days_and_keep_the_latest_times() {
        let mut activity = LeadActivity::default();
        activity.apply(&LeadSignal::Visit(visit(3, &[10, 11], 500)));
        activity.apply(&LeadSignal::Visit(visit(2, &[11, 12], 400)));
        activity.apply(&LeadSignal::Interaction(InteractionFact {
            at: Millis(20 * 86_400_000),
            inbound: true,
        }));
        assert_eq!(activity.behavior.page_views, 5);
        assert_eq!(activity.sessions, 2);
        assert_eq!(activity.visit_days, vec![10, 11, 12]);
        assert_eq!(activity.active_days, vec![10, 11, 12, 20]);
        assert_eq!(activity.last_visit_at, Some(Millis(500)));
        assert_eq!(
            (activity.interactions, activity.inbound_interactions),
            (1, 1)
        );
        assert_eq!(activity.last_activity_at(), Some(Millis(20 * 86_400_000)));
    }

    #[test]
    fn only_the_most_recent_days_are_kept() {
        let days: Vec<i64> = (0..200).collect();
        let mut activity = LeadActivity::default();
        activity.apply(&LeadSignal::Visit(visit(1, &days, 0)));
        assert_eq!(activity.visit_days.len(), MAX_ACTIVE_DAYS);
        assert_eq!(activity.visit_days.first(), Some(&110));
    }
}
