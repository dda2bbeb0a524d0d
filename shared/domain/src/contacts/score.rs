//! Recalculating a contact's lead score from what is stored today: the behavior scores of its
//! linked visitors. A stopgap until the scoring issue defines the lead and health score
//! formulas (fit, engagement decay, deal signals); it lives here, not in `scoring/`, so that
//! issue can replace it without touching behavior scoring.

use crate::scoring::Scores;

/// The lead score implied by linked visitors' behavior: the strongest visitor's mean of intent
/// and engagement (both 0–100), rounded. `None` without behavior data: the score stays as is.
pub fn lead_score_from_behavior(visitors: &[Scores]) -> Option<u8> {
    visitors
        .iter()
        .map(|scores| (scores.intent + scores.engagement) / 2.0)
        .filter(|score| score.is_finite())
        .fold(None, |best: Option<f64>, score| {
            Some(best.map_or(score, |best| best.max(score)))
        })
        .map(|score| score.round().clamp(0.0, 100.0) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_visitor_decides_and_no_data_changes_nothing() {
        let scores = |intent, engagement| Scores {
            engagement,
            intent,
            friction: 0.0,
            churn_risk: 0.0,
        };
        assert_eq!(lead_score_from_behavior(&[]), None);
        assert_eq!(
            lead_score_from_behavior(&[scores(80.0, 60.0), scores(10.0, 20.0)]),
            Some(70)
        );
    }
}
