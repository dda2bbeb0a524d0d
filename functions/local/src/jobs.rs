//! Scheduled work for the embedded store: the periodic runner and `crm-local job …`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crm_store::clock::{Clock, FixedClock, SystemClock};
use crm_store::sqlite::SqliteTable;
use tokio::sync::watch;

use crate::cli::{JobArgs, JobName, parse_instant};

const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);
/// Items removed per pass, so one pass never holds the store for long.
const RETENTION_BATCH: usize = 1000;

pub const STORE_FILE: &str = "store.db";

/// Removes expired items (raw events past their site's retention) until none are left.
pub async fn retention(table: &SqliteTable, clock: &dyn Clock) -> anyhow::Result<usize> {
    let now_seconds = clock.now().0 / 1000;
    let mut removed = 0;
    loop {
        let batch = table.purge_expired(now_seconds, RETENTION_BATCH).await?;
        removed += batch;
        if batch < RETENTION_BATCH {
            return Ok(removed);
        }
    }
}

pub async fn run_periodically(
    table: Arc<SqliteTable>,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(RETENTION_INTERVAL);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        match retention(&table, clock.as_ref()).await {
            Ok(removed) => tracing::info!(job = "retention", removed, "job done"),
            Err(error) => tracing::warn!(job = "retention", %error, "job failed"),
        }
    }
}

pub async fn run_once(args: JobArgs) -> anyhow::Result<()> {
    let clock: Box<dyn Clock> = match args.now.as_deref() {
        Some(raw) => Box::new(FixedClock(parse_instant(raw)?)),
        None => Box::new(SystemClock),
    };
    let table = open_store(&args.data_dir)?;
    match args.job {
        JobName::Retention => {
            let removed = retention(&table, clock.as_ref()).await?;
            println!("retention: removed {removed} expired items");
        }
    }
    Ok(())
}

pub fn open_store(data_dir: &Path) -> anyhow::Result<SqliteTable> {
    std::fs::create_dir_all(data_dir)?;
    Ok(SqliteTable::open(&data_dir.join(STORE_FILE))?)
}
