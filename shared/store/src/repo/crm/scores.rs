//! The contact score service: load what is stored about a contact, let
//! [`crm_domain::contacts::rescore`] decide its lead and health scores, score-change records and
//! automatic lifecycle transitions, and write them in one audited transaction. admin-api's
//! `recalculate-score`, the event scorer (a linked visitor's batch, an identify) and the decay
//! job all call [`ContactScores::rescore`], so every path stores scores the same way.
//!
//! One rescore writes, when the contact's whole lead score, health score or stage changes:
//! the contact (version + 1, so its score index and the at-risk / high-value lists follow), its
//! `SCORES` item (the breakdowns and the churn rule's `critical_since`), a `score_change`
//! timeline entry per change over the threshold, and per automatic transition a `lifecycle`
//! timeline entry, an audit entry and an outbox item ([`super::outbox`]) — all or nothing. When
//! nothing whole changes it writes nothing, except the `SCORES` item when `critical_since` moved.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | materialized scores | `C#{id}` | `SCORES` |
//!
//! Ids of what a rescore writes are derived from the contact, its version and `now`, so a
//! rescore repeated after a crash writes the same items, never a second copy.

use std::sync::Arc;

use crm_domain::contacts::rescore::{Rescore, ScoreSources, ScoreState, ScoringConfig, rescore};
use crm_domain::contacts::{Contact, Interaction, LifecycleStage, Transition};
use crm_domain::deals::Deal;
use crm_domain::engine::{HealthScore, LeadScore, ScoreCause, ScoreChange};
use crm_domain::scoring::VisitorProfile;
use crm_domain::segments::Rule;
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::audit::{Actor, AuditEntry};
use super::change::{Change, CommitError, Expect, commit};
use super::contacts::ContactRepo;
use super::deals::{DealFilter, DealRepo};
use super::keys;
use super::outbox::{TransitionMessage, add_transition};
use super::record::Versioned;
use super::segments::{SegmentRepo, add_membership_updates_by};
use super::timeline::TimelineEntry;
use crate::repo::BehaviorRepo;
use crate::repo::codec::{DATA_ATTR, decode, encode};
use crate::table::{Cursor, Item, Key, Table, TableError};

/// The sort key of a contact's materialized scores.
pub const SCORES_SK: &str = "SCORES";
/// The actor of automatic transitions.
pub const SYSTEM_ACTOR: &str = "system";
/// Interactions and deals read per contact (the newest interactions first).
pub const MAX_INTERACTIONS: usize = 5000;
pub const MAX_DEALS: usize = 200;
/// Attempts when the contact changes under a rescore (each one reloads it).
const ATTEMPTS: usize = 3;
const PAGE: usize = 100;

/// The key of a contact's materialized scores.
pub fn scores_key(contact: &str) -> Key {
    Key::new(keys::contact_partition(contact), SCORES_SK)
}

/// What a rescore did.
#[derive(Debug, Clone, PartialEq)]
pub struct RescoreOutcome {
    /// The contact as stored afterwards, with its version.
    pub contact: Versioned<Contact>,
    pub previous_lead_score: u8,
    pub previous_health_score: Option<u8>,
    pub previous_stage: LifecycleStage,
    pub lead: LeadScore,
    pub health: HealthScore,
    /// The score-change records written.
    pub changes: Vec<ScoreChange>,
    /// The automatic transitions written (and queued in the outbox).
    pub transitions: Vec<TransitionMessage>,
    /// Whether the contact record was written.
    pub written: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RescoreError {
    #[error("no contact {0}")]
    NotFound(String),
    /// The contact kept changing under the rescore; trying again later is fine.
    #[error("the contact {0} kept changing; not rescored")]
    Contended(String),
    #[error(transparent)]
    Table(#[from] TableError),
}

impl RescoreError {
    pub fn is_retryable(&self) -> bool {
        match self {
            RescoreError::NotFound(_) => false,
            RescoreError::Contended(_) => true,
            RescoreError::Table(error) => error.is_retryable(),
        }
    }
}

/// Why a rescore runs, and who runs it: the cause on score-change records, the audit action
/// and the actor of the audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub cause: ScoreCause,
    pub action: String,
    pub actor: Actor,
}

impl Trigger {
    /// A rescore the system runs by itself (the scorer, the decay job): audited as `rescore`
    /// by `system`.
    pub fn system(cause: ScoreCause) -> Trigger {
        Trigger {
            cause,
            action: "rescore".to_owned(),
            actor: Actor {
                subject: SYSTEM_ACTOR.to_owned(),
                // There is no role for the system itself; the audit shows the subject.
                role: crm_domain::records::Role::Admin,
            },
        }
    }
}

#[derive(Clone)]
pub struct ContactScores {
    table: Arc<dyn Table>,
    contacts: ContactRepo,
    behavior: BehaviorRepo,
    deals: DealRepo,
    config: ScoringConfig,
    /// The dynamic segments' rules, read at the first rescore that changes a contact and kept for
    /// this service's life — one scorer batch, one decay run, one API request — instead of once
    /// per changed contact. A rule edited meanwhile reaches the contacts rescored later through
    /// the `segments` job, as it reaches every other contact.
    segment_rules: OnceCell<Vec<(String, Rule)>>,
}

impl ContactScores {
    /// The service with the documented default weights, half-lives and thresholds.
    pub fn new(table: Arc<dyn Table>) -> ContactScores {
        ContactScores::with_config(table, ScoringConfig::default())
    }

    pub fn with_config(table: Arc<dyn Table>, config: ScoringConfig) -> ContactScores {
        ContactScores {
            contacts: ContactRepo::new(table.clone()),
            behavior: BehaviorRepo::new(table.clone()),
            deals: DealRepo::new(table.clone()),
            table,
            config,
            segment_rules: OnceCell::new(),
        }
    }

    /// Rescores the contact as of `now` and stores the result (see the module docs).
    pub async fn rescore(
        &self,
        contact_id: &str,
        now: Millis,
        trigger: &Trigger,
    ) -> Result<RescoreOutcome, RescoreError> {
        for _ in 0..ATTEMPTS {
            let current = self
                .contacts
                .get(contact_id)
                .await?
                .ok_or_else(|| RescoreError::NotFound(contact_id.to_owned()))?;
            let profiles = self.profiles(&current.record).await?;
            let interactions = self.interactions(contact_id).await?;
            let deals = self.deals(contact_id).await?;
            let previous = self.state(contact_id).await?;
            let decided = rescore(
                ScoreSources {
                    contact: &current.record,
                    profiles: &profiles,
                    interactions: &interactions,
                    deals: &deals,
                    previous: previous.as_ref(),
                },
                &self.config,
                trigger.cause,
                now,
            );
            match self
                .store(&current, decided, previous.as_ref(), now, trigger)
                .await
            {
                Ok(outcome) => return Ok(outcome),
                Err(Stored::Retry) => continue,
                Err(Stored::Failed(error)) => return Err(error.into()),
            }
        }
        Err(RescoreError::Contended(contact_id.to_owned()))
    }

    /// The contact's lead score as of `now`, exact: the engine over the inputs of its last
    /// rescore (see [`ScoreState::lead_at`]); `None` before its first rescore.
    pub async fn lead_score_at(
        &self,
        contact_id: &str,
        now: Millis,
    ) -> Result<Option<LeadScore>, TableError> {
        Ok(self
            .state(contact_id)
            .await?
            .map(|state| state.lead_at(&self.config.lead, now)))
    }

    /// The contact's materialized scores, if any were stored.
    pub async fn state(&self, contact_id: &str) -> Result<Option<ScoreState>, TableError> {
        match self.table.get(&scores_key(contact_id)).await? {
            Some(item) => Ok(decode(&item).ok()),
            None => Ok(None),
        }
    }

    async fn store(
        &self,
        current: &Versioned<Contact>,
        decided: Rescore,
        previous: Option<&ScoreState>,
        now: Millis,
        trigger: &Trigger,
    ) -> Result<RescoreOutcome, Stored> {
        let before = &current.record;
        let mut outcome = RescoreOutcome {
            contact: current.clone(),
            previous_lead_score: before.lead_score,
            previous_health_score: before.health_score,
            previous_stage: before.lifecycle_stage,
            lead: decided.state.lead.clone(),
            health: decided.state.health.clone(),
            changes: Vec::new(),
            transitions: Vec::new(),
            written: false,
        };
        if !decided.contact_changed(before) {
            let critical_moved = previous.map(|state| state.critical_since)
                != Some(decided.state.critical_since)
                && (previous.is_some() || decided.state.critical_since.is_some());
            // New activity that moved no whole score still moves the clocks reads decay from.
            let inputs_moved =
                previous.map(|state| &state.lead_inputs) != Some(&decided.state.lead_inputs);
            if critical_moved || inputs_moved {
                self.table
                    .put(scores_item(&before.id, &decided.state)?, None)
                    .await?;
            }
            return Ok(outcome);
        }

        let mut after = decided.contact.clone();
        after.updated_at = now;
        let version = current.version;
        let derive = |what: &str| derived_id(&[&before.id, &version.to_string(), what]);
        let mut change = Change::new();
        let write = self.contacts.add_update(&mut change, current, &after)?;
        // Dynamic segments the new scores or stage make the contact join or leave, with it.
        let segment_rules = self
            .segment_rules
            .get_or_try_init(|| async {
                SegmentRepo::new(self.table.clone()).dynamic_rules().await
            })
            .await?;
        add_membership_updates_by(segment_rules, &mut change, Some(before), &after, now)?;
        change.put(scores_item(&before.id, &decided.state)?, Expect::Anything);
        for record in &decided.changes {
            let entry = score_change_entry(&before.id, record, &derive, &trigger.actor.subject);
            change.put(entry.item()?, Expect::Absent);
        }
        let mut from = before.lifecycle_stage;
        for (n, rule_transition) in decided.transitions.iter().enumerate() {
            let transition = Transition {
                id: derive(&format!("transition-{n}")),
                from: Some(from),
                to: rule_transition.to,
                at: now,
                reason: rule_transition.reason.clone(),
                actor: SYSTEM_ACTOR.to_owned(),
            };
            let message =
                TransitionMessage::new(&before.id, &transition, Some(rule_transition.rule));
            change.put(
                transition_entry(&before.id, &message)?.item()?,
                Expect::Absent,
            );
            add_transition(&mut change, &message)?;
            let mut stage_before = before.clone();
            stage_before.lifecycle_stage = from;
            let mut stage_after = before.clone();
            stage_after.lifecycle_stage = rule_transition.to;
            change.audit(&contact_audit(
                derive(&format!("audit-transition-{n}")),
                now,
                &Trigger::system(trigger.cause).actor,
                &before.id,
                "lifecycle_transition",
                &stage_before,
                &stage_after,
            ))?;
            from = rule_transition.to;
            outcome.transitions.push(message);
        }
        change.audit(&contact_audit(
            derive("audit"),
            now,
            &trigger.actor,
            &before.id,
            &trigger.action,
            before,
            &after,
        ))?;
        match commit(&*self.table, change).await {
            Ok(()) => {}
            // The contact changed since it was read (or this very rescore already committed):
            // reload and decide again.
            Err(CommitError::Conflict { failed }) => {
                tracing::debug!(contact = %before.id, ?failed, record = write.record, "rescore raced a write; retrying");
                return Err(Stored::Retry);
            }
            Err(CommitError::Table(error)) => return Err(Stored::Failed(error)),
        }
        outcome.contact = Versioned {
            record: after,
            version: version + 1,
        };
        outcome.changes = decided.changes;
        outcome.written = true;
        Ok(outcome)
    }

    async fn profiles(&self, contact: &Contact) -> Result<Vec<VisitorProfile>, TableError> {
        let mut profiles = Vec::new();
        for link in &contact.linked_visitors {
            let Ok(site) = SiteId::parse(&link.site) else {
                continue;
            };
            if let Some(profile) = self.behavior.get_profile(&site, &link.visitor).await? {
                profiles.push(profile);
            }
        }
        Ok(profiles)
    }

    async fn interactions(&self, contact: &str) -> Result<Vec<Interaction>, TableError> {
        let mut interactions = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let (page, next) = self
                .contacts
                .interactions(contact, PAGE * 10, cursor)
                .await?;
            interactions.extend(page);
            match next {
                Some(next) if interactions.len() < MAX_INTERACTIONS => cursor = Some(next),
                _ => return Ok(interactions),
            }
        }
    }

    async fn deals(&self, contact: &str) -> Result<Vec<Deal>, TableError> {
        let filter = DealFilter {
            contact_id: Some(contact.to_owned()),
            ..DealFilter::default()
        };
        let mut deals = Vec::new();
        let mut cursor = None;
        loop {
            let (page, next) = self.deals.list(&filter, PAGE, cursor).await?;
            deals.extend(page.into_iter().map(|stored| stored.record.deal));
            match next {
                Some(next) if deals.len() < MAX_DEALS => cursor = Some(next),
                _ => return Ok(deals),
            }
        }
    }
}

enum Stored {
    Retry,
    Failed(TableError),
}

impl From<TableError> for Stored {
    fn from(error: TableError) -> Stored {
        Stored::Failed(error)
    }
}

fn scores_item(contact: &str, state: &ScoreState) -> Result<Item, TableError> {
    Ok(Item::new(scores_key(contact)).with(DATA_ATTR, encode(state)?))
}

/// A score-change record as the timeline's `detail`: kind, old, new, factors, cause (the time
/// is the entry's own).
pub fn score_change_detail(record: &ScoreChange) -> Value {
    json!({
        "kind": record.kind,
        "old": record.old,
        "new": record.new,
        "factors": record.factors,
        "cause": record.cause,
    })
}

fn score_change_entry(
    contact: &str,
    record: &ScoreChange,
    derive: &impl Fn(&str) -> String,
    actor: &str,
) -> TimelineEntry {
    let kind = serde_json::to_value(record.kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let cause = serde_json::to_value(record.cause)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let old = record
        .old
        .map_or_else(|| "none".to_owned(), |old| format!("{old}"));
    TimelineEntry {
        id: derive(&format!("score-change-{kind}")),
        contact_id: contact.to_owned(),
        at: record.at,
        kind: "score_change".to_owned(),
        summary: format!("{kind} score {old} → {} ({cause})", record.new),
        detail: score_change_detail(record),
        actor: actor.to_owned(),
    }
}

/// A transition's timeline entry (`lifecycle`), its detail the message (with the rule).
pub fn transition_entry(
    contact: &str,
    message: &TransitionMessage,
) -> Result<TimelineEntry, TableError> {
    let mut detail = serde_json::to_value(message)
        .map_err(|error| TableError::Invalid(format!("cannot encode a transition: {error}")))?;
    if let Some(object) = detail.as_object_mut() {
        object.remove("v");
        object.remove("contact_id");
    }
    Ok(TimelineEntry {
        id: message.id.clone(),
        contact_id: contact.to_owned(),
        at: message.at,
        kind: "lifecycle".to_owned(),
        summary: format!(
            "{} → {}",
            message.from.map_or("(new)", LifecycleStage::as_str),
            message.to.as_str()
        ),
        detail,
        actor: message.actor.clone(),
    })
}

fn contact_audit(
    id: String,
    now: Millis,
    actor: &Actor,
    contact: &str,
    action: &str,
    before: &Contact,
    after: &Contact,
) -> AuditEntry {
    let json = |contact: &Contact| serde_json::to_value(contact).unwrap_or(Value::Null);
    AuditEntry::new(
        id,
        now,
        actor,
        "contact",
        contact,
        action,
        &json(before),
        &json(after),
    )
    .about_person(contact)
}

/// A stable id from its parts: 32 hex digits of their SHA-256.
pub fn derived_id(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(&hasher.finalize()[..16])
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crm_domain::contacts::Email;
    use crm_domain::segments::{Segment, SegmentKind};

    use super::*;
    use crate::metered::MeteredTable;
    use crate::repo::crm::segments::{SegmentRecord, segment_item};
    use crate::sqlite::SqliteTable;

    const NOW: Millis = Millis(1_800_000_000_000);

    async fn add_contact(table: &Arc<dyn Table>, id: &str) {
        let email = Email::parse(&format!("{id}@example.test")).unwrap();
        let mut contact = Contact::new(id.to_owned(), email, None, Millis(NOW.0 - 1_000));
        contact.company = Some("Acme".to_owned());
        let mut change = Change::new();
        ContactRepo::new(Arc::clone(table))
            .add_create(&mut change, &contact)
            .unwrap();
        let actor = Actor {
            subject: "test".to_owned(),
            role: crm_domain::records::Role::Admin,
        };
        let entry = AuditEntry::new(
            format!("audit-{id}"),
            contact.created_at,
            &actor,
            "contact",
            id,
            "create",
            &Value::Null,
            &Value::Null,
        );
        change.audit(&entry).unwrap();
        commit(table.as_ref(), change).await.unwrap();
    }

    /// The read requests of one rescore.
    async fn reads_of(metered: &MeteredTable, scores: &ContactScores, id: &str) -> u64 {
        let before = metered.usage().read_requests;
        let trigger = Trigger::system(ScoreCause::ProfileChange);
        scores.rescore(id, NOW, &trigger).await.unwrap();
        metered.usage().read_requests - before
    }

    #[tokio::test]
    async fn one_service_reads_the_segment_rules_once_for_all_the_contacts_it_rescores() {
        let metered = Arc::new(MeteredTable::new(Arc::new(
            SqliteTable::in_memory().unwrap(),
        )));
        let table: Arc<dyn Table> = metered.clone();
        let rules = serde_json::from_value(json!(
            {"all": [{"field": "lead_score", "op": "gte", "value": 1}]}
        ))
        .unwrap();
        let segment = SegmentRecord {
            segment: Segment {
                id: "scored".to_owned(),
                name: "Scored".to_owned(),
                description: None,
                kind: SegmentKind::Dynamic,
                rules: Some(rules),
                refreshed_at: None,
            },
            created_at: NOW,
            updated_at: NOW,
        };
        table
            .put(segment_item(&segment, 1).unwrap(), None)
            .await
            .unwrap();
        for id in ["a", "b", "c"] {
            add_contact(&table, id).await;
        }
        let scores = ContactScores::new(Arc::clone(&table));
        let first = reads_of(&metered, &scores, "a").await;
        let second = reads_of(&metered, &scores, "b").await;
        let fresh = reads_of(&metered, &ContactScores::new(Arc::clone(&table)), "c").await;
        assert_eq!(second, first - 1, "the rules are not read again");
        assert_eq!(fresh, first, "a new service reads them");
        let segments = SegmentRepo::new(table);
        for id in ["a", "b", "c"] {
            assert!(
                segments.is_member("scored", id).await.unwrap(),
                "{id} joined"
            );
        }
    }
}
