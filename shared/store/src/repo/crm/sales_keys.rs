//! Key layout of pipelines, deals and segments (documented in docs/data-model.md).
//!
//! | item | pk | sk | indexes |
//! |---|---|---|---|
//! | pipeline | `P#{pipeline}` | `META` | GSI1 `PIPELINES` / `{pipeline}` |
//! | deals per stage | `P#{pipeline}` | `DEALS` | attributes `n#{stage}` |
//! | default seeded | `PIPELINES` | `SEEDED` | |
//! | deal | `D#{deal}` | `META` | GSI1 `DEALS` / `{pipeline}#{deal}`; GSI2 `DEALS#OWNER#{owner}` / `{deal}` |
//! | deal event | `D#{deal}` | `EV#{at ms}#{event}` | |
//! | segment | `G#{segment}` | `META` | GSI1 `SEGMENTS` / `{segment}` |
//! | segment member | `G#{segment}` | `M#{contact}` | |

use crm_domain::time::Millis;

use super::keys::META_SK;
use crate::repo::keys::padded_millis;
use crate::table::Key;

pub const PIPELINES_INDEX_PK: &str = "PIPELINES";
pub const DEAL_COUNTS_SK: &str = "DEALS";
pub const DEALS_INDEX_PK: &str = "DEALS";
pub const DEAL_EVENT_SK_PREFIX: &str = "EV#";
pub const SEGMENTS_INDEX_PK: &str = "SEGMENTS";
pub const MEMBER_SK_PREFIX: &str = "M#";

pub fn pipeline(id: &str) -> Key {
    Key::new(format!("P#{id}"), META_SK)
}

/// The counters of deals per stage of a pipeline. Every deal write moves them in the same
/// transaction, so "does this stage (pipeline) still hold deals" is one conditional write.
pub fn deal_counts(pipeline: &str) -> Key {
    Key::new(format!("P#{pipeline}"), DEAL_COUNTS_SK)
}

/// The counter attribute of one stage in [`deal_counts`].
pub fn stage_counter(stage: &str) -> String {
    format!("n#{stage}")
}

/// Exists once the default pipeline was created: two first requests cannot both seed one.
pub fn default_seeded() -> Key {
    Key::new(PIPELINES_INDEX_PK, "SEEDED")
}

pub fn deal_partition(id: &str) -> String {
    format!("D#{id}")
}

pub fn deal(id: &str) -> Key {
    Key::new(deal_partition(id), META_SK)
}

/// GSI1 sort key of a deal: its pipeline's deals are one prefix of the `DEALS` partition.
pub fn deal_index_sk(pipeline: &str, deal: &str) -> String {
    format!("{pipeline}#{deal}")
}

pub fn owner_index(owner: &str) -> String {
    format!("DEALS#OWNER#{owner}")
}

pub fn deal_event(deal: &str, at: Millis, event: &str) -> Key {
    Key::new(
        deal_partition(deal),
        format!("{DEAL_EVENT_SK_PREFIX}{}#{event}", padded_millis(at)),
    )
}

pub fn segment_partition(id: &str) -> String {
    format!("G#{id}")
}

pub fn segment(id: &str) -> Key {
    Key::new(segment_partition(id), META_SK)
}

pub fn segment_member(segment: &str, contact: &str) -> Key {
    Key::new(
        segment_partition(segment),
        format!("{MEMBER_SK_PREFIX}{contact}"),
    )
}
