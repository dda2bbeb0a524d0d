//! The decay job: materializes every contact's scores as of `now`.
//!
//! # Why a job when reads decay exactly
//! A score read through the engine is exact at any time (decay is computed from the last
//! update and `now`). But the contact record keeps its lead and health scores as whole numbers
//! so that the lists sorted by score (GSI1 `CONTACTS#SCORE`) and the at-risk / high-value lists
//! can be served from an index without reading every contact. Those stored numbers only move
//! when something rescores the contact. This job rescores every contact with `now` through the
//! contact score service (`crm_store::repo::crm::scores`, cause `decay`), so that the stored
//! scores, score-change records, risk levels and automatic lifecycle transitions (a customer
//! whose risk stayed critical, a renewal window that passed) catch up with time.
//!
//! # Bounded, resumable, idempotent
//! A sweep walks the contacts in creation order through GSI1 `CONTACTS#CREATED` (no Scan).
//! One run rescores at most `budget` contacts and saves its position (the index cursor) in the
//! job-state item `JOB#decay` / `STATE` after every page, conditional on the version it read;
//! the next run continues from there, and the run that completes the sweep clears it. A crash
//! before a save redoes the page: rescoring at the same `now` again writes nothing new (the
//! service writes only when a whole score or the stage changes, and derives the ids of what it
//! writes). Two overlapping runs cannot move the position backwards: the slower one stops.
//! Contacts created during a sweep sort after the cursor (UUIDv7 ids) and are reached by it.

use std::sync::Arc;

use crm_domain::engine::ScoreCause;
use crm_domain::time::Millis;
use crm_store::repo::JobStateRepo;
use crm_store::repo::crm::keys;
use crm_store::repo::crm::scores::{ContactScores, RescoreError, Trigger};
use crm_store::table::{Cursor, Index, Page, Query, SortKeyCondition, Table, TableError};
use serde::{Deserialize, Serialize};

use crate::sweep::{SweepState, checkpoint};
use crate::{Budget, JobDeps, JobError, JobKind, JobReport};

/// Contacts read from the index per query (and per saved checkpoint).
const CONTACTS_PAGE: usize = 100;

/// The job-state item's content (`JOB#decay` / `STATE`).
type DecayState = SweepState<Position>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    cursor: Cursor,
    sweep_started_at: Millis,
}

pub(crate) async fn run(deps: &JobDeps, budget: Budget) -> Result<JobReport, JobError> {
    let now = deps.clock.now();
    let job = JobKind::Decay.name();
    let table = &deps.table;
    let states = JobStateRepo::new(Arc::clone(table));
    let stored = states.load::<DecayState>(job).await?;
    let mut version = stored.version;
    let mut state = stored.state.unwrap_or_default();
    let scores = ContactScores::new(Arc::clone(table));
    let trigger = Trigger::system(ScoreCause::Decay);
    let mut report = JobReport::new(JobKind::Decay, now, budget);
    let mut remaining = usize::try_from(budget.get()).unwrap_or(usize::MAX);
    let sweep_started_at = state
        .position
        .as_ref()
        .map_or(now, |position| position.sweep_started_at);
    let mut cursor = state
        .position
        .as_ref()
        .map(|position| position.cursor.clone());

    loop {
        if remaining == 0 {
            break;
        }
        let limit = remaining.min(CONTACTS_PAGE);
        let page = match contacts_page(table.as_ref(), cursor.clone(), limit).await {
            Err(TableError::InvalidCursor) if cursor.is_some() => {
                tracing::warn!(job, "saved cursor refused; starting the sweep again");
                cursor = None;
                continue;
            }
            page => page?,
        };
        for item in &page.items {
            let Some(id) = item.get_str("gsi1sk") else {
                continue;
            };
            report.contacts_rescored += 1;
            match scores.rescore(id, now, &trigger).await {
                Ok(outcome) => {
                    report.contacts_updated += u64::from(outcome.written);
                    report.score_changes_written += outcome.changes.len() as u64;
                    report.transitions_written += outcome.transitions.len() as u64;
                }
                // Deleted since the index was read: nothing to decay.
                Err(RescoreError::NotFound(_)) => {}
                // Busy with other writes: those rescore it; the next sweep does otherwise.
                Err(RescoreError::Contended(_)) => {
                    tracing::warn!(job, contact = id, "contact kept changing; skipped");
                }
                Err(RescoreError::Table(error)) => return Err(error.into()),
            }
        }
        remaining = remaining.saturating_sub(page.items.len());
        cursor = page.next;
        state.position = cursor.clone().map(|cursor| Position {
            cursor,
            sweep_started_at,
        });
        if !checkpoint(&states, &mut state, &mut version, &mut report).await? {
            return Ok(report);
        }
        if cursor.is_none() {
            report.sweep_finished = true;
            break;
        }
    }
    tracing::info!(
        job,
        contacts_rescored = report.contacts_rescored,
        contacts_updated = report.contacts_updated,
        score_changes_written = report.score_changes_written,
        transitions_written = report.transitions_written,
        sweep_finished = report.sweep_finished,
        cursor_saved = report.cursor_saved,
        "decay run done"
    );
    Ok(report)
}

/// Up to `limit` contacts (their creation-order copies), oldest first.
async fn contacts_page(
    table: &dyn Table,
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<Page, TableError> {
    table
        .query(Query {
            index: Some(Index::Gsi1),
            pk: keys::CONTACTS_BY_CREATED_INDEX.to_owned(),
            sk: SortKeyCondition::Any,
            forward: true,
            limit,
            cursor,
        })
        .await
}
