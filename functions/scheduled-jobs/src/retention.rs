//! The retention job: deletes raw-event items older than their site's retention.
//!
//! # Why a job when DynamoDB has TTL
//! Every raw-events item carries a `ttl` (received + the site's retention at write time), and on
//! DynamoDB TTL deletes expired items for free — but only eventually, typically within a few days
//! of expiry (AWS documents up to about 48 hours), and expired items stay readable until then.
//! The embedded SQLite store has no TTL at all. This job deletes what has expired and TTL has
//! not removed yet, so retention is honoured on time on DynamoDB and at all on SQLite (where it
//! is the only remover). It also applies a site's *current* retention: when a site shortens it,
//! items written with the longer TTL are removed on the next sweep.
//!
//! # How
//! A sweep walks every site (in id order), and each site's visitors through the visitors index
//! (GSI1 `SITE#{site}#VISITORS`, oldest activity first). For each visitor it queries the
//! visitor's partition for sort keys between `E#` and `E#{cutoff}` — exactly the raw-events
//! items received before `now - retention_days` — and deletes them with `BatchWriteItem`s of at
//! most 25 keys. No Scan. Profiles (`PROFILE`), sessions (`S#…`), identify requests
//! (`IDENTIFY#…`), contacts and deals are never in that range, so they are never touched.
//!
//! # Bounded, resumable, idempotent
//! One run examines at most `budget` visitors. After every page of visitors it saves its
//! position (the site and the index cursor) in the job-state item `JOB#retention` / `STATE`,
//! conditional on the version it read; the next run continues from there, and the run that
//! completes the sweep clears the position so the next one starts over. A run that crashes
//! before saving is redone by the next one: deleting what is already gone is a no-op, and what
//! is still there is found again, so nothing is removed twice or missed. Two overlapping runs
//! cannot move the position backwards: the one whose save finds another version stops early.
//!
//! Walking the index oldest-first means a visitor who becomes active during a sweep moves
//! *ahead* of the cursor and is examined (again) later in the same sweep, never skipped.
//!
//! Not reached: raw events of a visitor that has no profile (the scorer writes raw events just
//! before committing the fold, so only a beacon whose fold never commits leaves them). On
//! DynamoDB their TTL removes them; on SQLite they stay until the visitor's partition is erased.

use std::sync::Arc;

use crm_domain::site::SiteId;
use crm_domain::time::{MILLIS_PER_DAY, Millis};
use crm_store::repo::keys;
use crm_store::repo::{JobStateRepo, SiteRepo};
use crm_store::table::{
    Cursor, Index, Item, MAX_BATCH_WRITE, Query, SortKeyCondition, Table, TableError, WriteRequest,
};
use serde::{Deserialize, Serialize};

use crate::{Budget, JobDeps, JobError, JobKind, JobReport};

/// Visitors read from the index per query (and per saved checkpoint).
const VISITORS_PAGE: usize = 100;
/// Raw-events items read per query of one visitor's partition.
const EVENTS_PAGE: usize = 100;

/// The job-state item's content (`JOB#retention` / `STATE`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct RetentionState {
    /// Where the current sweep continues; `None`: the next run starts a new sweep.
    position: Option<Position>,
    /// When the last complete sweep finished (for operators).
    last_sweep_finished_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    /// The site being walked: sites before it (in id order) are done for this sweep.
    site: SiteId,
    /// Where the walk of the site's visitors index continues; `None`: at its start.
    cursor: Option<Cursor>,
    sweep_started_at: Millis,
}

/// The instant before which a site's raw events have expired as of `now`: an item received at
/// `t` is removed when `t < now - retention_days` (the same instant its `ttl` names).
pub fn raw_events_cutoff(now: Millis, retention_days: u32) -> Millis {
    Millis(
        now.0
            .saturating_sub(i64::from(retention_days).saturating_mul(MILLIS_PER_DAY)),
    )
}

pub(crate) async fn run(deps: &JobDeps, budget: Budget) -> Result<JobReport, JobError> {
    let now = deps.clock.now();
    let job = JobKind::Retention.name();
    let table = &deps.table;
    let states = JobStateRepo::new(Arc::clone(table));
    let stored = states.load::<RetentionState>(job).await?;
    let mut version = stored.version;
    let mut state = stored.state.unwrap_or_default();
    let sites = SiteRepo::new(Arc::clone(table)).list().await?;
    let mut report = JobReport::new(JobKind::Retention, now, budget);
    let mut remaining = usize::try_from(budget.get()).unwrap_or(usize::MAX);

    let sweep_started_at = state
        .position
        .as_ref()
        .map_or(now, |position| position.sweep_started_at);
    // Resume at the saved site, or at the next one in id order if it has been deleted since.
    let (mut index, mut cursor) = match &state.position {
        None => (0, None),
        Some(position) => {
            let index = sites.partition_point(|site| site.id < position.site);
            let same_site = sites
                .get(index)
                .is_some_and(|site| site.id == position.site);
            (index, position.cursor.clone().filter(|_| same_site))
        }
    };

    'sites: while let Some(site) = sites.get(index) {
        if remaining == 0 {
            break;
        }
        report.sites_visited += 1;
        let cutoff = raw_events_cutoff(now, site.retention_days);
        loop {
            if remaining == 0 {
                break 'sites;
            }
            let limit = remaining.min(VISITORS_PAGE);
            let page = match visitors_page(table.as_ref(), &site.id, cursor.clone(), limit).await {
                Err(TableError::InvalidCursor) if cursor.is_some() => {
                    tracing::warn!(site = %site.id, "saved cursor refused; walking the site again");
                    cursor = None;
                    continue;
                }
                page => page?,
            };
            for item in &page.items {
                match visitor_partition(&site.id, item) {
                    Some(partition) => {
                        report.items_removed +=
                            remove_raw_events_before(table.as_ref(), partition, cutoff).await?;
                    }
                    None => tracing::warn!(
                        site = %site.id, pk = %item.key.pk, sk = %item.key.sk,
                        "not a visitor profile in the visitors index; skipped"
                    ),
                }
                report.visitors_scanned += 1;
            }
            remaining = remaining.saturating_sub(page.items.len());
            cursor = page.next;
            let site_done = cursor.is_none();
            if site_done {
                index += 1;
            }
            state.position = match (site_done, sites.get(index)) {
                (false, _) => Some(Position {
                    site: site.id.clone(),
                    cursor: cursor.clone(),
                    sweep_started_at,
                }),
                (true, Some(next_site)) => Some(Position {
                    site: next_site.id.clone(),
                    cursor: None,
                    sweep_started_at,
                }),
                (true, None) => None,
            };
            if !checkpoint(&states, &mut state, &mut version, &mut report).await? {
                return Ok(report);
            }
            if site_done {
                continue 'sites;
            }
        }
    }

    report.sweep_finished = index >= sites.len();
    // A saved position past the last site (its sites were deleted since) still needs clearing.
    if report.sweep_finished && state.position.is_some() {
        state.position = None;
        checkpoint(&states, &mut state, &mut version, &mut report).await?;
    }
    tracing::info!(
        job,
        sites_visited = report.sites_visited,
        visitors_scanned = report.visitors_scanned,
        items_removed = report.items_removed,
        sweep_finished = report.sweep_finished,
        cursor_saved = report.cursor_saved,
        "retention run done"
    );
    Ok(report)
}

/// Saves `state`; returns false (and marks the report superseded) when another run saved first.
async fn checkpoint(
    states: &JobStateRepo,
    state: &mut RetentionState,
    version: &mut i64,
    report: &mut JobReport,
) -> Result<bool, JobError> {
    if state.position.is_none() {
        state.last_sweep_finished_at = Some(report.now);
    }
    match states
        .save(JobKind::Retention.name(), state, *version)
        .await?
    {
        Some(saved) => {
            *version = saved;
            report.cursor_saved = state.position.is_some();
            Ok(true)
        }
        None => {
            tracing::warn!(
                job = JobKind::Retention.name(),
                "another run advanced the retention sweep; this one stops here"
            );
            report.superseded = true;
            report.cursor_saved = false;
            Ok(false)
        }
    }
}

/// Up to `limit` of the site's visitor profiles, least recently active first.
async fn visitors_page(
    table: &dyn Table,
    site: &SiteId,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<crm_store::table::Page, TableError> {
    table
        .query(Query {
            index: Some(Index::Gsi1),
            pk: keys::visitors_index(site),
            sk: SortKeyCondition::Any,
            forward: true,
            limit,
            cursor,
        })
        .await
}

/// The visitor partition a profile item of the visitors index lives in, if it is one.
fn visitor_partition<'a>(site: &SiteId, item: &'a Item) -> Option<&'a str> {
    let prefix = keys::visitor_partition(site, "");
    let is_profile = item.key.sk == keys::PROFILE_SK
        && item
            .key
            .pk
            .strip_prefix(&prefix)
            .is_some_and(|visitor| !visitor.is_empty());
    is_profile.then_some(item.key.pk.as_str())
}

/// Deletes the partition's raw-events items received before `cutoff`; returns how many.
async fn remove_raw_events_before(
    table: &dyn Table,
    partition: &str,
    cutoff: Millis,
) -> Result<u64, TableError> {
    let upper = keys::raw_events_received_before(cutoff);
    let mut removed = 0;
    let mut cursor = None;
    loop {
        let page = table
            .query(Query {
                index: None,
                pk: partition.to_owned(),
                sk: SortKeyCondition::Between(keys::RAW_EVENTS_SK_PREFIX.to_owned(), upper.clone()),
                forward: true,
                limit: EVENTS_PAGE,
                cursor,
            })
            .await?;
        for chunk in page.items.chunks(MAX_BATCH_WRITE) {
            let deletes = chunk
                .iter()
                .map(|item| WriteRequest::Delete(item.key.clone()))
                .collect();
            table.batch_write(deletes).await?;
            removed += chunk.len() as u64;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(removed),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crm_store::table::Key;

    use super::*;

    const DAY: i64 = MILLIS_PER_DAY;

    #[test]
    fn the_cutoff_is_now_minus_the_retention() {
        let now = Millis(100 * DAY + 5);
        assert_eq!(raw_events_cutoff(now, 90), Millis(10 * DAY + 5));
        assert_eq!(raw_events_cutoff(now, 0), now);
    }

    #[test]
    fn a_retention_longer_than_the_epoch_removes_nothing() {
        let cutoff = raw_events_cutoff(Millis(DAY), u32::MAX);
        assert!(cutoff.0 < 0);
        let upper = keys::raw_events_received_before(cutoff);
        let first_possible = keys::raw_events(&site(), "v", Millis(0), "m").sk;
        assert!(first_possible > upper);
    }

    #[test]
    fn the_sort_key_range_holds_exactly_the_items_received_before_the_cutoff() {
        let cutoff = Millis(1_700_000_000_000);
        let upper = keys::raw_events_received_before(cutoff);
        let sk = |ms: i64| keys::raw_events(&site(), "v", Millis(ms), "msg-1").sk;
        let in_range = |sk: &str| sk >= keys::RAW_EVENTS_SK_PREFIX && sk <= upper.as_str();
        assert!(in_range(&sk(cutoff.0 - 1)));
        assert!(in_range(&sk(0)));
        assert!(!in_range(&sk(cutoff.0)));
        assert!(!in_range(&sk(cutoff.0 + 1)));
        for other in ["PROFILE", "S#abc", "IDENTIFY#m", "E"] {
            assert!(!in_range(other), "{other}");
        }
    }

    #[test]
    fn only_profiles_of_the_site_count_as_visitors() {
        let site = site();
        let profile = Item::new(keys::profile(&site, "v1"));
        assert_eq!(
            visitor_partition(&site, &profile),
            Some(keys::visitor_partition(&site, "v1").as_str())
        );
        let other_site = Item::new(keys::profile(&SiteId::parse("other").unwrap(), "v1"));
        assert_eq!(visitor_partition(&site, &other_site), None);
        let session = Item::new(keys::session(&site, "v1", "s1"));
        assert_eq!(visitor_partition(&site, &session), None);
        let empty = Item::new(Key::new(keys::visitor_partition(&site, ""), "PROFILE"));
        assert_eq!(visitor_partition(&site, &empty), None);
    }

    fn site() -> SiteId {
        SiteId::parse("shop").unwrap()
    }
}
