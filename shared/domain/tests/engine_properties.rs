//! Property tests of the engine: decay composes and only decreases, scores stay within 0–100,
//! automatic lifecycle transitions never go backwards, and the lead score folded one signal at
//! a time equals the lead score recalculated from stored totals.

#![allow(clippy::unwrap_used)]

use crm_domain::engine::decay::{HalfLife, decayed};
use crm_domain::engine::health::{HealthConfig, HealthInputs, RiskLevel, health_score};
use crm_domain::engine::{
    FitInputs, InteractionFact, LeadActivity, LeadConfig, LeadInputs, LeadSignal, LifecycleConfig,
    LifecycleFacts, LifecycleStage, VisitorActivity, lead_score, next_transition, settle,
};
use crm_domain::scoring::BehaviorTotals;
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use proptest::prelude::*;

const T0: i64 = 1_763_700_000_000;

fn half_life() -> impl Strategy<Value = HalfLife> {
    (0.5f64..400.0).prop_map(|days| HalfLife::from_days(days).unwrap())
}

fn millis_within(days: i64) -> impl Strategy<Value = i64> {
    0..days * MILLIS_PER_DAY
}

proptest! {
    #[test]
    fn decaying_by_a_then_b_equals_decaying_by_a_plus_b(
        value in 0.0f64..=100.0,
        a in millis_within(400),
        b in millis_within(400),
        half_life in half_life(),
    ) {
        let start = Millis(T0);
        let after_a = Millis(T0 + a);
        let after_both = Millis(T0 + a + b);
        let stepwise = decayed(decayed(value, start, after_a, half_life), after_a, after_both, half_life);
        let at_once = decayed(value, start, after_both, half_life);
        prop_assert!((stepwise - at_once).abs() <= 1e-9 * value.max(1.0), "{stepwise} vs {at_once}");
    }

    #[test]
    fn decay_stays_within_0_and_100_and_never_grows_without_activity(
        value in -50.0f64..=150.0,
        a in millis_within(400),
        b in millis_within(400),
        half_life in half_life(),
    ) {
        let start = Millis(T0);
        let earlier = decayed(value, start, Millis(T0 + a), half_life);
        let later = decayed(value, start, Millis(T0 + a + b), half_life);
        prop_assert!((0.0..=100.0).contains(&earlier));
        prop_assert!((0.0..=100.0).contains(&later));
        prop_assert!(later <= earlier);
    }
}

fn totals() -> impl Strategy<Value = BehaviorTotals> {
    (
        (0..50u64, 0..3_000_000u64, 0..=100u8, 0..10u64, 0..10u64),
        (0..5u64, 0..5u64, 0..10u64, 0..3u64, 0..10u64),
    )
        .prop_map(
            |(
                (page_views, engaged_ms, max_scroll, intent_page_views, cta_clicks),
                (form_starts, form_submits, hover_intents, quote_or_demo_requests, rage_clicks),
            )| BehaviorTotals {
                events: page_views + cta_clicks + rage_clicks,
                page_views,
                engaged_ms,
                max_scroll,
                intent_page_views,
                cta_clicks,
                form_starts,
                form_submits,
                hover_intents,
                quote_or_demo_requests,
                rage_clicks,
                ..BehaviorTotals::default()
            },
        )
}

/// One batch of one of three linked visitors, or one logged interaction.
#[derive(Debug, Clone)]
enum Step {
    Batch {
        visitor: usize,
        delta: VisitorActivity,
    },
    Interaction(InteractionFact),
}

fn step() -> impl Strategy<Value = Step> {
    let batch = (
        0..3usize,
        totals(),
        0..3u64,
        millis_within(200),
        any::<bool>(),
    )
        .prop_map(|(visitor, totals, sessions, offset, intent)| {
            let at = Millis(T0 + offset);
            Step::Batch {
                visitor,
                delta: VisitorActivity {
                    totals,
                    sessions,
                    visit_days: vec![at.day()],
                    last_seen: Some(at),
                    last_intent_at: intent.then_some(at),
                },
            }
        });
    let interaction = (millis_within(200), any::<bool>()).prop_map(|(offset, inbound)| {
        Step::Interaction(InteractionFact {
            at: Millis(T0 + offset),
            inbound,
        })
    });
    prop_oneof![3 => batch, 1 => interaction]
}

/// What the store would hold after the history: each visitor's profile totals (as the scorer's
/// fold builds them) and the list of interactions.
fn stored(history: &[Step]) -> (Vec<VisitorActivity>, Vec<InteractionFact>) {
    let mut visitors = vec![VisitorActivity::default(); 3];
    let mut interactions = Vec::new();
    for step in history {
        match step {
            Step::Batch { visitor, delta } => {
                let profile = &mut visitors[*visitor];
                profile.totals.add(&delta.totals);
                profile.sessions += delta.sessions;
                profile.visit_days.extend(&delta.visit_days);
                profile.visit_days.sort_unstable();
                profile.visit_days.dedup();
                profile.last_seen = profile.last_seen.max(delta.last_seen);
                profile.last_intent_at = profile.last_intent_at.max(delta.last_intent_at);
            }
            Step::Interaction(interaction) => interactions.push(*interaction),
        }
    }
    (visitors, interactions)
}

fn fit() -> impl Strategy<Value = FitInputs> {
    (
        any::<bool>(),
        proptest::option::of("(CEO|Engineer|Head of Ops| )"),
        0..=6u8,
        0..=6u8,
    )
        .prop_map(
            |(has_company, job_title, fields_filled, fields_total)| FitInputs {
                has_company,
                job_title,
                fields_filled,
                fields_total,
            },
        )
}

proptest! {
    #[test]
    fn the_incremental_lead_score_equals_the_recalculated_one(
        history in proptest::collection::vec(step(), 0..40),
        fit in fit(),
        read_after in millis_within(400),
    ) {
        let mut incremental = LeadActivity::default();
        for step in &history {
            let signal = match step {
                Step::Batch { delta, .. } => LeadSignal::Visit(delta.clone()),
                Step::Interaction(interaction) => LeadSignal::Interaction(*interaction),
            };
            incremental.apply(&signal);
        }
        let (visitors, interactions) = stored(&history);
        let recalculated = LeadActivity::recalculate(&visitors, &interactions);
        prop_assert_eq!(&incremental, &recalculated);

        let now = Millis(T0 + read_after);
        let config = LeadConfig::default();
        let from_incremental = lead_score(&LeadInputs { fit: fit.clone(), activity: incremental }, &config, now);
        let from_recalculation = lead_score(&LeadInputs { fit, activity: recalculated }, &config, now);
        prop_assert_eq!(&from_incremental, &from_recalculation);
        prop_assert!((0.0..=100.0).contains(&from_incremental.score));
        for factor in &from_incremental.factors {
            prop_assert!((0.0..=100.0).contains(&factor.value), "{factor:?}");
        }
    }

    #[test]
    fn the_order_of_signals_does_not_change_the_lead_score(
        history in proptest::collection::vec(step(), 0..30),
        seed in any::<u64>(),
    ) {
        let signals: Vec<LeadSignal> = history
            .iter()
            .map(|step| match step {
                Step::Batch { delta, .. } => LeadSignal::Visit(delta.clone()),
                Step::Interaction(interaction) => LeadSignal::Interaction(*interaction),
            })
            .collect();
        let mut shuffled = signals.clone();
        // A deterministic shuffle from the seed (rotate, then reverse every other block).
        if !shuffled.is_empty() {
            let rotation = (seed as usize) % shuffled.len();
            shuffled.rotate_left(rotation);
            for chunk in shuffled.chunks_mut(2) {
                chunk.reverse();
            }
        }
        let fold = |signals: &[LeadSignal]| {
            let mut activity = LeadActivity::default();
            for signal in signals {
                activity.apply(signal);
            }
            activity
        };
        prop_assert_eq!(fold(&signals), fold(&shuffled));
    }

    #[test]
    fn without_new_activity_the_lead_score_never_grows(
        history in proptest::collection::vec(step(), 1..30),
        fit in fit(),
        a in millis_within(300),
        b in millis_within(300),
    ) {
        let (visitors, interactions) = stored(&history);
        let inputs = LeadInputs { fit, activity: LeadActivity::recalculate(&visitors, &interactions) };
        // Read from after the last activity on.
        let start = T0 + 200 * MILLIS_PER_DAY;
        let config = LeadConfig::default();
        let earlier = lead_score(&inputs, &config, Millis(start + a));
        let later = lead_score(&inputs, &config, Millis(start + a + b));
        prop_assert!(later.score <= earlier.score, "{} then {}", earlier.score, later.score);
    }

    #[test]
    fn health_scores_stay_within_0_and_100(
        engagement in -10.0f64..120.0,
        counts in proptest::collection::vec(0..50u32, 6),
        nps in proptest::option::of(0..=12u8),
    ) {
        let inputs = HealthInputs {
            engagement,
            active_days: counts[0],
            complaints: counts[1],
            negative_interactions: counts[2],
            deals_won: counts[3],
            overdue: counts[4],
            interactions: counts[5],
            nps,
        };
        let health = health_score(&inputs, &HealthConfig::default());
        prop_assert!((0.0..=100.0).contains(&health.score));
        for factor in &health.factors {
            prop_assert!((0.0..=100.0).contains(&factor.value));
        }
    }
}

fn risk() -> impl Strategy<Value = Option<RiskLevel>> {
    proptest::option::of(prop_oneof![
        Just(RiskLevel::Low),
        Just(RiskLevel::Medium),
        Just(RiskLevel::High),
        Just(RiskLevel::Critical),
    ])
}

fn facts() -> impl Strategy<Value = LifecycleFacts> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            0.0f64..=100.0,
            0..3u64,
            0..4u32,
        ),
        (
            proptest::option::of(-400..400i64),
            proptest::option::of(0.0f64..=100.0),
            risk(),
            proptest::option::of(-400..400i64),
            0..3u32,
            proptest::option::of(0..=10u8),
        ),
    )
        .prop_map(
            |(
                (qualified, disqualified, lead_score, quote_or_demo_requests, deals_won),
                (customer_since, health, risk, critical_since, referrals, nps),
            )| LifecycleFacts {
                qualified,
                disqualified,
                lead_score,
                quote_or_demo_requests,
                deals_won,
                customer_since: customer_since.map(|days| Millis(T0 + days * MILLIS_PER_DAY)),
                health,
                risk,
                critical_since: critical_since.map(|days| Millis(T0 + days * MILLIS_PER_DAY)),
                referrals,
                nps,
            },
        )
}

proptest! {
    #[test]
    fn automatic_transitions_never_go_backwards(
        stage in proptest::sample::select(LifecycleStage::ALL.to_vec()),
        facts in facts(),
    ) {
        let config = LifecycleConfig::default();
        let now = Millis(T0);
        if let Some(transition) = next_transition(stage, &facts, &config, now) {
            prop_assert_eq!(transition.from, stage);
            prop_assert!(stage.is_forward_to(transition.to), "{transition:?}");
            prop_assert!(!transition.reason.is_empty());
        }
        let path = settle(stage, &facts, &config, now);
        prop_assert!(path.len() <= 5);
        let mut current = stage;
        for transition in &path {
            prop_assert_eq!(transition.from, current);
            prop_assert!(current.is_forward_to(transition.to));
            current = transition.to;
        }
    }
}
