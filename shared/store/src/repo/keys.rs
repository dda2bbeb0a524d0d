//! The single-table key layout. Sort keys that order by time use zero-padded numbers so byte
//! order is time order, as DynamoDB compares strings.

use crm_domain::site::SiteId;
use crm_domain::time::Millis;

use crate::table::Key;

pub const PROFILE_SK: &str = "PROFILE";
pub const SESSION_SK_PREFIX: &str = "S#";
pub const RAW_EVENTS_SK_PREFIX: &str = "E#";
pub const SITE_CONFIG_SK: &str = "CONFIG";
pub const SITES_INDEX_PK: &str = "SITES";
/// Deleted sites, which the retention job still sweeps (see `SiteRepo`).
pub const DELETED_SITES_INDEX_PK: &str = "SITES#DELETED";
pub const SESSION_INDEX_SK: &str = "SESSION";
pub const IDENTIFY_PENDING_INDEX_PK: &str = "IDENTIFY#PENDING";
pub const JOB_STATE_SK: &str = "STATE";

/// Milliseconds as 13+ digits, so that sort keys order by time until the year 2286.
pub fn padded_millis(at: Millis) -> String {
    format!("{:013}", at.0.max(0))
}

pub fn site_config(site: &SiteId) -> Key {
    Key::new(format!("SITE#{site}"), SITE_CONFIG_SK)
}

pub fn visitor_partition(site: &SiteId, visitor: &str) -> String {
    format!("SITE#{site}#V#{visitor}")
}

pub fn profile(site: &SiteId, visitor: &str) -> Key {
    Key::new(visitor_partition(site, visitor), PROFILE_SK)
}

pub fn session(site: &SiteId, visitor: &str, session: &str) -> Key {
    Key::new(
        visitor_partition(site, visitor),
        format!("{SESSION_SK_PREFIX}{session}"),
    )
}

pub fn raw_events(site: &SiteId, visitor: &str, received_at: Millis, message_id: &str) -> Key {
    Key::new(
        visitor_partition(site, visitor),
        format!(
            "{RAW_EVENTS_SK_PREFIX}{}#{message_id}",
            padded_millis(received_at)
        ),
    )
}

/// The upper bound (inclusive) of a sort-key range that holds exactly the raw-events items of a
/// visitor received strictly before `before`: `E#{ms}#…` sorts below `E#{before}` iff `ms < before`.
pub fn raw_events_received_before(before: Millis) -> String {
    format!("{RAW_EVENTS_SK_PREFIX}{}", padded_millis(before))
}

pub fn identify_request(site: &SiteId, visitor: &str, message_id: &str) -> Key {
    Key::new(
        visitor_partition(site, visitor),
        format!("IDENTIFY#{message_id}"),
    )
}

/// A session after retention anonymized it: out of any visitor's partition, under the day it
/// started and a random id (`{day, 8 digits}#{id}`), so nothing in its key links it to anyone.
pub fn anonymized_session(site: &SiteId, day: i64, id: &str) -> Key {
    Key::new(
        anonymized_sessions_partition(site),
        format!("{day:08}#{id}"),
    )
}

pub fn anonymized_sessions_partition(site: &SiteId) -> String {
    format!("SITE#{site}#ANON_SESSIONS")
}

/// GSI1 partition listing a site's visitors by last activity.
pub fn visitors_index(site: &SiteId) -> String {
    format!("SITE#{site}#VISITORS")
}

/// GSI2 partition finding a session by its id alone.
pub fn session_index(site: &SiteId, session: &str) -> String {
    format!("SITE#{site}#SESSION#{session}")
}

pub fn daily_aggregate(site: &SiteId, day: i64) -> Key {
    Key::new(format!("SITE#{site}#AGG"), format!("D#{day:08}"))
}

pub fn aggregates_partition(site: &SiteId) -> String {
    format!("SITE#{site}#AGG")
}

pub fn page_counter(site: &SiteId, path: &str) -> Key {
    Key::new(pages_partition(site), path.to_owned())
}

pub fn pages_partition(site: &SiteId) -> String {
    format!("SITE#{site}#PAGES")
}

pub fn friction_partition(site: &SiteId) -> String {
    format!("SITE#{site}#FRICTION")
}

pub fn intent_partition(site: &SiteId) -> String {
    format!("SITE#{site}#INTENT")
}

/// Counters committed with visitor folds and not yet added to the site's counter items, oldest
/// first: `{received millis}#{unique id}`.
pub fn pending_counters(site: &SiteId, committed_at: Millis, id: &str) -> Key {
    Key::new(
        pending_counters_partition(site),
        format!("{}#{id}", padded_millis(committed_at)),
    )
}

pub fn pending_counters_partition(site: &SiteId) -> String {
    format!("SITE#{site}#PENDING")
}

/// When a pending-counters item was committed, from its sort key.
pub fn pending_counters_committed_at(sort_key: &str) -> Option<Millis> {
    let (millis, _) = sort_key.split_once('#')?;
    millis.parse().ok().map(Millis)
}

/// Where a scheduled job (`retention`, `decay`, …) keeps the position it resumes from.
pub fn job_state(job: &str) -> Key {
    Key::new(format!("JOB#{job}"), JOB_STATE_SK)
}
