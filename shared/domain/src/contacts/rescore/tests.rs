use super::*;
use crate::contacts::Email;
use crate::deals::{Currency, Money};
use crate::engine::RiskLevel;

const NOW: Millis = Millis(1_763_700_000_000);
const DAY: i64 = MILLIS_PER_DAY;

fn contact(stage: LifecycleStage) -> Contact {
    let mut contact = Contact::new(
        "c1".to_owned(),
        Email::parse("ada@acme.test").unwrap(),
        None,
        Millis(NOW.0 - 200 * DAY),
    );
    contact.lifecycle_stage = stage;
    contact
}

fn deal(status: DealStatus, closed_days_ago: Option<i64>) -> Deal {
    Deal {
        id: format!("d{closed_days_ago:?}"),
        title: "deal".to_owned(),
        amount: Money::new(1000, Currency::parse("EUR").unwrap()),
        pipeline_id: "p".to_owned(),
        stage_id: "s".to_owned(),
        contact_id: Some("c1".to_owned()),
        owner_id: None,
        expected_close_date: None,
        probability_override: None,
        status,
        lost_reason: None,
        created_at: Millis(NOW.0 - 300 * DAY),
        stage_entered_at: Millis(NOW.0 - 300 * DAY),
        closed_at: closed_days_ago.map(|days| Millis(NOW.0 - days * DAY)),
        reached_stage_ids: Vec::new(),
    }
}

fn run(contact: &Contact, deals: &[Deal], previous: Option<&ScoreState>) -> Rescore {
    run_with(contact, &[], deals, previous)
}

fn run_with(
    contact: &Contact,
    interactions: &[Interaction],
    deals: &[Deal],
    previous: Option<&ScoreState>,
) -> Rescore {
    rescore(
        ScoreSources {
            contact,
            profiles: &[],
            interactions,
            deals,
            previous,
        },
        &ScoringConfig::default(),
        ScoreCause::Recalculation,
        NOW,
    )
}

#[test]
fn a_lead_with_a_won_deal_becomes_a_customer_with_a_health_score_and_its_record() {
    let lead = contact(LifecycleStage::Lead);
    let result = run(&lead, &[deal(DealStatus::Won, Some(10))], None);
    let stages: Vec<_> = result.transitions.iter().map(|t| (t.from, t.to)).collect();
    assert_eq!(
        stages,
        vec![(LifecycleStage::Lead, LifecycleStage::Customer)]
    );
    assert_eq!(result.contact.lifecycle_stage, LifecycleStage::Customer);
    // usage 0, support 100, payment 100 × (0.5 + 0.5 × sat(1, 2)) = 69.7, relationship 0.
    assert_eq!(result.state.health.score, 38.9);
    assert_eq!(result.contact.health_score, Some(39));
    let kinds: Vec<_> = result.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ScoreKind::Health]);
    assert!(result.contact_changed(&lead));
}

#[test]
fn a_lead_keeps_no_health_score_and_an_unchanged_contact_writes_nothing() {
    let lead = contact(LifecycleStage::Lead);
    let result = run(&lead, &[], None);
    assert_eq!(result.contact.health_score, None);
    assert!(result.transitions.is_empty());
    assert!(result.changes.is_empty());
    assert!(!result.contact_changed(&lead));
    assert_eq!(result.state.critical_since, None);
}

#[test]
fn critical_risk_is_remembered_and_churns_a_customer_after_thirty_days() {
    let mut customer = contact(LifecycleStage::Customer);
    // Overdue deals halve payment and complaints sink support until health is critical.
    let mut overdue = deal(DealStatus::Open, None);
    overdue.expected_close_date = Some(Date::of(Millis(NOW.0 - 5 * DAY)));
    let deals = vec![overdue.clone(), overdue.clone(), overdue];
    customer
        .custom_fields
        .insert(NPS_FIELD.to_owned(), CustomValue::Number(0.into()));
    let complaints = [complaint(1), complaint(2)];
    let first = run_with(&customer, &complaints, &deals, None);
    assert_eq!(first.state.health.risk, RiskLevel::Critical, "{first:?}");
    assert_eq!(first.state.critical_since, Some(NOW));
    assert!(first.transitions.is_empty());

    let earlier = ScoreState {
        critical_since: Some(Millis(NOW.0 - 31 * DAY)),
        ..first.state.clone()
    };
    let later = run_with(&customer, &complaints, &deals, Some(&earlier));
    assert_eq!(later.state.critical_since, Some(Millis(NOW.0 - 31 * DAY)));
    assert_eq!(later.contact.lifecycle_stage, LifecycleStage::Churned);
}

fn complaint(days_ago: i64) -> Interaction {
    interaction(days_ago, Some("complaint"), None)
}

fn interaction(days_ago: i64, outcome: Option<&str>, sentiment: Option<Sentiment>) -> Interaction {
    Interaction {
        id: format!("i{days_ago}"),
        contact_id: "c1".to_owned(),
        kind: InteractionKind::Call,
        direction: None,
        channel: None,
        subject: None,
        content: None,
        outcome: outcome.map(str::to_owned),
        sentiment,
        follow_up_date: None,
        occurred_at: Millis(NOW.0 - days_ago * DAY),
        created_by: "rep".to_owned(),
    }
}

#[test]
fn health_inputs_count_complaints_negative_sentiment_and_recent_interactions_only() {
    let interactions = [
        interaction(1, Some("Complaint"), Some(Sentiment::Negative)),
        interaction(2, None, Some(Sentiment::Negative)),
        interaction(3, None, Some(Sentiment::Positive)),
        interaction(120, Some("complaint"), Some(Sentiment::Negative)),
    ];
    let customer = contact(LifecycleStage::Customer);
    let inputs = lead_inputs(&customer, &[], &interactions);
    let lead = lead_score(&inputs, &LeadConfig::default(), NOW);
    let health = health_inputs(
        &lead,
        &inputs.activity,
        &interactions,
        &[
            deal(DealStatus::Won, Some(3)),
            deal(DealStatus::Lost, Some(4)),
        ],
        &customer,
        NOW,
    );
    assert_eq!(
        (
            health.complaints,
            health.negative_interactions,
            health.interactions,
            health.deals_won,
            health.active_days
        ),
        (1, 1, 3, 1, 3)
    );
}

#[test]
fn a_stored_state_read_later_is_exactly_what_a_rescore_then_would_give() {
    let lead = contact(LifecycleStage::Lead);
    let interactions = [interaction(1, None, None), interaction(3, None, None)];
    let stored = run_with(&lead, &interactions, &[], None).state;
    let config = ScoringConfig::default();
    for days in [0, 1, 7, 30, 90] {
        let later = Millis(NOW.0 + days * DAY);
        let rescored = rescore(
            ScoreSources {
                contact: &lead,
                profiles: &[],
                interactions: &interactions,
                deals: &[],
                previous: None,
            },
            &config,
            ScoreCause::Decay,
            later,
        );
        assert_eq!(
            stored.lead_at(&config.lead, later),
            rescored.state.lead,
            "{days} days"
        );
    }
    let month_later = stored.lead_at(&config.lead, Millis(NOW.0 + 30 * DAY));
    assert!(month_later.score < stored.lead.score, "{month_later:?}");
    assert_eq!(
        stored.lead_at(&config.lead, Millis(NOW.0 - DAY)),
        stored.lead,
        "a read before the last rescore never reads more"
    );
}
