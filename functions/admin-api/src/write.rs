//! Committing an audited change to a versioned record, with the conflict mapped the way every
//! route maps it.

use crm_store::repo::crm::{Change, CommitError, commit};
use crm_store::table::Table;

use crate::error::ApiError;
use crate::extract::IfMatch;

/// Commits `change`, in which the record's own write is item `record`. When that write's
/// version condition fails, the record changed after it was read: 412 if the client sent
/// `If-Match` (its copy is stale), else 409 (retry). Other failed conditions are 409.
pub async fn commit_record(
    table: &dyn Table,
    change: Change,
    record: usize,
    if_match: IfMatch,
) -> Result<(), ApiError> {
    match commit(table, change).await {
        Ok(()) => Ok(()),
        Err(error) if error.failed_at(record) && if_match.given() => Err(
            ApiError::PreconditionFailed("the record changed since it was read".to_owned()),
        ),
        Err(error @ CommitError::Conflict { .. }) => Err(error.into()),
        Err(error) => Err(error.into()),
    }
}
