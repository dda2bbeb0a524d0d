//! Committing a batch's folds: as few transactions as the limits allow (each holds every
//! profile, session and one pending-counters item per site), refolding the visitors another
//! writer changed meanwhile, and isolating a fold the store refuses so the rest still lands.

use crm_domain::time::Millis;
use crm_store::repo::BehaviorRepo;
use crm_store::repo::behavior::CommitError;
use crm_store::table::{MAX_TRANSACT_ITEMS, TableError};

use crate::visitor::PreparedFold;

/// How often a transaction is retried when other scorers wrote some of its profiles meanwhile.
const MAX_CONFLICT_RETRIES: usize = 20;

/// What became of one visitor group.
#[derive(Debug)]
pub enum GroupResult {
    Committed {
        applied: usize,
        duplicates: usize,
    },
    /// Nothing to write: every message was applied before.
    Duplicates(usize),
    /// The group's messages must be retried (or, if the store refuses them, dead-lettered).
    Failed(String),
}

/// Commits every fold; returns each group's result.
pub async fn commit_all(
    behavior: &BehaviorRepo,
    folds: Vec<PreparedFold<'_>>,
    now: Millis,
) -> Vec<(usize, GroupResult)> {
    let mut results = Vec::new();
    let mut chunk: Vec<PreparedFold> = Vec::new();
    let mut chunk_writes = 0;
    for prepared in folds {
        if !prepared.applies_anything() {
            results.push((
                prepared.group,
                GroupResult::Duplicates(prepared.fold.duplicates.len()),
            ));
            continue;
        }
        // Each fold may bring its site's pending-counters item: count one per fold.
        let writes = BehaviorRepo::fold_writes(&prepared.fold) + 1;
        if chunk_writes + writes > MAX_TRANSACT_ITEMS && !chunk.is_empty() {
            results.extend(commit_chunk(behavior, std::mem::take(&mut chunk), now).await);
            chunk_writes = 0;
        }
        chunk_writes += writes;
        chunk.push(prepared);
    }
    if !chunk.is_empty() {
        results.extend(commit_chunk(behavior, chunk, now).await);
    }
    results
}

/// One transaction for the chunk; folds that conflict are refolded and the transaction retried.
async fn commit_chunk(
    behavior: &BehaviorRepo,
    mut chunk: Vec<PreparedFold<'_>>,
    now: Millis,
) -> Vec<(usize, GroupResult)> {
    let mut results = Vec::new();
    for _ in 0..MAX_CONFLICT_RETRIES {
        if chunk.is_empty() {
            return results;
        }
        let pairs: Vec<_> = chunk
            .iter()
            .map(|prepared| (&prepared.fold, &prepared.stored))
            .collect();
        match behavior.commit_folds(&pairs, now).await {
            Ok(()) => {
                results.extend(chunk.iter().map(|prepared| {
                    (
                        prepared.group,
                        GroupResult::Committed {
                            applied: prepared.fold.applied.len(),
                            duplicates: prepared.fold.duplicates.len(),
                        },
                    )
                }));
                return results;
            }
            Err(CommitError::Conflict(positions)) => {
                tracing::debug!(
                    visitors = positions.len(),
                    "profiles changed concurrently; refolding"
                );
                let mut kept = Vec::with_capacity(chunk.len());
                for (position, mut prepared) in chunk.into_iter().enumerate() {
                    if positions.contains(&position) {
                        if let Err(error) = prepared.refold(behavior, now).await {
                            results.push((prepared.group, GroupResult::Failed(error.to_string())));
                            continue;
                        }
                        if !prepared.applies_anything() {
                            let duplicates = prepared.fold.duplicates.len();
                            results.push((prepared.group, GroupResult::Duplicates(duplicates)));
                            continue;
                        }
                    }
                    kept.push(prepared);
                }
                chunk = kept;
            }
            Err(error) if chunk.len() > 1 && refused(&error) => {
                // Find the fold the store refuses by committing each alone.
                tracing::warn!(%error, "transaction refused; committing visitors one by one");
                for prepared in chunk {
                    results.extend(Box::pin(commit_chunk(behavior, vec![prepared], now)).await);
                }
                return results;
            }
            Err(error) => {
                tracing::warn!(%error, visitors = chunk.len(), "folds not committed");
                let why = error.to_string();
                results.extend(
                    chunk
                        .iter()
                        .map(|prepared| (prepared.group, GroupResult::Failed(why.clone()))),
                );
                return results;
            }
        }
    }
    results.extend(chunk.iter().map(|prepared| {
        (
            prepared.group,
            GroupResult::Failed(format!(
                "visitor kept changing during {MAX_CONFLICT_RETRIES} attempts"
            )),
        )
    }));
    results
}

/// Errors that retrying the same transaction cannot fix, but a smaller one may avoid.
fn refused(error: &CommitError) -> bool {
    matches!(
        error,
        CommitError::TooLarge(_)
            | CommitError::Table(TableError::Invalid(_))
            | CommitError::Table(TableError::TransactionCanceled { .. })
    )
}
