//! Score-change records: when a lead or health score moves by more than a threshold, the
//! timeline gets a record of the old and new score, the new breakdown and what caused it.

use serde::{Deserialize, Serialize};

use super::factor::Factor;
use crate::time::Millis;

/// Default: a change of more than 5 points is recorded.
pub const DEFAULT_CHANGE_THRESHOLD: f64 = 5.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    Lead,
    Health,
}

/// What made the score move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreCause {
    /// Website behavior of a linked visitor.
    Behavior,
    /// An interaction was logged.
    Interaction,
    /// The contact's fields changed (fit).
    ProfileChange,
    /// A deal was won, lost or flagged overdue.
    Deal,
    /// Time passed: the decay job materialized a decayed score.
    Decay,
    /// `recalculate-score`, or the weights changed.
    Recalculation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreChange {
    pub kind: ScoreKind,
    /// `None` for a contact's first score.
    pub old: Option<f64>,
    pub new: f64,
    /// The new score's breakdown.
    pub factors: Vec<Factor>,
    pub cause: ScoreCause,
    pub at: Millis,
}

/// Whether going from `old` to `new` moves the score by more than `threshold` points (a first
/// score counts from 0).
pub fn exceeds_threshold(old: Option<f64>, new: f64, threshold: f64) -> bool {
    (new - old.unwrap_or(0.0)).abs() > threshold
}

/// The record to write, or `None` when the change is within the threshold.
pub fn score_change(
    kind: ScoreKind,
    old: Option<f64>,
    new: f64,
    factors: &[Factor],
    cause: ScoreCause,
    threshold: f64,
    at: Millis,
) -> Option<ScoreChange> {
    exceeds_threshold(old, new, threshold).then(|| ScoreChange {
        kind,
        old,
        new,
        factors: factors.to_vec(),
        cause,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::factor::FactorName;

    #[test]
    fn a_change_of_more_than_the_threshold_builds_a_record_with_its_breakdown() {
        let factors = [Factor::new(FactorName::Intent, 80.0, 100)];
        let change = score_change(
            ScoreKind::Lead,
            Some(60.0),
            80.0,
            &factors,
            ScoreCause::Behavior,
            DEFAULT_CHANGE_THRESHOLD,
            Millis(7),
        );
        assert_eq!(
            change,
            Some(ScoreChange {
                kind: ScoreKind::Lead,
                old: Some(60.0),
                new: 80.0,
                factors: factors.to_vec(),
                cause: ScoreCause::Behavior,
                at: Millis(7),
            })
        );
    }

    #[test]
    fn a_change_of_exactly_the_threshold_or_less_is_not_recorded() {
        assert!(!exceeds_threshold(Some(60.0), 65.0, 5.0));
        assert!(!exceeds_threshold(Some(60.0), 56.0, 5.0));
        assert!(exceeds_threshold(Some(60.0), 54.9, 5.0));
        assert!(
            score_change(
                ScoreKind::Health,
                Some(50.0),
                52.0,
                &[],
                ScoreCause::Decay,
                5.0,
                Millis(0)
            )
            .is_none()
        );
    }

    #[test]
    fn a_first_score_counts_from_zero() {
        assert!(exceeds_threshold(None, 12.0, 5.0));
        assert!(!exceeds_threshold(None, 3.0, 5.0));
    }
}
