//! One visitor's envelopes of a batch: read its state, fold, keep the raw events of what the
//! fold applies. Committing is [`crate::commit`]'s job, for all visitors of a batch at once.

use crm_domain::message::BeaconEnvelope;
use crm_domain::scoring::{VisitorFold, fold_visitor};
use crm_domain::time::Millis;
use crm_store::repo::BehaviorRepo;
use crm_store::repo::behavior::StoredVisitor;
use crm_store::table::TableError;

/// A visitor's fold, ready to commit, and what it started from.
pub struct PreparedFold<'a> {
    /// Position of the visitor's group in the batch.
    pub group: usize,
    pub envelopes: Vec<&'a BeaconEnvelope>,
    pub retention_days: u32,
    pub stored: StoredVisitor,
    pub fold: VisitorFold,
    /// Envelope ids whose raw events are stored already.
    raw_events_written: Vec<String>,
}

impl<'a> PreparedFold<'a> {
    pub async fn prepare(
        behavior: &BehaviorRepo,
        group: usize,
        envelopes: Vec<&'a BeaconEnvelope>,
        retention_days: u32,
        now: Millis,
    ) -> Result<PreparedFold<'a>, TableError> {
        let (stored, fold) = load_and_fold(behavior, &envelopes, now).await?;
        let mut prepared = PreparedFold {
            group,
            envelopes,
            retention_days,
            stored,
            fold,
            raw_events_written: Vec::new(),
        };
        prepared.keep_raw_events(behavior).await?;
        Ok(prepared)
    }

    /// Reads the visitor again and folds anew, after another writer changed its profile.
    pub async fn refold(&mut self, behavior: &BehaviorRepo, now: Millis) -> Result<(), TableError> {
        let (stored, fold) = load_and_fold(behavior, &self.envelopes, now).await?;
        self.stored = stored;
        self.fold = fold;
        self.keep_raw_events(behavior).await
    }

    /// Whether the fold applies anything (it does not when every message was applied before).
    pub fn applies_anything(&self) -> bool {
        !self.fold.applied.is_empty()
    }

    /// Raw events are stored before the fold commits, so a scored beacon always has them;
    /// writing them again (after a crash, or a refold) rewrites the same item.
    async fn keep_raw_events(&mut self, behavior: &BehaviorRepo) -> Result<(), TableError> {
        let unwritten: Vec<&BeaconEnvelope> = self
            .envelopes
            .iter()
            .copied()
            .filter(|envelope| {
                self.fold.applied.contains(&envelope.id)
                    && !self.raw_events_written.contains(&envelope.id)
            })
            .collect();
        if unwritten.is_empty() {
            return Ok(());
        }
        behavior
            .put_raw_events(&unwritten, self.retention_days)
            .await?;
        for envelope in &unwritten {
            if let Some(identify) = &envelope.identify {
                behavior.put_identify_request(envelope, identify).await?;
            }
        }
        self.raw_events_written
            .extend(unwritten.iter().map(|envelope| envelope.id.clone()));
        Ok(())
    }
}

async fn load_and_fold(
    behavior: &BehaviorRepo,
    envelopes: &[&BeaconEnvelope],
    now: Millis,
) -> Result<(StoredVisitor, VisitorFold), TableError> {
    let Some(first) = envelopes.first() else {
        return Err(TableError::Invalid(
            "a visitor group without envelopes".to_owned(),
        ));
    };
    let mut sessions: Vec<&str> = Vec::new();
    for envelope in envelopes {
        if !sessions.contains(&envelope.session.as_str()) {
            sessions.push(&envelope.session);
        }
    }
    let stored = behavior
        .load_visitor(&first.site, &first.visitor, &sessions)
        .await?;
    let fold = fold_visitor(
        stored.profile.clone(),
        stored.sessions.clone(),
        envelopes,
        now,
    );
    Ok((stored, fold))
}
