//! Linking the visitor behind a consented `identify` to a contact: reads what
//! [`crm_domain::contacts::identity::decide`] needs, and writes its decision through the same
//! audited, versioned path as the admin API ([`super::change`], [`ContactRepo`]), as the actor
//! `system:identify`.
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | visitor claim | `SITE#{site}#V#{visitor}` | `CONTACT` | `contact`: the contact the visitor is linked to |
//!
//! The contact is found through its email claim (`CEMAIL#{sha256 of the lowercased email}`), so
//! no key ever holds the address. The visitor claim is written in the linking transaction on
//! condition that it is absent (or still names the deleted contact it replaces): two contacts
//! can never both take a visitor, and a redelivered identify finds the link made and writes
//! nothing. A conflict (the visitor is another contact's) is recorded once per message (ids
//! derived from the message id): a timeline entry on each contact naming neither the other
//! contact nor the visitor, and an audit entry naming both, linked from both contacts so that
//! erasing either redacts it. Nothing is merged.
//!
//! The identify request item (`IDENTIFY#{message}` in the visitor's partition, holding the raw
//! traits) is deleted in the transaction that decides it, whatever the decision: once the
//! contact holds the traits it would be a second copy of personal data, and one that links
//! nothing (no usable email) is of no use. Until then it is the durable record of the request.

use std::sync::Arc;

use crm_domain::contacts::identity::{
    IDENTIFY_ACTOR, Identified, IdentityDecision, SkipReason, VisitorClaim, decide, derived_id,
    identify_email,
};
use crm_domain::contacts::{Contact, Transition, VisitorLink};
use crm_domain::message::IdentifyRequest;
use crm_domain::records::Role;
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use serde_json::{Value as Json, json};

use super::audit::{Actor, AuditEntry};
use super::change::{Change, CommitError, Expect, commit};
use super::contacts::ContactRepo;
use super::keys;
use super::outbox::{TransitionMessage, add_transition};
use super::person::{OnErase, PersonRef};
use super::record::Versioned;
use super::scores::transition_entry;
use super::segments::SegmentRepo;
use super::timeline::TimelineEntry;
use super::visitor_claims;
use crate::repo::keys::identify_request;
use crate::table::{Item, Key, MAX_BATCH_GET, Table, TableError, TransactItem};

/// Reads and commits retried when another writer changed the contact or the claim meanwhile.
const MAX_ATTEMPTS: usize = 5;

/// A consented identify as the scorer received it.
#[derive(Debug, Clone, Copy)]
pub struct Identify<'a> {
    pub site: &'a SiteId,
    pub visitor: &'a str,
    /// The beacon's message id: names the records written, so redelivery rewrites nothing new.
    pub message_id: &'a str,
    pub received_at: Millis,
    pub request: &'a IdentifyRequest,
}

/// What linking did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityOutcome {
    /// A new contact was created, linked to the visitor.
    Created {
        contact: String,
    },
    /// The visitor was linked to an existing contact (or its missing claim written).
    Linked {
        contact: String,
    },
    /// The visitor was linked to this contact already.
    AlreadyLinked {
        contact: String,
    },
    /// The visitor is `linked_to`'s; the identify named `contact` (created if it was new).
    Conflict {
        contact: String,
        linked_to: String,
    },
    Skipped(SkipReason),
}

impl IdentityOutcome {
    /// For logs and counts.
    pub fn kind(&self) -> &'static str {
        match self {
            IdentityOutcome::Created { .. } => "created",
            IdentityOutcome::Linked { .. } => "linked",
            IdentityOutcome::AlreadyLinked { .. } => "already_linked",
            IdentityOutcome::Conflict { .. } => "conflict",
            IdentityOutcome::Skipped(_) => "skipped",
        }
    }

    /// The contact the visitor is now linked to, if any.
    pub fn linked_contact(&self) -> Option<&str> {
        match self {
            IdentityOutcome::Created { contact }
            | IdentityOutcome::Linked { contact }
            | IdentityOutcome::AlreadyLinked { contact } => Some(contact),
            IdentityOutcome::Conflict { linked_to, .. } => Some(linked_to),
            IdentityOutcome::Skipped(_) => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The email's claim names a contact that does not exist: a repair for an operator.
    #[error("an email claim names contact {0}, which does not exist")]
    DanglingEmailClaim(String),
    #[error("the contact or the visitor kept changing during {MAX_ATTEMPTS} attempts")]
    Contention,
    #[error(transparent)]
    Table(#[from] TableError),
}

impl IdentityError {
    /// Whether trying the same identify again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            IdentityError::DanglingEmailClaim(_) => false,
            IdentityError::Contention => true,
            IdentityError::Table(error) => error.is_retryable(),
        }
    }
}

#[derive(Clone)]
pub struct IdentityRepo {
    table: Arc<dyn Table>,
    contacts: ContactRepo,
    segments: SegmentRepo,
}

impl IdentityRepo {
    pub fn new(table: Arc<dyn Table>) -> IdentityRepo {
        IdentityRepo {
            contacts: ContactRepo::new(table.clone()),
            segments: SegmentRepo::new(table.clone()),
            table,
        }
    }

    /// Links the identify's visitor to its contact (see the module documentation). Safe to
    /// call again with the same identify, any number of times.
    pub async fn link(
        &self,
        identify: &Identify<'_>,
        now: Millis,
    ) -> Result<IdentityOutcome, IdentityError> {
        let email = match identify_email(identify.request) {
            Ok(email) => email,
            Err(reason) => {
                self.forget_request(identify).await?;
                return Ok(IdentityOutcome::Skipped(reason));
            }
        };
        for _ in 0..MAX_ATTEMPTS {
            let by_email = match self.contacts.id_by_email(&email.normalized()).await? {
                Some(id) => Some(
                    self.contacts
                        .get(&id)
                        .await?
                        .ok_or(IdentityError::DanglingEmailClaim(id))?,
                ),
                None => None,
            };
            let claim = self.claim(identify, by_email.as_ref()).await?;
            let visitor = VisitorLink {
                site: identify.site.to_string(),
                visitor: identify.visitor.to_owned(),
            };
            let new_id = derived_id(now, &format!("contact|{}", identify.message_id));
            let decision = decide(
                identify.request,
                &visitor,
                claim.as_ref(),
                by_email.as_ref().map(|current| &current.record),
                &new_id,
                now,
            );
            match self
                .apply(identify, decision, by_email.as_ref(), claim.as_ref(), now)
                .await
            {
                Ok(outcome) => return Ok(outcome),
                // Another writer changed the contact or took the claim: read again and decide anew.
                Err(CommitError::Conflict { .. })
                | Err(CommitError::Table(
                    TableError::ConditionFailed | TableError::TransactionCanceled { .. },
                )) => continue,
                Err(CommitError::Table(error)) => return Err(error.into()),
            }
        }
        Err(IdentityError::Contention)
    }

    /// The contacts these visitors are linked to (by their claims), each once.
    pub async fn contacts_of_visitors(
        &self,
        visitors: &[(&SiteId, &str)],
    ) -> Result<Vec<String>, TableError> {
        let keys: Vec<Key> = visitors
            .iter()
            .map(|(site, visitor)| keys::visitor_claim(site, visitor))
            .collect();
        let mut contacts: Vec<String> = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            for item in self.table.batch_get(chunk).await? {
                if let Some(contact) = item.get_str("contact")
                    && !contacts.iter().any(|known| known == contact)
                {
                    contacts.push(contact.to_owned());
                }
            }
        }
        Ok(contacts)
    }

    /// The visitor's claim, and whether the contact it names still exists.
    async fn claim(
        &self,
        identify: &Identify<'_>,
        by_email: Option<&Versioned<Contact>>,
    ) -> Result<Option<VisitorClaim>, TableError> {
        let key = keys::visitor_claim(identify.site, identify.visitor);
        let Some(contact) = self
            .table
            .get(&key)
            .await?
            .and_then(|item| item.get_str("contact").map(str::to_owned))
        else {
            return Ok(None);
        };
        let contact_exists = match by_email {
            Some(current) if current.record.id == contact => true,
            _ => self.table.get(&keys::contact(&contact)).await?.is_some(),
        };
        Ok(Some(VisitorClaim {
            contact,
            contact_exists,
        }))
    }

    async fn apply(
        &self,
        identify: &Identify<'_>,
        decision: IdentityDecision,
        by_email: Option<&Versioned<Contact>>,
        claim: Option<&VisitorClaim>,
        now: Millis,
    ) -> Result<IdentityOutcome, CommitError> {
        let request_key = identify_request(identify.site, identify.visitor, identify.message_id);
        match decision {
            IdentityDecision::Skip(reason) => {
                self.forget_request(identify).await?;
                Ok(IdentityOutcome::Skipped(reason))
            }
            IdentityDecision::AlreadyLinked { contact } => {
                self.forget_request(identify).await?;
                Ok(IdentityOutcome::AlreadyLinked { contact })
            }
            IdentityDecision::ClaimOnly { contact } => {
                // Not a change of the contact: the claim only indexes what it holds already.
                let items = vec![
                    claim_put(identify, &contact, claim),
                    TransactItem::Delete {
                        key: request_key,
                        condition: None,
                    },
                ];
                self.table.transact_write(items).await?;
                Ok(IdentityOutcome::Linked { contact })
            }
            IdentityDecision::Link { contact } => {
                let Some(before) = by_email else {
                    return Err(TableError::Invalid("a link without its contact".to_owned()).into());
                };
                let mut change = Change::new();
                self.contacts.add_update(&mut change, before, &contact)?;
                self.segments
                    .add_membership_updates(&mut change, Some(&before.record), &contact, now)
                    .await?;
                change.push(claim_put(identify, &contact.id, claim));
                change.put(linked_entry(identify, &contact.id)?, Expect::Anything);
                change.delete(request_key, Expect::Anything);
                change.audit(&audit(
                    &contact.id,
                    "link_visitor",
                    Some(&before.record),
                    Some(&contact),
                    now,
                    identify.message_id,
                ))?;
                commit(&*self.table, change).await?;
                Ok(IdentityOutcome::Linked {
                    contact: contact.id.clone(),
                })
            }
            IdentityDecision::Create { contact } => {
                let mut change = Change::new();
                self.add_create(&mut change, &contact, now, identify)
                    .await?;
                change.push(claim_put(identify, &contact.id, claim));
                change.put(linked_entry(identify, &contact.id)?, Expect::Anything);
                change.delete(request_key, Expect::Anything);
                commit(&*self.table, change).await?;
                Ok(IdentityOutcome::Created {
                    contact: contact.id.clone(),
                })
            }
            IdentityDecision::Conflict {
                linked_to,
                identified,
            } => {
                let conflict = Conflict::new(identify, &linked_to, identified.id());
                let recorded = match &identified {
                    Identified::Existing(id) => {
                        self.table
                            .get(&keys::timeline(id, identify.received_at, &conflict.id))
                            .await?
                    }
                    Identified::New(_) => None,
                };
                if recorded.is_some() {
                    self.forget_request(identify).await?;
                } else {
                    let mut change = Change::new();
                    if let Identified::New(contact) = &identified {
                        self.add_create(&mut change, contact, now, identify).await?;
                    }
                    conflict.add_to(&mut change)?;
                    change.delete(request_key, Expect::Anything);
                    commit(&*self.table, change).await?;
                }
                Ok(IdentityOutcome::Conflict {
                    contact: identified.id().to_owned(),
                    linked_to,
                })
            }
        }
    }

    /// The writes of a contact created from an identify: the record (with its claim and stage
    /// count), its first lifecycle transition (timeline entry and outbox message) and its audit
    /// entry, as the API creates one.
    async fn add_create(
        &self,
        change: &mut Change,
        contact: &Contact,
        now: Millis,
        identify: &Identify<'_>,
    ) -> Result<(), TableError> {
        self.contacts.add_create(change, contact)?;
        self.segments
            .add_membership_updates(change, None, contact, now)
            .await?;
        let transition = Transition {
            id: derived_id(now, &format!("created|{}", identify.message_id)),
            from: None,
            to: contact.lifecycle_stage,
            at: now,
            reason: "identified on the website".to_owned(),
            actor: IDENTIFY_ACTOR.to_owned(),
        };
        // Like every transition, published through the outbox in the same transaction.
        let message = TransitionMessage::new(&contact.id, &transition, None);
        change.put(
            transition_entry(&contact.id, &message)?.item()?,
            Expect::Absent,
        );
        add_transition(change, &message)?;
        change.audit(&audit(
            &contact.id,
            "create",
            None,
            Some(contact),
            now,
            identify.message_id,
        ))
    }

    /// Deletes the identify request item (see the module documentation).
    async fn forget_request(&self, identify: &Identify<'_>) -> Result<(), TableError> {
        self.table
            .delete(
                &identify_request(identify.site, identify.visitor, identify.message_id),
                None,
            )
            .await
    }
}

/// The visitor's claim naming `contact`: absent before, or replacing the claim of a deleted
/// contact, or rewritten by the contact it names (a link an admin removed and the identify
/// brings back).
fn claim_put(identify: &Identify<'_>, contact: &str, claim: Option<&VisitorClaim>) -> TransactItem {
    visitor_claims::claim_put(
        keys::visitor_claim(identify.site, identify.visitor),
        contact,
        claim.map(|claim| claim.contact.as_str()),
    )
}

fn linked_entry(identify: &Identify<'_>, contact: &str) -> Result<Item, TableError> {
    TimelineEntry {
        id: derived_id(
            identify.received_at,
            &format!("linked|{}", identify.message_id),
        ),
        contact_id: contact.to_owned(),
        at: identify.received_at,
        kind: "visitor_linked".to_owned(),
        summary: format!("identified as a visitor of {}", identify.site),
        detail: json!({ "site": identify.site, "visitor": identify.visitor }),
        actor: IDENTIFY_ACTOR.to_owned(),
    }
    .item()
}

/// A conflict as recorded: a timeline entry on each of the two contacts, naming neither the
/// other contact nor the visitor, and one audit entry (`identity_conflict` / `{conflict id}`)
/// that names both and the visitor, linked from both contacts' partitions so that erasing
/// either redacts it. Every id derives from the message: recording it again rewrites the same
/// items.
struct Conflict<'a> {
    id: String,
    identify: &'a Identify<'a>,
    linked_to: &'a str,
    identified: &'a str,
}

impl<'a> Conflict<'a> {
    fn new(identify: &'a Identify<'a>, linked_to: &'a str, identified: &'a str) -> Conflict<'a> {
        Conflict {
            id: derived_id(
                identify.received_at,
                &format!("conflict|{}", identify.message_id),
            ),
            identify,
            linked_to,
            identified,
        }
    }

    fn add_to(&self, change: &mut Change) -> Result<(), TableError> {
        let at = self.identify.received_at;
        let summaries = [
            (
                self.identified,
                "identified with this contact's email from a web visitor linked to another contact; not merged",
            ),
            (
                self.linked_to,
                "a web visitor linked to this contact identified with another contact's email; not merged",
            ),
        ];
        for (contact, summary) in summaries {
            let entry = TimelineEntry {
                id: self.id.clone(),
                contact_id: contact.to_owned(),
                at,
                kind: "identity_conflict".to_owned(),
                summary: summary.to_owned(),
                detail: json!({ "conflict": self.id }),
                actor: IDENTIFY_ACTOR.to_owned(),
            };
            change.put(entry.item()?, Expect::Anything);
        }
        let entry = AuditEntry::new(
            self.id.clone(),
            at,
            &identify_actor(),
            "identity_conflict",
            &self.id,
            "conflict",
            &Json::Null,
            &json!({
                "site": self.identify.site,
                "visitor": self.identify.visitor,
                "linked_to": self.linked_to,
                "identified": self.identified,
            }),
        )
        .about_person(self.identified);
        let other = PersonRef {
            contact: self.linked_to.to_owned(),
            target: entry.key(),
            on_erase: OnErase::RedactAudit,
        };
        change.put(other.item()?, Expect::Anything);
        change.audit(&entry)
    }
}

fn identify_actor() -> Actor {
    Actor {
        subject: IDENTIFY_ACTOR.to_owned(),
        role: Role::Admin,
    }
}

fn audit(
    contact: &str,
    action: &str,
    before: Option<&Contact>,
    after: Option<&Contact>,
    now: Millis,
    message_id: &str,
) -> AuditEntry {
    let json = |contact: Option<&Contact>| {
        contact
            .and_then(|contact| serde_json::to_value(contact).ok())
            .unwrap_or(Json::Null)
    };
    AuditEntry::new(
        derived_id(now, &format!("audit|{action}|{message_id}")),
        now,
        &identify_actor(),
        "contact",
        contact,
        action,
        &json(before),
        &json(after),
    )
    .about_person(contact)
}
