//! Applying one visitor's envelopes: read, fold, commit; refold on a concurrent write.

use crm_domain::message::BeaconEnvelope;
use crm_domain::scoring::fold_visitor;
use crm_domain::time::Millis;
use crm_store::repo::BehaviorRepo;
use crm_store::repo::behavior::CommitError;
use crm_store::table::TableError;

/// How often a fold is retried when another scorer wrote the same profile meanwhile.
const MAX_CONFLICT_RETRIES: usize = 20;

#[derive(Debug, Default)]
pub struct GroupOutcome {
    pub applied: usize,
    pub duplicates: usize,
    /// Envelope ids that could not be applied on their own (too large for one transaction).
    pub failed_envelopes: Vec<String>,
}

pub async fn apply_visitor_group(
    behavior: &BehaviorRepo,
    envelopes: &[&BeaconEnvelope],
    retention_days: u32,
    now: Millis,
) -> Result<GroupOutcome, TableError> {
    match apply_together(behavior, envelopes, retention_days, now).await {
        Err(CommitError::TooLarge(items)) if envelopes.len() > 1 => {
            tracing::info!(
                items,
                envelopes = envelopes.len(),
                "fold too large; applying one beacon at a time"
            );
            let mut outcome = GroupOutcome::default();
            for envelope in envelopes {
                match apply_together(
                    behavior,
                    std::slice::from_ref(envelope),
                    retention_days,
                    now,
                )
                .await
                {
                    Ok(single) => {
                        outcome.applied += single.applied;
                        outcome.duplicates += single.duplicates;
                    }
                    Err(CommitError::TooLarge(items)) => {
                        tracing::error!(message = %envelope.id, items, "beacon too large for one transaction");
                        outcome.failed_envelopes.push(envelope.id.clone());
                    }
                    Err(error) => return Err(into_table_error(error)),
                }
            }
            Ok(outcome)
        }
        Err(CommitError::TooLarge(items)) => {
            tracing::error!(items, "beacon too large for one transaction");
            Ok(GroupOutcome {
                failed_envelopes: envelopes
                    .iter()
                    .map(|envelope| envelope.id.clone())
                    .collect(),
                ..GroupOutcome::default()
            })
        }
        Err(error) => Err(into_table_error(error)),
        Ok(outcome) => Ok(outcome),
    }
}

async fn apply_together(
    behavior: &BehaviorRepo,
    envelopes: &[&BeaconEnvelope],
    retention_days: u32,
    now: Millis,
) -> Result<GroupOutcome, CommitError> {
    let Some(first) = envelopes.first() else {
        return Ok(GroupOutcome::default());
    };
    let mut sessions: Vec<&str> = Vec::new();
    for envelope in envelopes {
        if !sessions.contains(&envelope.session.as_str()) {
            sessions.push(&envelope.session);
        }
    }
    let mut raw_events_written = false;
    for _ in 0..MAX_CONFLICT_RETRIES {
        let stored = behavior
            .load_visitor(&first.site, &first.visitor, &sessions)
            .await?;
        let fold = fold_visitor(
            stored.profile.clone(),
            stored.sessions.clone(),
            envelopes,
            now,
        );
        if fold.applied.is_empty() {
            return Ok(GroupOutcome {
                applied: 0,
                duplicates: fold.duplicates.len(),
                failed_envelopes: Vec::new(),
            });
        }
        if !raw_events_written {
            // Written before the fold commits, so a scored beacon always has its raw events.
            for envelope in envelopes
                .iter()
                .filter(|envelope| fold.applied.contains(&envelope.id))
            {
                behavior.put_raw_events(envelope, retention_days).await?;
                if let Some(identify) = &envelope.identify {
                    behavior.put_identify_request(envelope, identify).await?;
                }
            }
            raw_events_written = true;
        }
        match behavior.commit_fold(&fold, &stored).await {
            Ok(()) => {
                return Ok(GroupOutcome {
                    applied: fold.applied.len(),
                    duplicates: fold.duplicates.len(),
                    failed_envelopes: Vec::new(),
                });
            }
            Err(CommitError::Conflict) => {
                tracing::debug!(visitor = %first.visitor, "profile changed concurrently; refolding");
            }
            Err(error) => return Err(error),
        }
    }
    Err(CommitError::Table(TableError::Unavailable(format!(
        "visitor {} kept changing during {MAX_CONFLICT_RETRIES} attempts",
        first.visitor
    ))))
}

fn into_table_error(error: CommitError) -> TableError {
    match error {
        CommitError::Table(error) => error,
        other => TableError::Unavailable(other.to_string()),
    }
}
