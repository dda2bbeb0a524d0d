//! One test per rule, plus the order between rules.

use super::*;
use LifecycleStage::*;

const T0: Millis = Millis(1_763_700_000_000);

fn days_after(start: Millis, days: i64) -> Millis {
    Millis(start.0 + days * MILLIS_PER_DAY)
}

fn fire(stage: LifecycleStage, facts: LifecycleFacts) -> Option<(LifecycleStage, Rule)> {
    next_transition(stage, &facts, &LifecycleConfig::default(), T0).map(|t| (t.to, t.rule))
}

fn customer() -> LifecycleFacts {
    LifecycleFacts {
        deals_won: 1,
        customer_since: Some(days_after(T0, -10)),
        health: Some(60.0),
        risk: Some(RiskLevel::Medium),
        ..LifecycleFacts::default()
    }
}

#[test]
fn a_lead_without_signals_stays_a_lead() {
    assert_eq!(fire(Lead, LifecycleFacts::default()), None);
}

#[test]
fn a_qualified_lead_becomes_a_prospect() {
    let facts = LifecycleFacts {
        qualified: true,
        ..LifecycleFacts::default()
    };
    assert_eq!(fire(Lead, facts), Some((Prospect, Rule::Qualified)));
}

#[test]
fn a_lead_at_the_score_threshold_becomes_a_prospect() {
    let at = LifecycleFacts {
        lead_score: 60.0,
        ..LifecycleFacts::default()
    };
    let below = LifecycleFacts {
        lead_score: 59.9,
        ..LifecycleFacts::default()
    };
    let transition = next_transition(Lead, &at, &LifecycleConfig::default(), T0).unwrap();
    assert_eq!(
        (transition.to, transition.rule),
        (Prospect, Rule::LeadScore)
    );
    assert_eq!(transition.reason, "lead score 60.0 ≥ 60.0");
    assert_eq!(fire(Lead, below), None);
}

#[test]
fn a_quote_or_demo_request_makes_a_lead_a_prospect() {
    let facts = LifecycleFacts {
        quote_or_demo_requests: 1,
        ..LifecycleFacts::default()
    };
    assert_eq!(
        fire(Lead, facts),
        Some((Prospect, Rule::QuoteOrDemoRequest))
    );
}

#[test]
fn a_won_deal_makes_a_lead_or_prospect_a_customer() {
    let facts = LifecycleFacts {
        deals_won: 1,
        qualified: true,
        ..LifecycleFacts::default()
    };
    assert_eq!(fire(Lead, facts.clone()), Some((Customer, Rule::DealWon)));
    assert_eq!(fire(Prospect, facts), Some((Customer, Rule::DealWon)));
}

#[test]
fn a_disqualified_lead_or_prospect_is_lost_unless_a_deal_was_won() {
    let facts = LifecycleFacts {
        disqualified: true,
        lead_score: 90.0,
        ..LifecycleFacts::default()
    };
    assert_eq!(fire(Lead, facts.clone()), Some((Lost, Rule::Disqualified)));
    assert_eq!(
        fire(Prospect, facts.clone()),
        Some((Lost, Rule::Disqualified))
    );
    let won = LifecycleFacts {
        deals_won: 1,
        ..facts
    };
    assert_eq!(fire(Prospect, won), Some((Customer, Rule::DealWon)));
}

#[test]
fn a_customer_moves_to_retention_once_the_window_passes_without_churn_signals() {
    let young = customer();
    assert_eq!(fire(Customer, young), None);
    let settled = LifecycleFacts {
        customer_since: Some(days_after(T0, -90)),
        ..customer()
    };
    assert_eq!(
        fire(Customer, settled.clone()),
        Some((Retention, Rule::RenewalWindowPassed))
    );
    let at_risk = LifecycleFacts {
        risk: Some(RiskLevel::High),
        ..settled
    };
    assert_eq!(fire(Customer, at_risk), None);
}

#[test]
fn a_referral_makes_a_customer_or_retained_customer_an_advocate() {
    let facts = LifecycleFacts {
        referrals: 1,
        ..customer()
    };
    assert_eq!(
        fire(Customer, facts.clone()),
        Some((Advocacy, Rule::Referral))
    );
    assert_eq!(fire(Retention, facts), Some((Advocacy, Rule::Referral)));
}

#[test]
fn a_promoter_nps_makes_an_advocate_and_a_passive_one_does_not() {
    let promoter = LifecycleFacts {
        nps: Some(9),
        ..customer()
    };
    let passive = LifecycleFacts {
        nps: Some(8),
        ..customer()
    };
    assert_eq!(
        fire(Retention, promoter),
        Some((Advocacy, Rule::PromoterNps))
    );
    assert_eq!(fire(Retention, passive), None);
}

#[test]
fn repeated_wins_with_high_health_make_an_advocate() {
    let facts = LifecycleFacts {
        deals_won: 2,
        health: Some(80.0),
        risk: Some(RiskLevel::Low),
        ..customer()
    };
    assert_eq!(
        fire(Customer, facts.clone()),
        Some((Advocacy, Rule::RepeatWinsHighHealth))
    );
    let one_win = LifecycleFacts {
        deals_won: 1,
        ..facts.clone()
    };
    let lower_health = LifecycleFacts {
        health: Some(79.9),
        ..facts
    };
    assert_eq!(fire(Retention, one_win), None);
    assert_eq!(fire(Retention, lower_health), None);
}

#[test]
fn a_customer_critical_for_the_churn_window_has_churned_from_any_customer_stage() {
    let facts = LifecycleFacts {
        risk: Some(RiskLevel::Critical),
        critical_since: Some(days_after(T0, -30)),
        referrals: 3,
        ..customer()
    };
    for stage in [Customer, Retention, Advocacy] {
        assert_eq!(
            fire(stage, facts.clone()),
            Some((Churned, Rule::CriticalChurnRisk))
        );
    }
    let recently = LifecycleFacts {
        critical_since: Some(days_after(T0, -29)),
        ..facts.clone()
    };
    let recovered = LifecycleFacts {
        risk: Some(RiskLevel::High),
        ..facts
    };
    assert_eq!(fire(Advocacy, recently), None);
    assert_eq!(fire(Advocacy, recovered), None);
}

#[test]
fn terminal_states_have_no_automatic_way_out() {
    let everything = LifecycleFacts {
        qualified: true,
        deals_won: 3,
        referrals: 1,
        ..customer()
    };
    assert_eq!(fire(Lost, everything.clone()), None);
    assert_eq!(fire(Churned, everything), None);
}

#[test]
fn settle_follows_the_rules_until_none_fires() {
    let facts = LifecycleFacts {
        quote_or_demo_requests: 1,
        deals_won: 1,
        customer_since: Some(days_after(T0, -120)),
        nps: Some(10),
        ..LifecycleFacts::default()
    };
    let path: Vec<(LifecycleStage, Rule)> = settle(Lead, &facts, &LifecycleConfig::default(), T0)
        .into_iter()
        .map(|t| (t.to, t.rule))
        .collect();
    assert_eq!(
        path,
        vec![(Customer, Rule::DealWon), (Advocacy, Rule::PromoterNps)]
    );
}
