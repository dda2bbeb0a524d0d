//! Opening a SQLite database with the settings every adapter relies on (WAL, `synchronous=FULL`,
//! a busy timeout) and running blocking work on it from async code.
//!
//! One connection per database handle, behind a mutex: SQLite serialises writers anyway, and a
//! single connection keeps transactions simple. Work runs in `spawn_blocking` so a slow fsync never
//! stalls the async runtime.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use crate::queue::QueueError;
use crate::table::TableError;

/// How long a statement waits for a lock held by another connection before reporting busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the SQLite database {path}: {reason}")]
    Database { path: PathBuf, reason: String },
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
}

/// A shared handle on one SQLite connection.
#[derive(Clone)]
pub(crate) struct Database {
    connection: Arc<Mutex<Connection>>,
}

impl Database {
    /// Opens (creating if needed) the database file with durable settings and runs `schema`.
    pub(crate) fn open(
        path: &Path,
        schema: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Database, OpenError> {
        let failed = |error: rusqlite::Error| OpenError::Database {
            path: path.to_owned(),
            reason: error.to_string(),
        };
        let connection = Connection::open(path).map_err(failed)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        let mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(failed)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::Database {
                path: path.to_owned(),
                reason: format!("the database refused WAL mode (journal_mode is {mode})"),
            });
        }
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(failed)?;
        schema(&connection).map_err(failed)?;
        Ok(Database {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// A private database that lives as long as its handles (tests, demos).
    pub(crate) fn in_memory(
        schema: impl FnOnce(&Connection) -> rusqlite::Result<()>,
    ) -> Result<Database, OpenError> {
        let failed = |error: rusqlite::Error| OpenError::Database {
            path: PathBuf::from(":memory:"),
            reason: error.to_string(),
        };
        let connection = Connection::open_in_memory().map_err(failed)?;
        schema(&connection).map_err(failed)?;
        Ok(Database {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` with exclusive use of the connection on the blocking pool.
    pub(crate) async fn call<T, E>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: StoreFault + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        let task = tokio::task::spawn_blocking(move || {
            // A panic while holding the lock rolled its transaction back when it unwound, so the
            // connection is still consistent: keep using it.
            let mut guard = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut guard)
        });
        match task.await {
            Ok(result) => result,
            Err(error) => Err(E::unavailable(format!(
                "the database task did not finish: {error}"
            ))),
        }
    }
}

/// Errors of a port that can say "the store is unavailable".
pub(crate) trait StoreFault {
    fn unavailable(reason: String) -> Self;

    /// A SQLite failure: busy, locked, I/O, full disk or a damaged file. All are reported as the
    /// store being unavailable, which callers treat as retryable.
    fn sqlite(error: rusqlite::Error) -> Self
    where
        Self: Sized,
    {
        let kind = match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => "busy",
            Some(ErrorCode::SystemIoFailure | ErrorCode::DiskFull | ErrorCode::CannotOpen) => "i/o",
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => "corrupt",
            _ => "sqlite",
        };
        tracing::warn!(kind, %error, "sqlite operation failed");
        Self::unavailable(format!("{kind}: {error}"))
    }
}

impl StoreFault for TableError {
    fn unavailable(reason: String) -> Self {
        TableError::Unavailable(reason)
    }
}

impl StoreFault for QueueError {
    fn unavailable(reason: String) -> Self {
        QueueError::Unavailable(reason)
    }
}
