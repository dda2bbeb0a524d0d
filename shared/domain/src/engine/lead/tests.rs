//! The worked example of `docs/scoring.md` and one test per factor.

use super::*;
use crate::engine::activity::{InteractionFact, LeadSignal, VisitorActivity};
use crate::scoring::BehaviorTotals;

const NOW: Millis = Millis(1_763_700_000_000);

fn days_ago(days: i64) -> Millis {
    Millis(NOW.0 - days * MILLIS_PER_DAY)
}

/// Ada, CTO at Acme: two linked visitors and two interactions.
fn ada() -> LeadInputs {
    let first = VisitorActivity {
        totals: BehaviorTotals {
            page_views: 7,
            engaged_ms: 150_000,
            intent_page_views: 1,
            ..BehaviorTotals::default()
        },
        sessions: 2,
        visit_days: vec![days_ago(9).day(), days_ago(5).day()],
        last_seen: Some(days_ago(5)),
        last_intent_at: Some(days_ago(5)),
    };
    let second = VisitorActivity {
        totals: BehaviorTotals {
            page_views: 5,
            engaged_ms: 90_000,
            intent_page_views: 1,
            cta_clicks: 1,
            quote_or_demo_requests: 1,
            ..BehaviorTotals::default()
        },
        sessions: 1,
        visit_days: vec![days_ago(2).day()],
        last_seen: Some(days_ago(2)),
        last_intent_at: Some(days_ago(2)),
    };
    let interactions = [
        InteractionFact {
            at: days_ago(1),
            inbound: true,
        },
        InteractionFact {
            at: days_ago(1),
            inbound: false,
        },
    ];
    LeadInputs {
        fit: FitInputs {
            has_company: true,
            job_title: Some("CTO".to_string()),
            fields_filled: 4,
            fields_total: 5,
        },
        activity: LeadActivity::recalculate(&[first, second], &interactions),
    }
}

fn values(score: &LeadScore) -> Vec<f64> {
    score.factors.iter().map(|factor| factor.value).collect()
}

#[test]
fn the_worked_example_scores_as_documented() {
    let score = lead_score(&ada(), &LeadConfig::default(), NOW);
    assert_eq!(values(&score), vec![93.0, 60.5, 61.4, 67.0, 81.1]);
    assert_eq!(score.score, 73.5);
    assert_eq!(score.whole(), 74);
    let weights: Vec<u8> = score.factors.iter().map(|factor| factor.weight).collect();
    assert_eq!(weights, vec![30, 25, 20, 15, 10]);
}

#[test]
fn a_week_later_intent_has_halved_and_engagement_and_timing_faded() {
    let later = Millis(NOW.0 + 7 * MILLIS_PER_DAY);
    let score = lead_score(&ada(), &LeadConfig::default(), later);
    let factors = values(&score);
    assert_eq!(factors[0..2], [93.0, 60.5]);
    assert_eq!(factors[3], 33.5);
    assert!(factors[2] < 61.4 && factors[4] < 81.1);
}

#[test]
fn an_empty_contact_scores_zero() {
    let score = lead_score(&LeadInputs::default(), &LeadConfig::default(), NOW);
    assert_eq!(score.score, 0.0);
    assert!(values(&score).iter().all(|value| *value == 0.0));
}

#[test]
fn fit_counts_company_title_seniority_and_filled_fields() {
    let manager = FitInputs {
        has_company: true,
        job_title: Some("Marketing Manager".to_string()),
        fields_filled: 2,
        fields_total: 4,
    };
    assert_eq!(fit(&manager), 67.5);
    let blank_title = FitInputs {
        job_title: Some("  ".to_string()),
        ..manager
    };
    assert_eq!(fit(&blank_title), 47.5);
    assert!(is_decision_maker("Head of Sales"));
    assert!(is_decision_maker("Co-Founder & CEO"));
    assert!(!is_decision_maker("Headhunter"));
}

#[test]
fn behavioral_counts_pages_sessions_and_return_days() {
    let mut activity = LeadActivity::default();
    activity.apply(&LeadSignal::Visit(VisitorActivity {
        totals: BehaviorTotals {
            page_views: 10,
            ..BehaviorTotals::default()
        },
        sessions: 3,
        visit_days: vec![1, 2, 3, 4],
        last_seen: Some(NOW),
        last_intent_at: None,
    }));
    // 100 × (0.35 × 0.632 + 0.30 × 0.632 + 0.35 × 0.632)
    assert_eq!(behavioral(&activity), 63.2);
}

#[test]
fn timing_is_recency_and_frequency_of_any_activity() {
    let mut activity = LeadActivity::default();
    activity.apply(&LeadSignal::Interaction(InteractionFact {
        at: NOW,
        inbound: false,
    }));
    // 100 × (0.6 × 1 + 0.4 × sat(1, 4))
    assert_eq!(timing(&activity, NOW), 68.8);
    // 14 days later: 0.6 × e^−1, and the day is still within the 30-day window.
    assert_eq!(timing(&activity, Millis(NOW.0 + 14 * MILLIS_PER_DAY)), 30.9);
}

#[test]
fn custom_weights_change_the_total_not_the_factors() {
    let config = LeadConfig {
        weights: LeadWeights::new(0, 0, 0, 100, 0).unwrap(),
        ..LeadConfig::default()
    };
    let score = lead_score(&ada(), &config, NOW);
    assert_eq!(values(&score), vec![93.0, 60.5, 61.4, 67.0, 81.1]);
    assert_eq!(score.score, 67.0);
}

#[test]
fn weights_must_sum_to_100() {
    assert_eq!(
        LeadWeights::new(30, 25, 20, 15, 9),
        Err(WeightsError::Sum(99))
    );
    let parsed: LeadWeights = serde_json::from_str(
        r#"{"fit": 20, "behavioral": 20, "engagement": 20, "intent": 20, "timing": 20}"#,
    )
    .unwrap();
    assert_eq!(parsed, LeadWeights::new(20, 20, 20, 20, 20).unwrap());
    assert!(
        serde_json::from_str::<LeadWeights>(
            r#"{"fit": 90, "behavioral": 20, "engagement": 20, "intent": 20, "timing": 20}"#
        )
        .is_err()
    );
}
