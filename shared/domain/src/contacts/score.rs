//! A contact's lead-score inputs from what is stored about it: its fields (fit), its linked
//! visitors' profiles and its logged interactions. `recalculate-score` loads those and hands
//! them here; the score itself is [`crate::engine::lead_score`].

use super::contact::Contact;
use super::interaction::{Direction, Interaction, InteractionKind};
use crate::engine::{FitInputs, InteractionFact, LeadActivity, LeadInputs, VisitorActivity};
use crate::scoring::VisitorProfile;
use crate::scoring::formulas::intent_points;

/// The profile fields whose share counts for fit (*filled / total*): first and last name,
/// phone, company, job title and website. The email is always there, so it does not count.
pub const FIT_FIELDS_TOTAL: u8 = 6;

/// What the contact record says about who the person is.
pub fn fit_inputs(contact: &Contact) -> FitInputs {
    let filled =
        |field: &Option<String>| field.as_deref().is_some_and(|text| !text.trim().is_empty());
    let fields = [
        &contact.first_name,
        &contact.last_name,
        &contact.phone,
        &contact.company,
        &contact.job_title,
        &contact.website,
    ];
    FitInputs {
        has_company: filled(&contact.company),
        job_title: contact
            .job_title
            .clone()
            .filter(|title| !title.trim().is_empty()),
        fields_filled: fields.iter().filter(|field| filled(field)).count() as u8,
        fields_total: FIT_FIELDS_TOTAL,
    }
}

/// A linked visitor's stored profile as lead-score input, with the time of its last intent
/// signal. A profile stored before that time was kept has intent points but no time: its last
/// visit stands in (the latest it can have been).
pub fn visitor_activity(profile: &VisitorProfile) -> VisitorActivity {
    let has_intent = intent_points(&profile.totals) > 0.0;
    let last_intent_at = profile
        .last_intent_at
        .or(has_intent.then_some(profile.last_seen));
    VisitorActivity::from_profile(profile, last_intent_at)
}

/// A logged interaction as lead-score input: inbound when the person reached out. A note is
/// the team writing to itself, not contact with the person: `None`.
pub fn interaction_fact(interaction: &Interaction) -> Option<InteractionFact> {
    (interaction.kind != InteractionKind::Note).then_some(InteractionFact {
        at: interaction.occurred_at,
        inbound: interaction.direction == Some(Direction::Inbound),
    })
}

/// Everything the lead score reads, rebuilt from the stored contact, its linked visitors'
/// profiles and its interactions (in any order).
pub fn lead_inputs(
    contact: &Contact,
    profiles: &[VisitorProfile],
    interactions: &[Interaction],
) -> LeadInputs {
    let visitors: Vec<VisitorActivity> = profiles.iter().map(visitor_activity).collect();
    let facts: Vec<InteractionFact> = interactions.iter().filter_map(interaction_fact).collect();
    LeadInputs {
        fit: fit_inputs(contact),
        activity: LeadActivity::recalculate(&visitors, &facts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::Email;
    use crate::engine::{LeadConfig, lead_score};
    use crate::message::VisitorKeyKind;
    use crate::scoring::{BehaviorTotals, Scores};
    use crate::site::SiteId;
    use crate::time::{MILLIS_PER_DAY, Millis};

    const NOW: Millis = Millis(1_763_700_000_000);

    fn contact() -> Contact {
        let mut contact = Contact::new(
            "c1".to_owned(),
            Email::parse("ada@acme.test").unwrap(),
            None,
            NOW,
        );
        contact.first_name = Some("Ada".to_owned());
        contact.company = Some("Acme".to_owned());
        contact.job_title = Some("CTO".to_owned());
        contact.website = Some(" ".to_owned());
        contact
    }

    fn profile(visitor: &str, totals: BehaviorTotals, last_seen: Millis) -> VisitorProfile {
        VisitorProfile {
            site: SiteId::parse("demo").unwrap(),
            visitor: visitor.to_owned(),
            visitor_kind: VisitorKeyKind::FirstParty,
            first_seen: last_seen,
            last_seen,
            sessions: 1,
            visit_days: vec![last_seen.day()],
            totals,
            scores: Scores {
                engagement: 0.0,
                intent: 0.0,
                friction: 0.0,
                churn_risk: 0.0,
            },
            country: None,
            applied_messages: Vec::new(),
            engagement_trend: Default::default(),
            last_intent_at: None,
        }
    }

    fn interaction(kind: InteractionKind, direction: Option<Direction>, at: Millis) -> Interaction {
        Interaction {
            id: format!("i{}", at.0),
            contact_id: "c1".to_owned(),
            kind,
            direction,
            channel: None,
            subject: None,
            content: None,
            outcome: None,
            sentiment: None,
            follow_up_date: None,
            occurred_at: at,
            created_by: "rep".to_owned(),
        }
    }

    #[test]
    fn fit_counts_the_filled_profile_fields_and_ignores_blanks() {
        let fit = fit_inputs(&contact());
        assert_eq!(
            fit,
            FitInputs {
                has_company: true,
                job_title: Some("CTO".to_owned()),
                fields_filled: 3,
                fields_total: FIT_FIELDS_TOTAL,
            }
        );
    }

    #[test]
    fn only_visitors_with_intent_signals_date_the_last_intent() {
        let browsing = profile(
            "a",
            BehaviorTotals::default(),
            Millis(NOW.0 - MILLIS_PER_DAY),
        );
        let pricing = profile(
            "b",
            BehaviorTotals {
                intent_page_views: 1,
                ..BehaviorTotals::default()
            },
            Millis(NOW.0 - 3 * MILLIS_PER_DAY),
        );
        assert_eq!(visitor_activity(&browsing).last_intent_at, None);
        // Stored before the profile kept its own time: the last visit stands in.
        assert_eq!(
            visitor_activity(&pricing).last_intent_at,
            Some(pricing.last_seen)
        );
        let mut dated = pricing.clone();
        dated.last_intent_at = Some(Millis(NOW.0 - 10 * MILLIS_PER_DAY));
        assert_eq!(
            visitor_activity(&dated).last_intent_at,
            dated.last_intent_at
        );
        let inputs = lead_inputs(&contact(), &[browsing, pricing.clone()], &[]);
        assert_eq!(inputs.activity.last_intent_at, Some(pricing.last_seen));
        assert_eq!(inputs.activity.sessions, 2);
    }

    #[test]
    fn notes_are_not_interactions_with_the_person_and_inbound_is_the_direction() {
        let at = Millis(NOW.0 - MILLIS_PER_DAY);
        let interactions = [
            interaction(InteractionKind::Call, Some(Direction::Inbound), at),
            interaction(InteractionKind::Email, Some(Direction::Outbound), at),
            interaction(InteractionKind::Meeting, None, at),
            interaction(InteractionKind::Note, None, NOW),
        ];
        let inputs = lead_inputs(&contact(), &[], &interactions);
        assert_eq!(inputs.activity.interactions, 3);
        assert_eq!(inputs.activity.inbound_interactions, 1);
        assert_eq!(inputs.activity.last_interaction_at, Some(at));
    }

    #[test]
    fn the_order_of_the_stored_inputs_does_not_change_the_score() {
        let pricing = profile(
            "b",
            BehaviorTotals {
                page_views: 4,
                intent_page_views: 2,
                ..BehaviorTotals::default()
            },
            Millis(NOW.0 - 2 * MILLIS_PER_DAY),
        );
        let other = profile(
            "a",
            BehaviorTotals::default(),
            Millis(NOW.0 - MILLIS_PER_DAY),
        );
        let calls = [
            interaction(InteractionKind::Call, Some(Direction::Inbound), NOW),
            interaction(
                InteractionKind::Chat,
                None,
                Millis(NOW.0 - 9 * MILLIS_PER_DAY),
            ),
        ];
        let score = |profiles: &[VisitorProfile], interactions: &[Interaction]| {
            lead_score(
                &lead_inputs(&contact(), profiles, interactions),
                &LeadConfig::default(),
                NOW,
            )
        };
        let forward = score(&[pricing.clone(), other.clone()], &calls);
        let backward = score(&[other, pricing], &[calls[1].clone(), calls[0].clone()]);
        assert_eq!(forward, backward);
        assert_eq!(forward.factors.len(), 5);
    }
}
