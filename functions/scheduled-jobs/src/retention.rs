//! The retention job: what each site's retention policy says is due goes — raw events are
//! deleted, old sessions anonymized, old score-change records deleted. The rules (is it due,
//! what an anonymized session keeps) are `crm_domain::retention`; this module only moves data.
//!
//! # Why a job when DynamoDB has TTL
//! Every raw-events item carries a `ttl` (received + the site's retention at write time), and so
//! does every score-change timeline entry (written + 2 years). On DynamoDB TTL deletes expired
//! items for free — but only eventually, typically within a few days of expiry (AWS documents
//! up to about 48 hours), and expired items stay readable until then. The embedded SQLite store
//! has no TTL at all. This job deletes what has expired and TTL has not removed yet, so retention
//! is honoured on time on DynamoDB and at all on SQLite. It also applies a site's *current*
//! retention: when a site shortens it, items written with the longer TTL go on the next sweep.
//! TTL cannot anonymize: sessions are only ever anonymized by this job.
//!
//! # How
//! A sweep has two phases.
//!
//! 1. **Sites.** Every site (in id order), and each site's visitors through the visitors index
//!    (GSI1 `SITE#{site}#VISITORS`, oldest activity first). For each visitor it queries the
//!    visitor's partition for sort keys between `E#` and `E#{cutoff}` — exactly the raw-events
//!    items received before `now - retention_days` — and deletes them with `BatchWriteItem`s of
//!    at most 25 keys. Then it reads the visitor's sessions (`S#…`) and anonymizes each one
//!    whose last activity is older than `session_retention_days`: one transaction puts the
//!    anonymized copy (`SITE#{site}#ANON_SESSIONS` / `{day}#{random id}`: aggregates only) and
//!    deletes the original, on condition that it is unchanged since it was read. A deleted
//!    site (its record kept as a tombstone) is swept too, as if both retentions were zero days
//!    (`RetentionPolicy::after_site_deletion`): every raw event goes, every session is anonymized.
//! 2. **Contacts.** Every contact through the creation-order index (GSI1 `CONTACTS#CREATED`);
//!    for each, the timeline entries older than the score-change retention (sort keys between
//!    `T#` and `T#{cutoff}`) are read and those of kind `score_change` deleted. The contact
//!    record, its other timeline entries, interactions and deals are never written.
//!
//! No Scan. Profiles, identify requests, aggregates, contacts and deals are never touched.
//!
//! # Bounded, resumable, idempotent
//! One run examines at most `budget` visitors and contacts together. After every page it saves
//! its position (the phase, the site and the index cursor) in the job-state item
//! `JOB#retention` / `STATE`, conditional on the version it read; the next run continues from
//! there, and the run that completes the sweep clears the position so the next one starts over.
//! A run that crashes before saving is redone by the next one: deleting what is already gone is
//! a no-op, a session already anonymized is no longer in the visitor's partition (its
//! transaction deleted the original), and what is still there is found again — nothing is
//! removed or anonymized twice, nothing is missed. Two overlapping runs cannot move the position
//! backwards: the one whose save finds another version stops early.
//!
//! Walking the visitors index oldest-first means a visitor who becomes active during a sweep
//! moves *ahead* of the cursor and is examined (again) later in the same sweep, never skipped.
//!
//! Not reached: raw events of a visitor that has no profile (the scorer writes raw events just
//! before committing the fold, so only a beacon whose fold never commits leaves them). On
//! DynamoDB their TTL removes them; on SQLite they stay until the visitor's partition is erased.

use std::sync::Arc;

use crm_domain::retention::{RetentionPolicy, anonymize_session, cutoff};
use crm_domain::scoring::SessionState;
use crm_domain::site::SiteId;
use crm_domain::time::Millis;
use crm_store::repo::codec::{DATA_ATTR, decode, encode};
use crm_store::repo::crm::keys as crm_keys;
use crm_store::repo::crm::timeline::TimelineEntry;
use crm_store::repo::keys;
use crm_store::repo::{JobStateRepo, SiteRepo};
use crm_store::table::{
    Condition, Cursor, Index, Item, MAX_BATCH_WRITE, Page, Query, SortKeyCondition, Table,
    TableError, TransactItem, WriteRequest,
};
use serde::{Deserialize, Serialize};

use crate::sweep::{SweepState, checkpoint};
use crate::{Budget, JobDeps, JobError, JobKind, JobReport};

/// Visitors (or contacts) read from an index per query, and per saved checkpoint.
const INDEX_PAGE: usize = 100;
/// Items read per query of one visitor's or contact's partition.
const PARTITION_PAGE: usize = 100;

/// The job-state item's content (`JOB#retention` / `STATE`).
type RetentionState = SweepState<Position>;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// Raw events and sessions, site by site.
    #[default]
    Sites,
    /// Score-change records, contact by contact.
    Contacts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    #[serde(default)]
    phase: Phase,
    /// In the sites phase, the site being walked: sites before it (in id order) are done.
    #[serde(default)]
    site: Option<SiteId>,
    /// Where the walk of the index (the site's visitors, or the contacts) continues; `None`: at
    /// its start.
    cursor: Option<Cursor>,
    sweep_started_at: Millis,
}

/// The instant before which a site's raw events have expired as of `now`: an item received at
/// `t` is removed when `t < now - retention_days` (the same instant its `ttl` names).
pub fn raw_events_cutoff(now: Millis, retention_days: u32) -> Millis {
    cutoff(now, retention_days)
}

/// One run: its budget, its saved state and what it has done.
struct Run<'a> {
    table: &'a Arc<dyn Table>,
    states: JobStateRepo,
    state: RetentionState,
    version: i64,
    report: JobReport,
    remaining: usize,
    sweep_started_at: Millis,
}

/// Whether a run goes on after a phase.
enum Flow {
    /// The phase is complete.
    Done,
    /// The budget is spent, or another run took over: the run ends here.
    Stop,
}

pub(crate) async fn run(deps: &JobDeps, budget: Budget) -> Result<JobReport, JobError> {
    let now = deps.clock.now();
    let job = JobKind::Retention.name();
    let states = JobStateRepo::new(Arc::clone(&deps.table));
    let stored = states.load::<RetentionState>(job).await?;
    let state = stored.state.unwrap_or_default();
    let sweep_started_at = state
        .position
        .as_ref()
        .map_or(now, |position| position.sweep_started_at);
    let mut run = Run {
        table: &deps.table,
        states,
        version: stored.version,
        state,
        report: JobReport::new(JobKind::Retention, now, budget),
        remaining: usize::try_from(budget.get()).unwrap_or(usize::MAX),
        sweep_started_at,
    };

    let phase = run
        .state
        .position
        .as_ref()
        .map_or(Phase::Sites, |position| position.phase);
    let mut flow = Flow::Done;
    if phase == Phase::Sites {
        flow = sweep_sites(&mut run).await?;
    }
    if matches!(flow, Flow::Done) {
        flow = sweep_contacts(&mut run).await?;
    }
    if matches!(flow, Flow::Done) {
        run.state.position = None;
        if run.checkpoint().await? {
            run.report.sweep_finished = true;
        }
    }

    let report = run.report;
    tracing::info!(
        job,
        sites_visited = report.sites_visited,
        visitors_scanned = report.visitors_scanned,
        contacts_scanned = report.contacts_scanned,
        items_removed = report.items_removed,
        sessions_anonymized = report.sessions_anonymized,
        score_changes_removed = report.score_changes_removed,
        sweep_finished = report.sweep_finished,
        cursor_saved = report.cursor_saved,
        "retention run done"
    );
    Ok(report)
}

/// The sites phase: raw events and sessions of every site's visitors.
async fn sweep_sites(run: &mut Run<'_>) -> Result<Flow, JobError> {
    let now = run.report.now;
    let sites = SiteRepo::new(Arc::clone(run.table)).list().await?;
    // Resume at the saved site, or at the next one in id order if it has been deleted since.
    let (mut index, mut cursor) = match run
        .state
        .position
        .as_ref()
        .and_then(|position| Some((position.site.as_ref()?, position)))
    {
        None => (0, None),
        Some((saved, position)) => {
            let index = sites.partition_point(|site| site.config.id < *saved);
            let same_site = sites
                .get(index)
                .is_some_and(|site| site.config.id == *saved);
            (index, position.cursor.clone().filter(|_| same_site))
        }
    };

    while let Some(site) = sites.get(index) {
        if run.remaining == 0 {
            return Ok(Flow::Stop);
        }
        run.report.sites_visited += 1;
        let policy = if site.is_deleted() {
            RetentionPolicy::after_site_deletion()
        } else {
            RetentionPolicy::for_site(&site.config)
        };
        let site = &site.config;
        loop {
            if run.remaining == 0 {
                return Ok(Flow::Stop);
            }
            let limit = run.remaining.min(INDEX_PAGE);
            let query = index_query(keys::visitors_index(&site.id), cursor.clone(), limit);
            let page = match run.table.query(query).await {
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
                        let table = run.table.as_ref();
                        let raw_cutoff = cutoff(now, policy.raw_events_days);
                        run.report.items_removed +=
                            remove_raw_events_before(table, partition, raw_cutoff).await?;
                        run.report.sessions_anonymized +=
                            anonymize_due_sessions(table, partition, &policy, now).await?;
                    }
                    None => tracing::warn!(
                        site = %site.id, pk = %item.key.pk, sk = %item.key.sk,
                        "not a visitor profile in the visitors index; skipped"
                    ),
                }
                run.report.visitors_scanned += 1;
            }
            run.remaining = run.remaining.saturating_sub(page.items.len());
            cursor = page.next;
            let site_done = cursor.is_none();
            if site_done {
                index += 1;
            }
            run.state.position = Some(match (site_done, sites.get(index)) {
                (false, _) => run.position(Phase::Sites, Some(site.id.clone()), cursor.clone()),
                (true, Some(next_site)) => {
                    run.position(Phase::Sites, Some(next_site.config.id.clone()), None)
                }
                (true, None) => run.position(Phase::Contacts, None, None),
            });
            if !run.checkpoint().await? {
                return Ok(Flow::Stop);
            }
            if site_done {
                break;
            }
        }
    }
    // A saved position past the last site (its sites were deleted since) moves on too.
    if run
        .state
        .position
        .as_ref()
        .is_some_and(|position| position.phase == Phase::Sites)
    {
        run.state.position = Some(run.position(Phase::Contacts, None, None));
    }
    Ok(Flow::Done)
}

/// The contacts phase: score-change records past their retention.
async fn sweep_contacts(run: &mut Run<'_>) -> Result<Flow, JobError> {
    let now = run.report.now;
    let policy = RetentionPolicy::default();
    let mut cursor = run
        .state
        .position
        .as_ref()
        .filter(|position| position.phase == Phase::Contacts)
        .and_then(|position| position.cursor.clone());
    if run.remaining == 0 && cursor.is_none() {
        // The budget went on the sites: the sweep is finished only if there are no contacts.
        let peek = index_query(crm_keys::CONTACTS_BY_CREATED_INDEX.to_owned(), None, 1);
        if run.table.query(peek).await?.items.is_empty() {
            return Ok(Flow::Done);
        }
    }
    loop {
        if run.remaining == 0 {
            return Ok(Flow::Stop);
        }
        let limit = run.remaining.min(INDEX_PAGE);
        let query = index_query(
            crm_keys::CONTACTS_BY_CREATED_INDEX.to_owned(),
            cursor.clone(),
            limit,
        );
        let page = match run.table.query(query).await {
            Err(TableError::InvalidCursor) if cursor.is_some() => {
                tracing::warn!("saved contacts cursor refused; walking the contacts again");
                cursor = None;
                continue;
            }
            page => page?,
        };
        for item in &page.items {
            let removed =
                remove_due_score_changes(run.table.as_ref(), &item.key.pk, &policy, now).await?;
            run.report.score_changes_removed += removed;
            run.report.items_removed += removed;
            run.report.contacts_scanned += 1;
        }
        run.remaining = run.remaining.saturating_sub(page.items.len());
        cursor = page.next;
        let Some(next) = cursor.clone() else {
            return Ok(Flow::Done);
        };
        run.state.position = Some(run.position(Phase::Contacts, None, Some(next)));
        if !run.checkpoint().await? {
            return Ok(Flow::Stop);
        }
    }
}

impl Run<'_> {
    /// Saves the run's state (see [`checkpoint`]).
    async fn checkpoint(&mut self) -> Result<bool, JobError> {
        checkpoint(
            &self.states,
            &mut self.state,
            &mut self.version,
            &mut self.report,
        )
        .await
    }

    fn position(&self, phase: Phase, site: Option<SiteId>, cursor: Option<Cursor>) -> Position {
        Position {
            phase,
            site,
            cursor,
            sweep_started_at: self.sweep_started_at,
        }
    }
}

/// A page of an index partition, in its sort order.
fn index_query(pk: String, cursor: Option<Cursor>, limit: usize) -> Query {
    Query {
        index: Some(Index::Gsi1),
        pk,
        sk: SortKeyCondition::Any,
        forward: true,
        limit,
        cursor,
    }
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

/// Every item of a partition in a sort-key range, page by page.
async fn range_pages(
    table: &dyn Table,
    partition: &str,
    sk: SortKeyCondition,
    cursor: Option<Cursor>,
) -> Result<Page, TableError> {
    table
        .query(Query {
            index: None,
            pk: partition.to_owned(),
            sk,
            forward: true,
            limit: PARTITION_PAGE,
            cursor,
        })
        .await
}

async fn delete_all(table: &dyn Table, items: &[&Item]) -> Result<u64, TableError> {
    for chunk in items.chunks(MAX_BATCH_WRITE) {
        let deletes = chunk
            .iter()
            .map(|item| WriteRequest::Delete(item.key.clone()))
            .collect();
        table.batch_write(deletes).await?;
    }
    Ok(items.len() as u64)
}

/// Deletes the partition's raw-events items received before `cutoff`; returns how many.
async fn remove_raw_events_before(
    table: &dyn Table,
    partition: &str,
    cutoff: Millis,
) -> Result<u64, TableError> {
    let range = SortKeyCondition::Between(
        keys::RAW_EVENTS_SK_PREFIX.to_owned(),
        keys::raw_events_received_before(cutoff),
    );
    let mut removed = 0;
    let mut cursor = None;
    loop {
        let page = range_pages(table, partition, range.clone(), cursor).await?;
        removed += delete_all(table, &page.items.iter().collect::<Vec<_>>()).await?;
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(removed),
        }
    }
}

/// Anonymizes the partition's sessions whose last activity is past the site's session
/// retention; returns how many it anonymized.
async fn anonymize_due_sessions(
    table: &dyn Table,
    partition: &str,
    policy: &RetentionPolicy,
    now: Millis,
) -> Result<u64, TableError> {
    let range = SortKeyCondition::BeginsWith(keys::SESSION_SK_PREFIX.to_owned());
    let mut anonymized = 0;
    let mut cursor = None;
    loop {
        let page = range_pages(table, partition, range.clone(), cursor).await?;
        for item in &page.items {
            let session: SessionState = match decode(item) {
                Ok(session) => session,
                Err(error) => {
                    // Leave what cannot be read as it is: a corrupt row is an operator's call.
                    tracing::warn!(pk = %item.key.pk, sk = %item.key.sk, %error,
                        "unreadable session; not anonymized");
                    continue;
                }
            };
            if policy.session_is_due(&session, now) && anonymize(table, item, &session).await? {
                anonymized += 1;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(anonymized),
        }
    }
}

/// Replaces one session by its anonymized copy in one transaction; false when the session
/// changed or went meanwhile (the transaction then wrote nothing; the next sweep looks again).
async fn anonymize(
    table: &dyn Table,
    original: &Item,
    session: &SessionState,
) -> Result<bool, TableError> {
    let anonymized = anonymize_session(session);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let copy = Item::new(keys::anonymized_session(
        &anonymized.site,
        anonymized.day,
        &id,
    ))
    .with(DATA_ATTR, encode(&anonymized)?);
    let unchanged = match original.attrs.get(DATA_ATTR) {
        Some(data) => Condition::AttrEquals(DATA_ATTR.to_owned(), data.clone()),
        None => Condition::ItemExists,
    };
    let writes = vec![
        TransactItem::Put {
            item: copy,
            condition: Some(Condition::ItemNotExists),
        },
        TransactItem::Delete {
            key: original.key.clone(),
            condition: Some(unchanged),
        },
    ];
    match table.transact_write(writes).await {
        Ok(()) => Ok(true),
        Err(TableError::TransactionCanceled { .. } | TableError::ConditionFailed) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Deletes a contact's score-change records past their retention; returns how many. Reads
/// only the timeline entries older than the retention, and deletes nothing else.
async fn remove_due_score_changes(
    table: &dyn Table,
    contact_partition: &str,
    policy: &RetentionPolicy,
    now: Millis,
) -> Result<u64, TableError> {
    let upper = format!(
        "{}{}",
        crm_keys::TIMELINE_SK_PREFIX,
        keys::padded_millis(cutoff(now, policy.score_changes_days))
    );
    let range = SortKeyCondition::Between(crm_keys::TIMELINE_SK_PREFIX.to_owned(), upper);
    let mut removed = 0;
    let mut cursor = None;
    loop {
        let page = range_pages(table, contact_partition, range.clone(), cursor).await?;
        let due: Vec<&Item> = page
            .items
            .iter()
            .filter(|item| match decode::<TimelineEntry>(item) {
                Ok(entry) => policy.timeline_entry_is_due(&entry.kind, entry.at, now),
                Err(error) => {
                    tracing::warn!(pk = %item.key.pk, sk = %item.key.sk, %error,
                        "unreadable timeline entry; kept");
                    false
                }
            })
            .collect();
        removed += delete_all(table, &due).await?;
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

    const DAY: i64 = crm_domain::time::MILLIS_PER_DAY;

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

    #[test]
    fn the_timeline_range_holds_exactly_the_entries_written_before_the_cutoff() {
        let cutoff = Millis(1_700_000_000_000);
        let upper = format!(
            "{}{}",
            crm_keys::TIMELINE_SK_PREFIX,
            keys::padded_millis(cutoff)
        );
        let sk = |ms: i64| crm_keys::timeline("c1", Millis(ms), "entry-1").sk;
        let in_range = |sk: &str| sk >= crm_keys::TIMELINE_SK_PREFIX && sk <= upper.as_str();
        assert!(in_range(&sk(cutoff.0 - 1)));
        assert!(in_range(&sk(0)));
        assert!(!in_range(&sk(cutoff.0)));
        for other in [
            "META",
            "BY_CREATED",
            "I#0000000000001#i",
            "REF#x",
            "FOLLOWUP",
        ] {
            assert!(!in_range(other), "{other}");
        }
    }

    #[test]
    fn a_position_saved_before_the_contacts_phase_existed_resumes_in_the_sites_phase() {
        let saved = serde_json::json!({
            "position": {"site": "shop", "cursor": null, "sweep_started_at": 5},
            "last_sweep_finished_at": null
        });
        let state: RetentionState = serde_json::from_value(saved).unwrap();
        let position = state.position.unwrap();
        assert_eq!(position.phase, Phase::Sites);
        assert_eq!(position.site, Some(site()));
        assert_eq!(position.sweep_started_at, Millis(5));
    }

    fn site() -> SiteId {
        SiteId::parse("shop").unwrap()
    }
}
