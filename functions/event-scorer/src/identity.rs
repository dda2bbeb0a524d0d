//! After a batch's folds are committed: the consented `identify` requests of the committed
//! visitors link those visitors to contacts ([`crm_store::repo::crm::identity`]).
//!
//! Linking runs for every identify of a committed group, whether its fold applied the message
//! now or a delivery before did: a crash between the commit and the link, or a link that failed,
//! is repaired by the redelivery, and linking again is harmless. A link that fails for a reason
//! that may pass (the store unavailable, contention) fails its message, so the queue delivers it
//! again; the behavior it carried is committed already and the fold skips it then.

use crm_domain::message::BeaconEnvelope;
use crm_domain::time::Millis;
use crm_store::repo::crm::identity::{Identify, IdentityOutcome, IdentityRepo};

use crate::BatchReport;

/// Counts of what linking did in one batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct LinkCounts {
    created: usize,
    linked: usize,
    already_linked: usize,
    conflicts: usize,
    skipped: usize,
    failed: usize,
}

/// Links the identifies among `committed` (transport id, envelope); returns the contacts linked
/// to their visitors. Logs one line with counts; never an email.
pub async fn link_identities(
    identity: &IdentityRepo,
    committed: &[(&str, &BeaconEnvelope)],
    now: Millis,
    report: &mut BatchReport,
) -> Vec<String> {
    let mut counts = LinkCounts::default();
    let mut contacts: Vec<String> = Vec::new();
    for (transport_id, envelope) in committed {
        let Some(request) = &envelope.identify else {
            continue;
        };
        let identify = Identify {
            site: &envelope.site,
            visitor: &envelope.visitor,
            message_id: &envelope.id,
            received_at: envelope.received_at,
            request,
        };
        match identity.link(&identify, now).await {
            Ok(outcome) => {
                match &outcome {
                    IdentityOutcome::Created { .. } => counts.created += 1,
                    IdentityOutcome::Linked { .. } => counts.linked += 1,
                    IdentityOutcome::AlreadyLinked { .. } => counts.already_linked += 1,
                    IdentityOutcome::Conflict { contact, linked_to } => {
                        counts.conflicts += 1;
                        tracing::warn!(
                            message_id = %envelope.id, %contact, %linked_to,
                            "identify from a visitor linked to another contact: recorded, not merged"
                        );
                    }
                    IdentityOutcome::Skipped(reason) => {
                        counts.skipped += 1;
                        tracing::info!(message_id = %envelope.id, reason = reason.as_str(), "identify not linked");
                    }
                }
                if let Some(contact) = outcome.linked_contact()
                    && !contacts.iter().any(|known| known == contact)
                {
                    contacts.push(contact.to_owned());
                }
            }
            Err(error) => {
                counts.failed += 1;
                if error.is_retryable() {
                    tracing::warn!(message_id = %envelope.id, %error, "identify not linked; retrying the message");
                    report.failed.push((*transport_id).to_owned());
                } else {
                    tracing::error!(message_id = %envelope.id, %error, "identify cannot be linked");
                }
            }
        }
    }
    if counts != LinkCounts::default() {
        tracing::info!(
            created = counts.created,
            linked = counts.linked,
            already_linked = counts.already_linked,
            conflicts = counts.conflicts,
            skipped = counts.skipped,
            failed = counts.failed,
            "identities linked"
        );
    }
    contacts
}
