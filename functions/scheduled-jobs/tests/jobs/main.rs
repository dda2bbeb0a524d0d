//! The scheduled jobs on the embedded SQLite store: retention per site (raw events, sessions,
//! score changes), decay, segment refresh, bounded runs resuming from the saved cursor, crashes
//! and overlapping runs, and the Lambda handler invoked in-process with EventBridge Scheduler
//! payloads.

#![allow(clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
mod decay;
#[path = "../decay_scenarios/mod.rs"]
mod decay_scenarios;
mod faults;
#[cfg(feature = "lambda")]
mod lambda;
mod requests;
mod retention;
mod retention_privacy;
mod segments;

use std::sync::Arc;

use crm_store::sqlite::SqliteTable;
use crm_store::table::Table;

/// A private in-memory store per test.
fn sqlite() -> Arc<dyn Table> {
    Arc::new(SqliteTable::in_memory().unwrap())
}
