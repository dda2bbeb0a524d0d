//! Why a job run failed, with retryable and permanent failures kept apart.

use crm_store::table::TableError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The payload is not a job request; sending it again cannot help.
    #[error("invalid job request: {0}")]
    InvalidRequest(String),
    /// The store failed. Retryable when the store says so (throttling, a transient fault);
    /// everything the run did before is kept and the next run resumes from the saved cursor.
    #[error("the store failed: {0}")]
    Store(#[from] TableError),
}

impl JobError {
    /// Whether running the same request again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            JobError::InvalidRequest(_) => false,
            JobError::Store(error) => error.is_retryable(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_transient_store_failures_are_retryable() {
        assert!(JobError::Store(TableError::Unavailable("throttled".to_owned())).is_retryable());
        assert!(!JobError::Store(TableError::Invalid("too large".to_owned())).is_retryable());
        assert!(!JobError::InvalidRequest("no job".to_owned()).is_retryable());
    }
}
