//! A contact's timeline entries other than interactions: notes, lifecycle transitions, score
//! changes, deal events. Each lives in the contact's partition (`T#{at}#{id}`), so it goes with
//! the contact on erase. Writers of other resources (deals) add [`TimelineEntry::item`] to their
//! own `Change`.

use crm_domain::retention::{
    DEFAULT_SCORE_CHANGE_RETENTION_DAYS, SCORE_CHANGE_KIND, expires_at_epoch_seconds,
};
use crm_domain::time::Millis;
use serde::{Deserialize, Serialize};

use super::keys;
use crate::repo::codec::{DATA_ATTR, encode};
use crate::repo::keys::padded_millis;
use crate::table::{Item, TTL_ATTR, TableError, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub id: String,
    pub contact_id: String,
    pub at: Millis,
    /// `lifecycle`, `score_change`, `note`, `deal_created`, `deal_stage`, `deal_won`…
    pub kind: String,
    pub summary: String,
    /// Kind-specific fields (`from`, `to`, `reason`, `deal_id`…).
    #[serde(default)]
    pub detail: serde_json::Value,
    pub actor: String,
}

impl TimelineEntry {
    pub fn item(&self) -> Result<Item, TableError> {
        let mut item = Item::new(keys::timeline(&self.contact_id, self.at, &self.id))
            .with(DATA_ATTR, encode(self)?);
        if self.kind == "lifecycle" {
            // Lifecycle transitions are also listed by time across all contacts.
            item = item
                .with("gsi1pk", Value::S(keys::TRANSITIONS_INDEX.to_owned()))
                .with(
                    "gsi1sk",
                    Value::S(format!("{}#{}", padded_millis(self.at), self.id)),
                );
        }
        if self.kind == SCORE_CHANGE_KIND {
            // DynamoDB's TTL removes score-change records after their retention; the retention
            // job removes them on time (and on SQLite, which has no TTL).
            let expires_at = expires_at_epoch_seconds(self.at, DEFAULT_SCORE_CHANGE_RETENTION_DAYS);
            item = item.with(TTL_ATTR, Value::N(expires_at));
        }
        Ok(item)
    }
}
