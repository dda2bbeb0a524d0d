//! Scheduled-job state: one item per job (`JOB#{job}` / `STATE`) holding where a bounded,
//! resumable job stopped, so that its next invocation continues from there.
//!
//! Writes are conditional on the version that was read, so two overlapping invocations of the
//! same job cannot move its position backwards: the slower one sees a conflict and stops.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec::{DATA_ATTR, VERSION_ATTR, decode, encode, version};
use super::keys;
use crate::table::{Condition, Item, Table, TableError, Value};

#[derive(Clone)]
pub struct JobStateRepo {
    table: Arc<dyn Table>,
}

/// A job's state as stored, with the version a later [`JobStateRepo::save`] must expect.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredJobState<T> {
    /// `None` when the job never saved a state, or saved one this build can no longer read.
    pub state: Option<T>,
    /// 0 when no state item exists.
    pub version: i64,
}

impl JobStateRepo {
    pub fn new(table: Arc<dyn Table>) -> JobStateRepo {
        JobStateRepo { table }
    }

    /// The job's state. A state that no longer decodes (written by another version of the job) is
    /// reported as absent, with a warning, so the job starts over instead of failing on every
    /// run: every job that keeps a state must be safe to restart from the beginning.
    pub async fn load<T: DeserializeOwned>(
        &self,
        job: &str,
    ) -> Result<StoredJobState<T>, TableError> {
        let Some(item) = self.table.get(&keys::job_state(job)).await? else {
            return Ok(StoredJobState {
                state: None,
                version: 0,
            });
        };
        let state = match decode(&item) {
            Ok(state) => Some(state),
            Err(error) => {
                tracing::warn!(job, %error, "the stored job state is unreadable; starting over");
                None
            }
        };
        Ok(StoredJobState {
            state,
            version: version(&item),
        })
    }

    /// Stores `state` provided the stored version is still `expected_version` (0: no state was
    /// stored). Returns the new version, or `None` when another writer changed the state first.
    pub async fn save<T: Serialize>(
        &self,
        job: &str,
        state: &T,
        expected_version: i64,
    ) -> Result<Option<i64>, TableError> {
        let next_version = expected_version + 1;
        let item = Item::new(keys::job_state(job))
            .with(DATA_ATTR, encode(state)?)
            .with(VERSION_ATTR, Value::N(next_version));
        let condition = if expected_version == 0 {
            Condition::ItemNotExists
        } else {
            Condition::AttrEquals(VERSION_ATTR.to_owned(), Value::N(expected_version))
        };
        match self.table.put(item, Some(condition)).await {
            Ok(()) => Ok(Some(next_version)),
            Err(TableError::ConditionFailed) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::sqlite::SqliteTable;

    fn repo() -> (JobStateRepo, Arc<dyn Table>) {
        let table: Arc<dyn Table> = Arc::new(SqliteTable::in_memory().unwrap());
        (JobStateRepo::new(table.clone()), table)
    }

    #[tokio::test]
    async fn a_saved_state_loads_back_with_its_version() {
        let (jobs, _) = repo();
        assert_eq!(jobs.load::<String>("retention").await.unwrap().version, 0);
        assert_eq!(jobs.save("retention", &"a", 0).await.unwrap(), Some(1));
        assert_eq!(jobs.save("retention", &"b", 1).await.unwrap(), Some(2));
        let stored = jobs.load::<String>("retention").await.unwrap();
        assert_eq!(stored.state.as_deref(), Some("b"));
        assert_eq!(stored.version, 2);
    }

    #[tokio::test]
    async fn a_save_expecting_a_stale_version_changes_nothing() {
        let (jobs, _) = repo();
        jobs.save("retention", &"first", 0).await.unwrap();
        jobs.save("retention", &"second", 1).await.unwrap();
        assert_eq!(jobs.save("retention", &"stale", 1).await.unwrap(), None);
        assert_eq!(jobs.save("retention", &"stale", 0).await.unwrap(), None);
        let stored = jobs.load::<String>("retention").await.unwrap();
        assert_eq!(stored.state.as_deref(), Some("second"));
    }

    #[tokio::test]
    async fn an_unreadable_state_is_absent_but_keeps_its_version() {
        let (jobs, table) = repo();
        let item = Item::new(keys::job_state("retention"))
            .with(DATA_ATTR, Value::S("{not json".to_owned()))
            .with(VERSION_ATTR, Value::N(7));
        table.put(item, None).await.unwrap();
        let stored = jobs.load::<String>("retention").await.unwrap();
        assert_eq!(stored.state, None);
        assert_eq!(stored.version, 7);
        assert_eq!(jobs.save("retention", &"fresh", 7).await.unwrap(), Some(8));
    }
}
