//! The segments job: re-evaluates every dynamic segment's rules over every contact and brings
//! its memberships up to date, repairing whatever drifted since (contacts created, edited,
//! rescored or decayed since the last refresh).
//!
//! # How
//! A sweep walks the dynamic segments in id order (static segments are maintained by hand and
//! skipped), and for each one the contacts in creation order (GSI1 `CONTACTS#CREATED`), in
//! steps of at most 500 contacts: [`SegmentRepo::refresh_step`], the very step the
//! `POST /crm/segments/{id}/refresh` route runs, reads a page of contacts and their memberships
//! (by key), adds the contacts that match and removes the members that no longer do. Each step
//! that changed a membership leaves an audit entry on the segment (actor `system`, action
//! `refresh`, with the step's counts), as the route does; a step that changed nothing leaves
//! none, so re-running costs reads only.
//!
//! After the contacts, the segment's members are walked (contact-id order, the same step size):
//! a membership whose contact no longer exists — a contact deleted rather than erased leaves
//! them — is removed ([`SegmentRepo::prune_step`]).
//!
//! # Bounded, resumable, idempotent
//! One run examines at most `budget` contacts and members, over all segments together. After
//! every step it saves its position — the segment, the segment's version, the walk and its
//! cursor — in `JOB#segments` / `STATE`, conditional on the version it read; the run that
//! completes the sweep clears it. A segment whose rules changed since its position was saved
//! (another version) is evaluated again from its first contact. A run that dies before saving
//! is redone by the next: memberships already written are found and left alone. Of two
//! overlapping runs, the one whose save finds another version stops (`superseded`).

use std::sync::Arc;

use crm_domain::records::Role;
use crm_domain::segments::Rule;
use crm_domain::time::Millis;
use crm_store::repo::JobStateRepo;
use crm_store::repo::crm::segments::{MAX_CONTACTS_PER_REFRESH, SegmentRepo, StoredSegment};
use crm_store::repo::crm::{AuditEntry, Change, audit::Actor, commit};
use crm_store::table::{Cursor, TableError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::sweep::{SweepState, checkpoint};
use crate::{Budget, JobDeps, JobError, JobKind, JobReport};

/// Segments read per query of the segments index.
const SEGMENTS_PAGE: usize = 100;
/// Who the audit names for the job's membership changes.
pub const SYSTEM_ACTOR: &str = "system";

/// The job-state item's content (`JOB#segments` / `STATE`).
type SegmentsState = SweepState<Position>;

/// The two walks of one segment's refresh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// Every contact: matching ones join, members that no longer match leave.
    #[default]
    Contacts,
    /// Every member: memberships whose contact no longer exists (deleted, not erased) go.
    Members,
}

/// What one step (of either walk) did.
struct Step {
    examined: usize,
    added: usize,
    removed: usize,
    /// The step's counts as its audit entry records them.
    summary: serde_json::Value,
    next: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Position {
    /// The segment being refreshed: segments before it (in id order) are done for this sweep.
    segment: String,
    /// Its version when its refresh began: another version has other rules.
    segment_version: i64,
    /// Which walk of the segment the cursor is in.
    #[serde(default)]
    phase: Phase,
    /// Where its walk over the contacts continues; `None`: at the first contact.
    cursor: Option<Cursor>,
    sweep_started_at: Millis,
}

pub(crate) async fn run(deps: &JobDeps, budget: Budget) -> Result<JobReport, JobError> {
    let now = deps.clock.now();
    let job = JobKind::Segments.name();
    let states = JobStateRepo::new(Arc::clone(&deps.table));
    let stored = states.load::<SegmentsState>(job).await?;
    let mut version = stored.version;
    let mut state = stored.state.unwrap_or_default();
    let mut report = JobReport::new(JobKind::Segments, now, budget);
    let mut remaining = usize::try_from(budget.get()).unwrap_or(usize::MAX);
    let repo = SegmentRepo::new(Arc::clone(&deps.table));
    let segments = dynamic_segments(&repo).await?;
    let sweep_started_at = state
        .position
        .as_ref()
        .map_or(now, |position| position.sweep_started_at);

    // Resume at the saved segment (from its cursor if its rules are the same), or at the next
    // one in id order if it has been deleted or made static since.
    let (mut index, mut phase, mut cursor) = match &state.position {
        None => (0, Phase::Contacts, None),
        Some(position) => {
            let index = segments.partition_point(|(segment, _)| segment.id() < &position.segment);
            let same = segments.get(index).is_some_and(|(segment, _)| {
                segment.id() == &position.segment && segment.version == position.segment_version
            });
            if same {
                (index, position.phase, position.cursor.clone())
            } else {
                (index, Phase::Contacts, None)
            }
        }
    };

    while let Some((segment, rules)) = segments.get(index) {
        if remaining == 0 {
            break;
        }
        report.segments_visited += 1;
        loop {
            if remaining == 0 {
                break;
            }
            let limit = remaining.min(MAX_CONTACTS_PER_REFRESH);
            let step = match phase {
                Phase::Contacts => repo
                    .refresh_step(segment.id(), rules, cursor.clone(), limit, now)
                    .await
                    .map(|step| {
                        report.contacts_scanned += step.examined as u64;
                        Step {
                            examined: step.examined,
                            added: step.added.len(),
                            removed: step.removed.len(),
                            summary: json!({
                                "examined": step.examined,
                                "matched": step.matched,
                                "added": step.added.len(),
                                "removed": step.removed.len(),
                            }),
                            next: step.next,
                        }
                    }),
                Phase::Members => repo
                    .prune_step(segment.id(), cursor.clone(), limit)
                    .await
                    .map(|step| Step {
                        examined: step.examined,
                        added: 0,
                        removed: step.removed.len(),
                        summary: json!({
                            "members_examined": step.examined,
                            "removed_without_contact": step.removed.len(),
                        }),
                        next: step.next,
                    }),
            };
            let step = match step {
                Err(TableError::InvalidCursor) if cursor.is_some() => {
                    tracing::warn!(
                        segment = segment.id(),
                        "saved cursor refused; walking again from the start"
                    );
                    cursor = None;
                    continue;
                }
                step => step?,
            };
            report.members_added += step.added as u64;
            report.members_removed += step.removed as u64;
            record_changes(deps, segment, &step, now).await?;
            remaining = remaining.saturating_sub(step.examined.max(1));
            cursor = step.next;
            let segment_done = cursor.is_none() && phase == Phase::Members;
            if cursor.is_none() {
                phase = Phase::Members;
            }
            if segment_done {
                index += 1;
                phase = Phase::Contacts;
            }
            state.position = match (segment_done, segments.get(index)) {
                (false, _) => Some(Position {
                    segment: segment.id().to_owned(),
                    segment_version: segment.version,
                    phase,
                    cursor: cursor.clone(),
                    sweep_started_at,
                }),
                (true, Some((next, _))) => Some(Position {
                    segment: next.id().to_owned(),
                    segment_version: next.version,
                    phase: Phase::Contacts,
                    cursor: None,
                    sweep_started_at,
                }),
                (true, None) => None,
            };
            if !checkpoint(&states, &mut state, &mut version, &mut report).await? {
                return Ok(report);
            }
            if segment_done {
                break;
            }
        }
    }

    report.sweep_finished = index >= segments.len();
    // A saved position past the last segment (deleted since) still needs clearing.
    if report.sweep_finished && state.position.is_some() {
        state.position = None;
        checkpoint(&states, &mut state, &mut version, &mut report).await?;
    }
    tracing::info!(
        job,
        segments_visited = report.segments_visited,
        contacts_scanned = report.contacts_scanned,
        members_added = report.members_added,
        members_removed = report.members_removed,
        sweep_finished = report.sweep_finished,
        cursor_saved = report.cursor_saved,
        "segments run done"
    );
    Ok(report)
}

/// Every dynamic segment with its rules, in id order.
async fn dynamic_segments(repo: &SegmentRepo) -> Result<Vec<(StoredSegment, Rule)>, TableError> {
    let mut segments = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = repo.list(SEGMENTS_PAGE, cursor).await?;
        segments.extend(page.into_iter().filter_map(|stored| {
            let rules = stored.record.segment.rules.clone()?;
            Some((stored, rules))
        }));
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    segments.sort_by(|(a, _), (b, _)| a.id().cmp(b.id()));
    Ok(segments)
}

trait SegmentId {
    fn id(&self) -> &String;
}

impl SegmentId for StoredSegment {
    fn id(&self) -> &String {
        &self.record.segment.id
    }
}

/// The audit entry of a step that changed memberships (none for a step that changed nothing).
async fn record_changes(
    deps: &JobDeps,
    segment: &StoredSegment,
    step: &Step,
    now: Millis,
) -> Result<(), TableError> {
    if step.added == 0 && step.removed == 0 {
        return Ok(());
    }
    let actor = Actor {
        subject: SYSTEM_ACTOR.to_owned(),
        // There is no role for the system itself; the audit shows the subject.
        role: Role::Admin,
    };
    let entry = AuditEntry::new(
        uuid::Uuid::new_v4().simple().to_string(),
        now,
        &actor,
        "segment",
        segment.id(),
        "refresh",
        &serde_json::Value::Null,
        &json!({ "step": step.summary, "job": JobKind::Segments.name() }),
    );
    let mut change = Change::new();
    change.audit(&entry)?;
    commit(deps.table.as_ref(), change)
        .await
        .map_err(|error| match error {
            crm_store::repo::crm::CommitError::Table(error) => error,
            other => TableError::Invalid(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_position_without_a_walk_resumes_in_the_contacts_walk() {
        let saved = json!({
            "position": {"segment": "hot", "segment_version": 3, "cursor": "abc",
                         "sweep_started_at": 7},
            "last_sweep_finished_at": null
        });
        let state: SegmentsState = serde_json::from_value(saved).unwrap();
        let position = state.position.unwrap();
        assert_eq!(position.phase, Phase::Contacts);
        assert_eq!(position.cursor, Some(Cursor("abc".to_owned())));
    }
}
