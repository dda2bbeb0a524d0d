//! After a batch: the contacts linked to the batch's visitors get their scores recomputed by the
//! contact score service ([`crm_store::repo::crm::scores`]), the same service as
//! `recalculate-score` and the decay job.
//!
//! Best effort, by design: the behavior is committed already, and a rescore that fails (or a
//! contact beyond the per-batch bound) is only logged; the message is not failed, so the
//! behavior is never redone for it. The decay job rescores every contact on its next sweep, so a
//! missed rescore is late, never lost.

use crm_domain::engine::ScoreCause;
use crm_domain::time::Millis;
use crm_store::repo::crm::scores::{ContactScores, Trigger};

/// Contacts rescored per batch at most: a rescore reads the contact's visitors, interactions
/// and deals, and a batch must stay well within the Lambda's time.
pub const MAX_RESCORES_PER_BATCH: usize = 20;

/// What rescoring did in one batch (for the log line and tests).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RescoreCounts {
    pub rescored: usize,
    /// Rescores that wrote the contact (a whole score or the stage changed).
    pub changed: usize,
    pub failed: usize,
    /// Contacts left for the decay job (over [`MAX_RESCORES_PER_BATCH`]).
    pub deferred: usize,
}

pub async fn rescore_contacts(
    scores: &ContactScores,
    contacts: &[String],
    now: Millis,
) -> RescoreCounts {
    let mut counts = RescoreCounts {
        deferred: contacts.len().saturating_sub(MAX_RESCORES_PER_BATCH),
        ..RescoreCounts::default()
    };
    let trigger = Trigger::system(ScoreCause::Behavior);
    for contact in contacts.iter().take(MAX_RESCORES_PER_BATCH) {
        match scores.rescore(contact, now, &trigger).await {
            Ok(outcome) => {
                counts.rescored += 1;
                if outcome.written {
                    counts.changed += 1;
                }
            }
            Err(error) => {
                counts.failed += 1;
                tracing::warn!(%contact, %error, "contact not rescored; the decay job will");
            }
        }
    }
    if contacts.is_empty() {
        return counts;
    }
    tracing::info!(
        rescored = counts.rescored,
        changed = counts.changed,
        failed = counts.failed,
        deferred = counts.deferred,
        "linked contacts rescored"
    );
    counts
}
