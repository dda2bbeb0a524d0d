//! What happened to a deal, in order: creation, stage changes, wins and losses. Each event is
//! also a stage-history entry (from, to, when, who, days spent in the stage left) and a line of
//! the contact's timeline.

use serde::{Deserialize, Serialize};

use super::money::Money;
use crate::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealEventKind {
    Created,
    StageChanged,
    Won,
    Lost,
}

/// One change of a deal's stage. Holds no personal data (no title, no contact): a contact's
/// timeline finds the events through the contact's deals, so erasing the contact leaves nothing
/// here to scrub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealEvent {
    pub deal_id: String,
    pub kind: DealEventKind,
    pub at: Millis,
    /// The token subject who made the change.
    pub actor: String,
    /// `None` for the event that created the deal.
    pub from_stage_id: Option<String>,
    pub to_stage_id: String,
    /// Whole days the deal spent in `from_stage_id` (0 on creation).
    pub days_in_stage: i64,
    pub lost_reason: Option<String>,
    /// The deal's amount when the event happened.
    pub amount: Money,
}
