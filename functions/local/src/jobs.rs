//! Scheduled work on the embedded store: the periodic runner and `crm-local job …`.
//!
//! The jobs themselves are the scheduled-jobs library, the same code the Lambda runs. The
//! embedded store has no TTL, so the runner also removes expired items as DynamoDB's TTL would.

use std::sync::Arc;
use std::time::Duration;

use crm_store::clock::{Clock, FixedClock, SystemClock};
use crm_store::sqlite::SqliteTable;
use scheduled_jobs::{JobDeps, JobKind, JobReport, JobRequest, run_job};
use tokio::sync::watch;

use crate::backend::{Backend, QUEUE_FILE, open_store};
use crate::cli::{JobArgs, JobName, parse_instant};
use crate::transitions;

const JOB_INTERVAL: Duration = Duration::from_secs(3600);
/// The first run waits this long after start: a server that restarts often still runs its jobs,
/// and a start (or a test driving `crm-local job` beside the server) is not raced by them.
const FIRST_RUN_AFTER: Duration = Duration::from_secs(60);
/// Items removed per pass, so one pass never holds the store for long.
const TTL_BATCH: usize = 1000;
/// Invocations of one job per run, each bounded by the job's own budget.
const MAX_INVOCATIONS: usize = 1000;

/// Runs a job until its sweep finishes, as the scheduler would over several invocations.
async fn run_to_completion(job: JobKind, deps: &JobDeps) -> anyhow::Result<Vec<JobReport>> {
    let mut reports = Vec::new();
    for _ in 0..MAX_INVOCATIONS {
        let report = run_job(JobRequest::new(job), deps).await?;
        let finished = report.sweep_finished || report.superseded;
        reports.push(report);
        if finished {
            break;
        }
    }
    Ok(reports)
}

/// What DynamoDB's TTL does for free: delete items whose `ttl` has passed.
async fn expire_items(table: &SqliteTable, clock: &dyn Clock) -> anyhow::Result<usize> {
    let now_seconds = clock.now().0 / 1000;
    let mut removed = 0;
    loop {
        let batch = table.purge_expired(now_seconds, TTL_BATCH).await?;
        removed += batch;
        if batch < TTL_BATCH {
            return Ok(removed);
        }
    }
}

pub async fn run_periodically(
    backend: Backend,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    let deps = JobDeps {
        table: backend.table.clone(),
        clock: clock.clone(),
    };
    let mut interval =
        tokio::time::interval_at(tokio::time::Instant::now() + FIRST_RUN_AFTER, JOB_INTERVAL);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = shutdown.changed() => return,
        }
        match run_to_completion(JobKind::Retention, &deps).await {
            Ok(reports) => {
                let sum = |count: fn(&JobReport) -> u64| reports.iter().map(count).sum::<u64>();
                tracing::info!(
                    job = "retention",
                    removed = sum(|report| report.items_removed),
                    sessions_anonymized = sum(|report| report.sessions_anonymized),
                    score_changes_removed = sum(|report| report.score_changes_removed),
                    invocations = reports.len(),
                    "job done"
                );
            }
            Err(error) => tracing::warn!(job = "retention", %error, "job failed"),
        }
        match run_to_completion(JobKind::Decay, &deps).await {
            Ok(reports) => {
                let sum = |count: fn(&JobReport) -> u64| reports.iter().map(count).sum::<u64>();
                tracing::info!(
                    job = "decay",
                    rescored = sum(|report| report.contacts_rescored),
                    updated = sum(|report| report.contacts_updated),
                    transitions = sum(|report| report.transitions_written),
                    invocations = reports.len(),
                    "job done"
                );
            }
            Err(error) => tracing::warn!(job = "decay", %error, "job failed"),
        }
        match run_to_completion(JobKind::Segments, &deps).await {
            Ok(reports) => {
                let sum = |count: fn(&JobReport) -> u64| reports.iter().map(count).sum::<u64>();
                tracing::info!(
                    job = "segments",
                    added = sum(|report| report.members_added),
                    removed = sum(|report| report.members_removed),
                    invocations = reports.len(),
                    "job done"
                );
            }
            Err(error) => tracing::warn!(job = "segments", %error, "job failed"),
        }
        if let Some(embedded) = &backend.embedded {
            match expire_items(embedded, clock.as_ref()).await {
                Ok(removed) => tracing::info!(job = "ttl", removed, "expired items removed"),
                Err(error) => tracing::warn!(job = "ttl", %error, "expiry failed"),
            }
        }
    }
}

pub async fn run_once(args: JobArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = match args.now.as_deref() {
        Some(raw) => Arc::new(FixedClock(parse_instant(raw)?)),
        None => Arc::new(SystemClock),
    };
    let table = Arc::new(open_store(&args.data_dir)?);
    let deps = JobDeps {
        table: table.clone(),
        clock: clock.clone(),
    };
    match args.job {
        JobName::Retention => {
            for report in run_to_completion(JobKind::Retention, &deps).await? {
                println!("{}", serde_json::to_string(&report)?);
            }
            let expired = expire_items(&table, clock.as_ref()).await?;
            println!(
                "{}",
                serde_json::json!({ "job": "ttl", "items_removed": expired })
            );
        }
        JobName::Decay => {
            for report in run_to_completion(JobKind::Decay, &deps).await? {
                println!("{}", serde_json::to_string(&report)?);
            }
        }
        JobName::Segments => {
            for report in run_to_completion(JobKind::Segments, &deps).await? {
                println!("{}", serde_json::to_string(&report)?);
            }
        }
    }
    // Publish the transitions the job (or anything before it) committed, as the server's relay
    // would: the embedded transitions queue is in the same data directory.
    let queue = transitions::open_queue(&args.data_dir.join(QUEUE_FILE))?;
    let table: Arc<dyn crm_store::table::Table> = table;
    let relayed = transitions::relay_pending(&table, &queue).await?;
    println!(
        "{}",
        serde_json::json!({
            "job": "transitions",
            "published": relayed.published,
            "failed": relayed.failed,
        })
    );
    Ok(())
}
