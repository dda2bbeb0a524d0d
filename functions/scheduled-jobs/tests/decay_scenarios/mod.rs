//! The decay job's scenarios, run on every store adapter (`tests/jobs/decay.rs` on SQLite,
//! `tests/aws_decay.rs` on DynamoDB): stored scores follow time, bounded sweeps resume from the
//! saved cursor, a rerun at the same instant writes nothing, and automatic transitions it causes
//! go to the outbox and from there to the transitions queue.

use std::sync::Arc;
use std::time::Duration;

use crm_domain::contacts::interaction::{Interaction, InteractionKind};
use crm_domain::contacts::{Contact, CustomValue, Email, LifecycleStage, VisitorLink};
use crm_domain::engine::ScoreCause;
use crm_domain::time::Millis;
use crm_store::queue::Queue;
use crm_store::repo::codec::decode;
use crm_store::repo::crm::contacts::interaction_item;
use crm_store::repo::crm::outbox::{TransitionMessage, TransitionOutbox};
use crm_store::repo::crm::scores::{ContactScores, Trigger};
use crm_store::repo::crm::{Change, ContactRepo, Expect, TimelineEntry, commit};
use crm_store::sqlite::SqliteQueue;
use crm_store::table::{Query, SortKeyCondition, Table};
use scheduled_jobs::{Budget, JobDeps, JobKind, JobReport, JobRequest, run_job};

use crate::common::crm::audited;
use crate::common::*;

/// Stores a contact (in `stage`, linked to `visitor` of site `demo` when given) with
/// `complaints` complaint calls logged 40 days before [`NOW`] and, if it has any, an NPS of 0.
async fn add_contact(
    table: &Arc<dyn Table>,
    id: &str,
    stage: LifecycleStage,
    visitor: Option<&str>,
    complaints: usize,
) {
    let mut contact = Contact::new(
        id.to_owned(),
        Email::parse(&format!("{id}@example.test")).unwrap(),
        None,
        Millis(NOW.0 - 100 * DAY),
    );
    contact.lifecycle_stage = stage;
    contact.company = Some("Acme".to_owned());
    if let Some(visitor) = visitor {
        contact.linked_visitors = vec![VisitorLink {
            site: "demo".to_owned(),
            visitor: visitor.to_owned(),
        }];
    }
    if complaints > 0 {
        contact
            .custom_fields
            .insert("nps".to_owned(), CustomValue::Number(0.into()));
    }
    let mut change = Change::new();
    ContactRepo::new(Arc::clone(table))
        .add_create(&mut change, &contact)
        .unwrap();
    for n in 0..complaints {
        let interaction = Interaction {
            id: format!("{id}-complaint-{n}"),
            contact_id: id.to_owned(),
            kind: InteractionKind::Call,
            direction: None,
            channel: None,
            subject: None,
            content: None,
            outcome: Some("complaint".to_owned()),
            sentiment: None,
            follow_up_date: None,
            occurred_at: Millis(NOW.0 - 40 * DAY),
            created_by: "rep".to_owned(),
        };
        change.put(interaction_item(&interaction).unwrap(), Expect::Absent);
    }
    audited(&mut change, "contact", id);
    commit(table.as_ref(), change).await.unwrap();
}

async fn contact(table: &Arc<dyn Table>, id: &str) -> Contact {
    ContactRepo::new(Arc::clone(table))
        .get(id)
        .await
        .unwrap()
        .unwrap()
        .record
}

async fn timeline(table: &Arc<dyn Table>, id: &str, kind: &str) -> Vec<TimelineEntry> {
    let page = table
        .query(Query {
            sk: SortKeyCondition::BeginsWith("T#".to_owned()),
            limit: 1000,
            ..Query::partition(format!("C#{id}"))
        })
        .await
        .unwrap();
    page.items
        .iter()
        .map(|item| decode::<TimelineEntry>(item).unwrap())
        .filter(|entry| entry.kind == kind)
        .collect()
}

async fn decay(deps: &JobDeps, budget: Option<u32>) -> JobReport {
    let mut request = JobRequest::new(JobKind::Decay);
    if let Some(budget) = budget {
        request = request.with_budget(Budget::new(budget.into()).unwrap());
    }
    run_job(request, deps).await.expect("the decay run")
}

pub async fn a_month_without_activity_lowers_the_stored_lead_score_and_records_why(
    table: Arc<dyn Table>,
) {
    add_site(&table, "demo", 90).await;
    record_visit(&table, "demo", 90, "ann", HOUR).await;
    add_contact(&table, "c-ann", LifecycleStage::Lead, Some("ann"), 0).await;
    let fresh = ContactScores::new(Arc::clone(&table))
        .rescore("c-ann", NOW, &Trigger::system(ScoreCause::Behavior))
        .await
        .unwrap();
    assert!(fresh.written);
    let before = contact(&table, "c-ann").await.lead_score;
    assert!(before > 0);

    let later = Millis(NOW.0 + 30 * DAY);
    let report = decay(&deps_at(Arc::clone(&table), later), None).await;

    assert_eq!(report.job, JobKind::Decay);
    assert_eq!((report.contacts_rescored, report.contacts_updated), (1, 1));
    assert!(report.sweep_finished && !report.cursor_saved, "{report:?}");
    let after = contact(&table, "c-ann").await.lead_score;
    assert!(after < before, "{before} → {after}");
    let decayed: Vec<TimelineEntry> = timeline(&table, "c-ann", "score_change")
        .await
        .into_iter()
        .filter(|entry| entry.detail["cause"] == "decay")
        .collect();
    assert_eq!(decayed.len(), 1, "{decayed:?}");
    assert_eq!(
        decayed[0].detail["new"].as_f64().map(f64::round),
        Some(f64::from(after))
    );

    let again = decay(&deps_at(Arc::clone(&table), later), None).await;
    assert_eq!((again.contacts_rescored, again.contacts_updated), (1, 0));
    assert_eq!(contact(&table, "c-ann").await.lead_score, after);
    assert_eq!(timeline(&table, "c-ann", "score_change").await.len(), 2);
}

pub async fn a_small_budget_sweeps_every_contact_once_over_several_runs(table: Arc<dyn Table>) {
    for n in 0..5 {
        add_contact(&table, &format!("c-{n}"), LifecycleStage::Lead, None, 0).await;
    }
    let deps = deps_at(Arc::clone(&table), NOW);
    let mut reports = vec![decay(&deps, Some(2)).await];
    assert!(reports[0].cursor_saved && !reports[0].sweep_finished);
    while !reports.last().unwrap().sweep_finished {
        assert!(reports.len() < 10, "the sweep never finishes: {reports:?}");
        reports.push(decay(&deps, Some(2)).await);
    }
    assert_eq!(reports.len(), 3, "{reports:?}");
    let rescored: u64 = reports.iter().map(|report| report.contacts_rescored).sum();
    assert_eq!(rescored, 5);
    // Fit alone (a company and 1 of 6 fields: 100 × (0.30 + 0.35 / 6) = 35.8, weighted 30 %)
    // moves every lead score from 0 to 11.
    for n in 0..5 {
        assert_eq!(contact(&table, &format!("c-{n}")).await.lead_score, 11);
    }
    let next_sweep = decay(&deps, None).await;
    assert_eq!(
        (next_sweep.contacts_rescored, next_sweep.contacts_updated),
        (5, 0)
    );
}

pub async fn a_customer_critical_for_thirty_days_churns_and_the_transition_reaches_the_queue(
    table: Arc<dyn Table>,
) {
    add_contact(&table, "c-sad", LifecycleStage::Customer, None, 2).await;
    add_contact(&table, "c-new", LifecycleStage::Lead, None, 0).await;

    let first = decay(&deps_at(Arc::clone(&table), NOW), None).await;
    assert_eq!(first.transitions_written, 0, "{first:?}");
    let sad = contact(&table, "c-sad").await;
    assert_eq!(sad.lifecycle_stage, LifecycleStage::Customer);
    // The worked example of docs/scoring.md: health 21.9, critical.
    assert_eq!(sad.health_score, Some(22), "{sad:?}");
    assert_eq!(contact(&table, "c-new").await.health_score, None);

    let month_later = Millis(NOW.0 + 31 * DAY);
    let second = decay(&deps_at(Arc::clone(&table), month_later), None).await;
    assert_eq!(second.transitions_written, 1, "{second:?}");
    assert_eq!(
        contact(&table, "c-sad").await.lifecycle_stage,
        LifecycleStage::Churned
    );
    let transitions = timeline(&table, "c-sad", "lifecycle").await;
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    assert_eq!(transitions[0].detail["rule"], "critical_churn_risk");

    let queue = SqliteQueue::in_memory("transitions", None).unwrap();
    let outbox = TransitionOutbox::new(Arc::clone(&table));
    let relayed = outbox.relay(&queue, 100).await.unwrap();
    assert_eq!((relayed.published, relayed.failed), (1, 0));
    assert!(outbox.pending(10).await.unwrap().is_empty());
    let received = queue
        .receive(10, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(received.len(), 1);
    let message: TransitionMessage = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(message.id, transitions[0].id);
    assert_eq!(
        (message.contact_id.as_str(), message.from, message.to),
        (
            "c-sad",
            Some(LifecycleStage::Customer),
            LifecycleStage::Churned
        )
    );
    assert_eq!(message.actor, "system");

    let third = decay(&deps_at(Arc::clone(&table), month_later), None).await;
    assert_eq!(third.transitions_written, 0);
    assert_eq!(outbox.relay(&queue, 100).await.unwrap().published, 0);
}
